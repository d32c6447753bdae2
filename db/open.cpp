#include "db/open.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "db/migrations.hpp"

namespace sg::db {

namespace fs = std::filesystem;

namespace {

// sqlite3_open_v2 reads nothing, and the first write (the WAL switch) would stamp a header
// onto whatever the file holds: look at the header first.
void check_header(const fs::path& file) {
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (ec || !fs::exists(status)) return;  // created by SQLite
  if (!fs::is_regular_file(status)) throw InputError(file.string() + ": not a regular file");
  const auto size = fs::file_size(file, ec);
  if (ec) throw InputError(file.string() + ": cannot be read (" + ec.message() + ")");
  if (size == 0) return;  // SQLite treats an empty file as an empty database
  std::array<char, 16> header{};
  std::ifstream in(file, std::ios::binary);
  in.read(header.data(), header.size());
  if (!in) {
    throw InputError(file.string() + ": not an SQLite database (only " + std::to_string(size) +
                     " bytes); refusing to touch it");
  }
  if (std::memcmp(header.data(), "SQLite format 3", 16) != 0)
    throw InputError(
        file.string() +
        ": not an SQLite database (no 'SQLite format 3' header); refusing to touch it");
}

std::int64_t pragma_integer(sqlite::Connection& db, const char* sql, std::string_view doing) {
  sqlite::Query q(db, sql, doing);
  return q.next() ? q.integer(0) : 0;
}

// Refuses, before any write, a database this build must not change.
void check_ownership(sqlite::Connection& db) {
  const std::string file = db.file().string();
  constexpr std::string_view doing = "reading the schema version";
  // One statement, so one snapshot: read one by one, another process creating the store
  // could commit in between, and a half-seen new store (its objects but not yet its
  // application id) would be refused as someone else's database.
  std::int64_t version = 0, app = 0, objects = 0;
  {
    sqlite::Query snapshot(db,
                           "SELECT (SELECT user_version FROM pragma_user_version), "
                           "(SELECT application_id FROM pragma_application_id), "
                           "(SELECT count(*) FROM sqlite_schema)",
                           doing);
    if (snapshot.next()) {
      version = snapshot.integer(0);
      app = snapshot.integer(1);
      objects = snapshot.integer(2);
    }
  }
  if (app != 0 && app != kApplicationId)
    throw InputError(file + ": an SQLite database of another program (application_id " +
                     std::to_string(app) + "), not a stagegate store");
  if (app == 0 && (version != 0 || objects != 0))
    throw InputError(file + ": an SQLite database that is not a stagegate store");
  if (version > latest_version())
    throw InputError(file + ": written by a newer stagegate (schema version " +
                     std::to_string(version) + "; this one knows up to " +
                     std::to_string(latest_version()) + "); use a newer stagegate");
  if (version == 0) return;
  // An applied migration is never edited: a store built from other text than this build's
  // would not have the schema this build expects.
  sqlite::Query q(db, "SELECT version, name, sha256 FROM schema_migrations ORDER BY version",
                  doing);
  const auto all = migrations();
  while (q.next()) {
    const auto v = q.integer(0);
    if (v < 1 || v > static_cast<std::int64_t>(all.size())) continue;
    const Migration& m = all[static_cast<std::size_t>(v - 1)];
    if (q.text(2) != sha256_hex(m.sql))
      throw RuntimeError(file + ": migration " + q.text(1) +
                         " was applied from a different text than this build's " +
                         std::string(m.name) +
                         ".sql; an applied migration must never be edited (db/README.md)");
  }
}

// Switching a new database to WAL upgrades a shared lock to an exclusive one, and there
// SQLite answers SQLITE_BUSY at once rather than call the busy handler (two connections
// waiting on each other's shared lock would deadlock). Two processes creating one store at
// the same moment meet exactly this, so the switch is retried here within the busy timeout.
std::string switch_to_wal(sqlite::Connection& db, std::chrono::milliseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db.handle(), "PRAGMA journal_mode=WAL", -1, &st, nullptr);
    std::string mode;
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) {
        mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        rc = SQLITE_OK;
      }
    }
    sqlite3_finalize(st);
    const int primary = rc & 0xff;
    if ((primary == SQLITE_BUSY || primary == SQLITE_LOCKED) &&
        std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    db.check(rc, "switching to WAL mode");
    return mode;
  }
}

void set_pragmas(sqlite::Connection& db, std::chrono::milliseconds busy_timeout) {
  // WAL: readers never block the writer and a kill -9 cannot tear a commit. In WAL mode
  // synchronous=NORMAL loses no committed transaction on a process crash (only, at worst,
  // the last ones on power loss) and never corrupts, for far fewer fsyncs than FULL.
  if (switch_to_wal(db, busy_timeout) != "wal")
    throw RuntimeError(db.file().string() +
                       ": cannot use WAL mode here (a network or read-only file system?)");
  db.exec("PRAGMA foreign_keys=ON", "enabling foreign keys");
  db.exec("PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL");
}

}  // namespace

std::unique_ptr<sqlite::Connection> open_store(const fs::path& file,
                                               std::chrono::milliseconds busy_timeout,
                                               std::int64_t max_size_bytes) {
  check_header(file);
  auto db = std::make_unique<sqlite::Connection>(file);
  // First, so that every later step waits out another process's write instead of failing.
  db->check(sqlite3_busy_timeout(db->handle(), static_cast<int>(busy_timeout.count())),
            "setting the busy timeout");
  check_ownership(*db);
  set_pragmas(*db, busy_timeout);
  migrate(*db);
  if (max_size_bytes > 0) {
    const auto page = pragma_integer(*db, "PRAGMA page_size", "reading the page size");
    const auto pages = std::max<std::int64_t>(1, max_size_bytes / page);
    db->exec("PRAGMA max_page_count = " + std::to_string(pages), "capping the database size");
  }
  return db;
}

}  // namespace sg::db
