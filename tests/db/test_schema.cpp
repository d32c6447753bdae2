// Migrations are the schema's source of truth; db/schema.sql is their checked result; the
// views are a public contract.
#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "db/migrations.hpp"
#include "db/open.hpp"
#include "store_test_util.hpp"

namespace sg::db {
namespace {

using testing::RawDb;
using testing::TempDir;
namespace fs = std::filesystem;

TEST(Schema, MigratingAnEmptyDatabaseGivesExactlySchemaSql) {
  TempDir dir;
  { Store store(dir / "a.db"); }
  sqlite::Connection db(dir / "a.db");
  const auto expected = testing::file_bytes(fs::path(STAGEGATE_SOURCE_DIR) / "db/schema.sql");
  EXPECT_EQ(canonical_schema(db), expected)
      << "db/schema.sql is stale: cmake --build build --target db_schema";
}

TEST(Schema, MigrationsAreNumberedFromOneAndEachIsRecorded) {
  const auto all = migrations();
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i + 1));
  EXPECT_EQ(all[0].name, "0001_initial");

  TempDir dir;
  { Store store(dir / "a.db"); }
  RawDb raw(dir / "a.db");
  EXPECT_EQ(raw.integer("PRAGMA user_version"), Store::latest_schema_version());
  EXPECT_EQ(raw.integer("PRAGMA application_id"), kApplicationId);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM schema_migrations"),
            static_cast<long long>(all.size()));
  EXPECT_EQ(raw.text("SELECT name FROM schema_migrations WHERE version = 1"), "0001_initial");
}

TEST(Schema, ReopeningAppliesNothingTwice) {
  TempDir dir;
  { Store store(dir / "a.db"); }
  std::string applied;
  {
    RawDb raw(dir / "a.db");
    applied = raw.text("SELECT group_concat(version || applied_at) FROM schema_migrations");
  }
  { Store store(dir / "a.db"); }
  RawDb raw(dir / "a.db");
  EXPECT_EQ(raw.text("SELECT group_concat(version || applied_at) FROM schema_migrations"), applied);
}

TEST(Schema, AnEditedMigrationIsRefused) {
  TempDir dir;
  { Store store(dir / "a.db"); }
  {
    RawDb raw(dir / "a.db");
    raw.exec("UPDATE schema_migrations SET sha256 = '" + std::string(64, '0') + "'");
  }
  try {
    Store store(dir / "a.db");
    FAIL() << "opened";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("0001_initial"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("never be edited"), std::string::npos) << e.what();
  }
}

std::vector<std::string> columns(RawDb& raw, const std::string& view) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw.handle(), ("PRAGMA table_info(" + view + ")").c_str(), -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
  sqlite3_finalize(st);
  return out;
}

// A store written before the decision chain (schema 3) with a decision in it: migration 4
// keeps the row as it was, then allows 'pending' and refuses changes.
TEST(Schema, DecisionsRecordedBeforeTheChainSurviveItsMigration) {
  TempDir dir;
  {
    RawDb raw(dir / "old.db");
    raw.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    for (const auto& m : migrations()) {
      if (m.version > 3) break;
      raw.exec(std::string(m.sql));
      raw.exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" +
               std::string(m.name) + "', '" + sha256_hex(m.sql) + "', '2024-01-01T00:00:00.000Z')");
      raw.exec("PRAGMA user_version = " + std::to_string(m.version));
    }
    ASSERT_EQ(raw.integer("PRAGMA user_version"), 3);
    raw.exec("INSERT INTO checkpoints VALUES (1, '" + std::string(64, 'c') +
             "', '/m', 'demo', 'small', 'gpt2', 1, '{}', '2024-01-01T00:00:00.000Z', "
             "'2024-01-01T00:00:00.000Z');"
             "INSERT INTO decisions VALUES (7, 'small', 1, 'approved', 'met', 'p.ini', 'h', '{}', "
             "'me', '2024-01-02T00:00:00.000Z', NULL, NULL)");
    EXPECT_THROW(raw.exec("INSERT INTO decisions VALUES (8, 'small', 1, 'pending', '', '', '', "
                          "'{}', '', '', NULL, NULL)"),
                 std::runtime_error);
  }
  { Store store(dir / "old.db"); }
  RawDb raw(dir / "old.db");
  EXPECT_EQ(raw.integer("PRAGMA user_version"), Store::latest_schema_version());
  EXPECT_EQ(raw.rows("SELECT * FROM decisions"),
            (std::vector<std::string>{"7|small|1|approved|met|p.ini|h|{}|me|"
                                      "2024-01-02T00:00:00.000Z|NULL|NULL"}));
  EXPECT_EQ(raw.integer("PRAGMA foreign_key_check"), 0);
  raw.exec(
      "INSERT INTO decisions VALUES (8, 'small', 1, 'pending', '', '', '', '{}', '', '', "
      "NULL, NULL)");
  EXPECT_THROW(raw.exec("UPDATE decisions SET reason = 'x' WHERE id = 7"), std::runtime_error);
  EXPECT_THROW(raw.exec("DELETE FROM decisions WHERE id = 7"), std::runtime_error);
  EXPECT_EQ(raw.text("SELECT group_concat(id || decision) FROM v_decisions"), "7approved,8pending");
}

