// The decision chain: an untouched chain verifies; each way of tampering with the store by
// raw SQL (as someone who can write the file would, after dropping the append-only
// triggers) is reported at the first row at fault; a deleted last row or a forged row with a
// correct hash is caught only against a head kept elsewhere; two writers form one chain.
#include <gtest/gtest.h>

#include <latch>
#include <memory>
#include <set>
#include <thread>

#include "common/sha256.hpp"
#include "db/store_test_util.hpp"
#include "release/decision_chain.hpp"
#include "release/evidence.hpp"

namespace sg::release {
namespace {

using testing::RawDb;
using testing::TempDir;

class ChainTest : public ::testing::Test {
 protected:
  ChainTest() : store(dir / "audit.db") {
    for (char c : {'1', '2', '3'}) {
      const std::string stage = std::string("stage") + c;
      checkpoints.push_back(testing::add_checkpoint(store, c, stage));
      const auto run = testing::create_run(store, testing::new_run(checkpoints.back(), 0));
      store.add_aggregates(run, {{"perplexity.heldout", "", "", 30.0 + (c - '0') + 0.1, 29.0,
                                  31.0 + (c - '0'), 100}});
      store.finish_run(run, db::RunStatus::kCompleted);
      runs.push_back(run);
    }
    add(0, "approved", "all requirements met");
    add(1, "approved", "all requirements met");
    add(2, "rejected", "perplexity.heldout 33.1 > 32");
    add(2, "pending", "not before 2019-11-05");
    add(0, "revoked", "withdrawn by the reviewer");
    head = verify_chain(store).head;
  }

  db::DecisionRecord add(std::size_t stage, const std::string& decision,
                         const std::string& reason) {
    Evidence evidence;
    evidence.checkpoint_sha256_found = testing::sha_of(static_cast<char>('1' + stage));
    RequirementEvidence r;
    r.requirement = "perplexity";
    r.metric = "perplexity.heldout";
    r.plan = "plans/demo.ini";
    r.plan_hash = std::string(64, 'p');
    r.run_id = runs[stage];
    const auto aggregate = store.aggregates(runs[stage]).at(0);
    r.value = aggregate.value;
    r.ci_low = aggregate.ci_low;
    r.ci_high = aggregate.ci_high;
    r.n = aggregate.n;
    r.compared = r.value;
    r.comparison = "<=";
    r.threshold = 32;
    r.estimate = "point";
    r.outcome = *r.value <= 32 ? "passed" : "failed";
    evidence.requirements.push_back(r);
    db::DecisionRecord row;
    row.stage = "stage" + std::to_string(stage + 1);
    row.checkpoint_id = checkpoints[stage];
    row.decision = decision;
    row.reason = reason;
    row.policy_path = "policies/demo.ini";
    row.policy_hash = std::string(64, 'e');
    row.evidence_json = to_json(evidence);
    row.decided_by = "reviewer";
    auto stored = append_decision(store, row);
    ids.push_back(stored.id);
    return stored;
  }

  // Acts as an attacker: the append-only triggers are a safeguard against mistakes only.
  std::unique_ptr<RawDb> attacker() {
    auto raw = std::make_unique<RawDb>(dir / "audit.db");
    raw->exec("DROP TRIGGER decisions_no_update; DROP TRIGGER decisions_no_delete");
    return raw;
  }

  // The first problem is `kind` at `row_id`.
  static void expect_first(const ChainReport& report, std::int64_t row_id,
                           const std::string& kind) {
    ASSERT_FALSE(report.ok()) << "tampering went unnoticed";
    EXPECT_EQ(report.problems[0].row_id, row_id) << report.problems[0].message;
    EXPECT_EQ(report.problems[0].kind, kind) << report.problems[0].message;
    if (row_id != 0) {
      EXPECT_NE(report.problems[0].message.find("decision " + std::to_string(row_id)),
                std::string::npos)
          << report.problems[0].message;
    }
  }

