// Opening refuses, without writing a byte, any file that is not a store this build can use.
#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "db/errors.hpp"
#include "store_test_util.hpp"

namespace sg::db {
namespace {

using testing::RawDb;
using testing::TempDir;
namespace fs = std::filesystem;

// Opening `file` must fail with InputError naming it and saying `why`, and leave it as it was.
void expect_refused_untouched(const fs::path& file, const std::string& why) {
  const auto before = testing::file_bytes(file);
  try {
    Store store(file);
    ADD_FAILURE() << "opened " << file;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
  EXPECT_EQ(testing::file_bytes(file), before) << "the refused file was changed";
  EXPECT_FALSE(fs::exists(file.string() + "-wal"));
}

TEST(Open, CreatesAMissingStoreInWalMode) {
  TempDir dir;
  { Store store(dir / "new.db"); }
  RawDb raw(dir / "new.db");
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST(Open, ForeignKeysAreEnforced) {
  TempDir dir;
  Store store(dir / "a.db");
  DecisionRecord d;
  d.stage = "small";
  d.checkpoint_id = 42;  // no such checkpoint
  d.decision = "approved";
  EXPECT_THROW(testing::append_decision(store, d), InputError);
  EXPECT_TRUE(store.decisions().empty());
}

TEST(Open, CheckConstraintsGuardStatusValues) {
  TempDir dir;
  Store store(dir / "a.db");
  DecisionRecord d;
  d.stage = "small";
  d.checkpoint_id = testing::add_checkpoint(store);
  d.decision = "maybe";
  EXPECT_THROW(testing::append_decision(store, d), ConstraintError);
}

TEST(Open, TextFileIsRefusedAndUntouched) {
  TempDir dir;
  testing::write_file(dir / "notes.db", "these are my notes, not a database\n");
  expect_refused_untouched(dir / "notes.db", "not an SQLite database");
}

TEST(Open, ShortFileIsRefusedAndUntouched) {
  TempDir dir;
  testing::write_file(dir / "short.db", "SQLite fo");
  expect_refused_untouched(dir / "short.db", "not an SQLite database");
}

TEST(Open, CorruptHeaderMagicIsRefusedAndUntouched) {
  TempDir dir;
  { Store store(dir / "a.db"); }
  auto bytes = testing::file_bytes(dir / "a.db");
  bytes[3] = 'X';
  testing::write_file(dir / "a.db", bytes);
  expect_refused_untouched(dir / "a.db", "not an SQLite database");
}

TEST(Open, CorruptHeaderFieldsAreRefusedAndUntouched) {
  TempDir dir;
  { Store store(dir / "a.db"); }
  auto bytes = testing::file_bytes(dir / "a.db");
  bytes[16] = 0x03;  // page size 0x03?? is not a power of two
  bytes[17] = 0x01;
  testing::write_file(dir / "a.db", bytes);
  expect_refused_untouched(dir / "a.db", "not a usable SQLite database");
}

TEST(Open, AnotherProgramsDatabaseIsRefusedAndUntouched) {
  TempDir dir;
  {
    RawDb raw(dir / "other.db");
    raw.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
  }
  expect_refused_untouched(dir / "other.db", "not a stagegate store");
  {
    RawDb raw(dir / "app.db");
    raw.exec("PRAGMA application_id = 7");
  }
  expect_refused_untouched(dir / "app.db", "another program");
}

TEST(Open, NewerSchemaVersionIsRefusedAndUntouched) {
  TempDir dir;
  { Store store(dir / "a.db"); }
  {
    RawDb raw(dir / "a.db");
    raw.exec("PRAGMA user_version = " + std::to_string(Store::latest_schema_version() + 1));
    raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  fs::remove(dir.path() / "a.db-wal");
  fs::remove(dir.path() / "a.db-shm");
  expect_refused_untouched(dir / "a.db", "newer stagegate");
}

TEST(Open, DirectoryIsRefused) {
  TempDir dir;
  EXPECT_THROW(Store store(dir.path()), InputError);
}

}  // namespace
}  // namespace sg::db