TEST(Schema, ViewsHaveTheDocumentedColumnsInOrder) {
  TempDir dir;
  { Store store(dir / "a.db"); }
  RawDb raw(dir / "a.db");
  using V = std::vector<std::string>;
  EXPECT_EQ(columns(raw, "v_samples"), (V{"checkpoint_sha256", "stage", "run_id", "strategy",
                                          "prompt_id", "sample_index", "text"}));
  EXPECT_EQ(columns(raw, "v_metrics"), (V{"checkpoint_sha256", "stage", "run_id", "metric",
                                          "strategy", "slice", "value", "ci_low", "ci_high", "n"}));
  EXPECT_EQ(columns(raw, "v_decisions"),
            (V{"stage", "checkpoint_sha256", "decision", "reason", "decided_at", "id",
               "policy_hash", "decided_by", "hash"}));
}

TEST(Schema, ViewsShowWhatWasStored) {
  TempDir dir;
  {
    Store store(dir / "a.db");
    const auto ckpt = testing::add_checkpoint(store, 'c', "medium");
    const auto run = testing::create_run(store, testing::new_run(ckpt, 1));
    store.add_prompts(run, {{"p1", "prompts", "Once upon"}});
    store.add_sample(testing::sample(run, "greedy", "p1", 0));
    store.add_aggregates(run, {{"perplexity.heldout", "", "", 31.5, 30.0, 33.0, 100},
                               {"memorization.extractable_rate@50", "greedy", "dup=5-16", 0.5,
                                std::nullopt, std::nullopt, 2}});
    DecisionRecord d;
    d.stage = "medium";
    d.checkpoint_id = ckpt;
    d.decision = "approved";
    d.reason = "all thresholds met";
    d.policy_path = "policies/demo.ini";
    d.policy_hash = std::string(64, 'f');
    d.decided_by = "tester";
    testing::append_decision(store, d);
  }
  RawDb raw(dir / "a.db");
  EXPECT_EQ(raw.text("SELECT checkpoint_sha256 || '|' || stage || '|' || run_id || '|' || "
                     "strategy || '|' || prompt_id || '|' || sample_index || '|' || text "
                     "FROM v_samples"),
            std::string(64, 'c') + "|medium|1|greedy|p1|0|Hello world!");
  EXPECT_EQ(raw.text("SELECT value || '|' || ci_low || '|' || ci_high || '|' || n FROM v_metrics "
                     "WHERE metric = 'perplexity.heldout' AND slice = '' AND strategy = ''"),
            "31.5|30.0|33.0|100");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM v_metrics WHERE slice = 'dup=5-16' AND "
                        "ci_low IS NULL AND stage = 'medium'"),
            1);
  EXPECT_EQ(raw.text("SELECT stage || '|' || checkpoint_sha256 || '|' || decision || '|' || "
                     "reason || '|' || (decided_at LIKE '____-__-__T__:__:__.___Z') || '|' || "
                     "id || '|' || policy_hash || '|' || decided_by || '|' || length(hash) "
                     "FROM v_decisions"),
            "medium|" + std::string(64, 'c') + "|approved|all thresholds met|1|1|" +
                std::string(64, 'f') + "|tester|64");
}

}  // namespace
}  // namespace sg::db