  TempDir dir;
  db::Store store;
  std::vector<std::int64_t> checkpoints;
  std::vector<std::int64_t> runs;
  std::vector<std::int64_t> ids;
  std::string head;
};

TEST_F(ChainTest, AnUntouchedChainVerifiesAgainstItsHead) {
  const auto report = verify_chain(store, head);
  EXPECT_TRUE(report.ok()) << report.problems.at(0).message;
  EXPECT_EQ(report.rows, 5);
  EXPECT_EQ(report.head, store.decisions().back().hash);
}

TEST_F(ChainTest, EachRowLinksToThePreviousAndHashesItsCanonicalText) {
  const auto rows = store.decisions();
  ASSERT_EQ(rows.size(), 5u);
  std::string prev = kGenesisHash;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].prev_hash, prev);
    const auto sha = store.checkpoint(rows[i].checkpoint_id)->sha256;
    const auto text = canonical_decision(rows[i], static_cast<std::int64_t>(i) + 1, sha);
    EXPECT_EQ(rows[i].hash, sha256_hex(text));
    EXPECT_NE(text.find("\"checkpoint_sha256\":\"" + sha + "\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"sequence\":" + std::to_string(i + 1)), std::string::npos) << text;
    prev = *rows[i].hash;
  }
  // Sorted keys, no spaces: the same row always gives the same text.
  const auto text = canonical_decision(rows[0], 1, testing::sha_of('1'));
  EXPECT_EQ(text.rfind("{\"checkpoint_sha256\":", 0), 0u) << text;
  EXPECT_LT(text.find("\"decided_at\""), text.find("\"decided_by\""));
  EXPECT_LT(text.find("\"reason\""), text.find("\"sequence\""));
}

TEST_F(ChainTest, AnEmptyStoreIsAnEmptyChain) {
  db::Store empty(dir / "empty.db");
  const auto report = verify_chain(empty, std::string(kGenesisHash));
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.rows, 0);
  EXPECT_EQ(report.head, kGenesisHash);
}

TEST_F(ChainTest, EditedReasonIsReportedAtThatRow) {
  attacker()->exec("UPDATE decisions SET reason = 'all fine' WHERE id = " + std::to_string(ids[2]));
  expect_first(verify_chain(store), ids[2], "altered");
}

TEST_F(ChainTest, EditedDecisionIsReportedAtThatRow) {
  attacker()->exec("UPDATE decisions SET decision = 'approved' WHERE id = " +
                   std::to_string(ids[2]));
  const auto report = verify_chain(store, head);
  expect_first(report, ids[2], "altered");
}

TEST_F(ChainTest, MovingADecisionToAnotherCheckpointIsAnAlteration) {
  attacker()->exec("UPDATE decisions SET checkpoint_id = " + std::to_string(checkpoints[0]) +
                   " WHERE id = " + std::to_string(ids[1]));
  expect_first(verify_chain(store), ids[1], "altered");
}

TEST_F(ChainTest, DeletedMiddleRowIsReportedAtTheRowAfterIt) {
  attacker()->exec("DELETE FROM decisions WHERE id = " + std::to_string(ids[2]));
  const auto report = verify_chain(store);
  expect_first(report, ids[3], "deleted");
  EXPECT_EQ(report.rows, 4);
}

TEST_F(ChainTest, DeletedLastRowIsCaughtOnlyAgainstAKeptHead) {
  attacker()->exec("DELETE FROM decisions WHERE id = " + std::to_string(ids[4]));
  EXPECT_TRUE(verify_chain(store).ok()) << "a shortened chain is still a valid chain";
  const auto report = verify_chain(store, head);
  expect_first(report, 0, "head");
  EXPECT_NE(report.problems[0].message.find(head), std::string::npos) << report.problems[0].message;
}

TEST_F(ChainTest, SwappedRowsAreReportedAsReordered) {
  const std::string columns =
      "stage, checkpoint_id, decision, reason, policy_path, policy_hash, evidence_json, "
      "decided_by, decided_at, prev_hash, hash";
  auto raw = attacker();
  // Every column but the id swapped; the unique hashes go through a parked row.
  raw->exec("CREATE TEMP TABLE parked AS SELECT * FROM decisions WHERE id IN (" +
            std::to_string(ids[1]) + ", " + std::to_string(ids[3]) + ")");
  raw->exec("UPDATE decisions SET prev_hash = NULL, hash = NULL WHERE id IN (" +
            std::to_string(ids[1]) + ", " + std::to_string(ids[3]) + ")");
  for (auto [to, from] : {std::pair{ids[1], ids[3]}, std::pair{ids[3], ids[1]}})
    raw->exec("UPDATE decisions SET (" + columns + ") = (SELECT " + columns +
              " FROM parked WHERE id = " + std::to_string(from) +
              ") WHERE id = " + std::to_string(to));
  ASSERT_EQ(raw->text("SELECT stage FROM decisions WHERE id = " + std::to_string(ids[1])),
            "stage3");
  expect_first(verify_chain(store), ids[1], "reordered");
}

TEST_F(ChainTest, ChangedAggregateUnderADecisionIsReported) {
  attacker()->exec("UPDATE aggregates SET value = 31.9 WHERE run_id = " + std::to_string(runs[2]));
  const auto report = verify_chain(store, head);
  // Both decisions on stage 3 used that run; the chain itself is intact.
  ASSERT_EQ(report.problems.size(), 2u);
  expect_first(report, ids[2], "metric changed");
  EXPECT_EQ(report.problems[1].row_id, ids[3]);
  EXPECT_NE(report.problems[0].message.find("perplexity.heldout"), std::string::npos);
  EXPECT_NE(report.problems[0].message.find("was 33.1"), std::string::npos)
      << report.problems[0].message;
  EXPECT_NE(report.problems[0].message.find("now 31.9"), std::string::npos)
      << report.problems[0].message;
}

TEST_F(ChainTest, DeletedAggregateOrRunUnderADecisionIsReported) {
  auto raw = attacker();
  raw->exec("DELETE FROM aggregates WHERE run_id = " + std::to_string(runs[1]));
  expect_first(verify_chain(store), ids[1], "metric changed");
  raw->exec("UPDATE audit_runs SET status = 'failed' WHERE id = " + std::to_string(runs[0]));
  expect_first(verify_chain(store), ids[0], "metric changed");
}

TEST_F(ChainTest, ForgedRowIsReported) {
  attacker()->exec(
      "INSERT INTO decisions (stage, checkpoint_id, decision, reason, policy_path, "
      "policy_hash, evidence_json, decided_by, decided_at, prev_hash, hash) VALUES ('stage3', " +
      std::to_string(checkpoints[2]) + ", 'approved', 'ok', 'policies/demo.ini', '" +
      std::string(64, 'e') + "', '{}', 'mallory', '2026-01-01T00:00:00.000Z', '" + head + "', '" +
      std::string(64, 'f') + "')");
  const auto report = verify_chain(store);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems[0].kind, "altered") << report.problems[0].message;
  EXPECT_EQ(report.problems[0].row_id, ids[4] + 1);
}

// Whoever knows the algorithm can extend (or rewrite) the chain with correct hashes; only a
// head kept outside the file tells.
TEST_F(ChainTest, ForgedRowWithACorrectHashIsCaughtOnlyAgainstAKeptHead) {
  db::DecisionRecord forged = store.decisions().at(1);
  forged.decided_by = "mallory";
  forged.decided_at = "2026-01-01T00:00:00.000Z";
  forged.prev_hash = head;
  forged.hash = decision_hash(forged, 6, testing::sha_of('2'));
  attacker()->exec(
      "INSERT INTO decisions (stage, checkpoint_id, decision, reason, policy_path, "
      "policy_hash, evidence_json, decided_by, decided_at, prev_hash, hash) "
      "SELECT stage, checkpoint_id, decision, reason, policy_path, policy_hash, evidence_json, "
      "'mallory', '2026-01-01T00:00:00.000Z', '" +
      head + "', '" + *forged.hash + "' FROM decisions WHERE id = " + std::to_string(ids[1]));
  EXPECT_TRUE(verify_chain(store).ok());
  const auto report = verify_chain(store, head);
  expect_first(report, 0, "head");
  EXPECT_NE(report.problems[0].message.find("goes on past"), std::string::npos)
      << report.problems[0].message;
}

TEST_F(ChainTest, UnknownHeadIsReported) {
  const auto report = verify_chain(store, std::string(64, 'a'));
  expect_first(report, 0, "head");
}

TEST(Chain, TwoStoresAppendingAtOnceFormOneChain) {
  TempDir dir;
  std::int64_t checkpoint = 0;
  {
    db::Store store(dir / "audit.db");
    checkpoint = testing::add_checkpoint(store);
  }
  constexpr int kEach = 25;
  std::latch both_open(2);  // the two appends start together, each on its own connection
  auto writer = [&](const std::string& who) {
    db::Store store(dir / "audit.db");
    both_open.arrive_and_wait();
    for (int i = 0; i < kEach; ++i) {
      db::DecisionRecord row;
      row.stage = "small";
      row.checkpoint_id = checkpoint;
      row.decision = "pending";
      row.reason = who + " " + std::to_string(i);
      row.evidence_json = to_json(Evidence{});
      row.decided_by = who;
      append_decision(store, row);
    }
  };
  std::thread a(writer, "a");
  std::thread b(writer, "b");
  a.join();
  b.join();
  db::Store store(dir / "audit.db");
  const auto report = verify_chain(store);
  EXPECT_TRUE(report.ok()) << report.problems.at(0).message;
  EXPECT_EQ(report.rows, 2 * kEach);
  std::set<std::string> writers;
  for (const auto& row : store.decisions()) writers.insert(row.decided_by);
  EXPECT_EQ(writers, (std::set<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace sg::release
