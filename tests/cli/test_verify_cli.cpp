// `stagegate verify` as a user meets it: the rows checked and the head, exit 0 for an intact
// chain; the first row at fault and exit 3 for a tampered one or a head that does not match.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/run_command.hpp"
#include "db/store_test_util.hpp"
#include "release/decision_chain.hpp"
#include "release/evidence.hpp"

namespace sg::testing {
namespace {

using nlohmann::json;

class VerifyCli : public ::testing::Test {
 protected:
  VerifyCli() {
    db::Store store(db);
    const auto checkpoint = add_checkpoint(store, 'a', "stage1");
    for (const char* decision : {"pending", "approved", "revoked"}) {
      db::DecisionRecord row;
      row.stage = "stage1";
      row.checkpoint_id = checkpoint;
      row.decision = decision;
      row.reason = std::string("because ") + decision;
      row.policy_path = "policies/demo.ini";
      row.policy_hash = std::string(64, 'e');
      row.evidence_json = release::to_json(release::Evidence{});
      row.decided_by = "reviewer";
      head = *release::append_decision(store, row).hash;
    }
  }
  void tamper(const std::string& sql) {
    RawDb raw(db);
    raw.exec("DROP TRIGGER decisions_no_update; DROP TRIGGER decisions_no_delete; " + sql);
  }

  TempDir dir;
  std::string db = (dir / "audit.db").string();
  std::string head;
};

TEST_F(VerifyCli, AnIntactChainPrintsItsHeadAndExitsZero) {
  auto r = run_stagegate({"verify", "--db", db});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 decisions checked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("chain head: " + head), std::string::npos) << r.out;
  r = run_stagegate({"verify", "--db", db, "--head", head, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const json out = json::parse(r.out);
  EXPECT_EQ(out["rows"], 3);
  EXPECT_EQ(out["head"], head);
  EXPECT_EQ(out["ok"], true);
  EXPECT_TRUE(out["problems"].empty());
}

TEST_F(VerifyCli, AnEditedRowIsNamedAndExitsThree) {
  tamper("UPDATE decisions SET decision = 'approved' WHERE id = 1");
  auto r = run_stagegate({"verify", "--db", db});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("altered: decision 1:"), std::string::npos) << r.err;
  r = run_stagegate({"verify", "--db", db, "--json"});
  EXPECT_EQ(r.exit_code, 3);
  const json out = json::parse(r.out);
  EXPECT_EQ(out["ok"], false);
  ASSERT_FALSE(out["problems"].empty());
  EXPECT_EQ(out["problems"][0]["row_id"], 1);
  EXPECT_EQ(out["problems"][0]["kind"], "altered");
}

TEST_F(VerifyCli, ADeletedLastRowIsCaughtByTheKeptHead) {
  tamper("DELETE FROM decisions WHERE id = 3");
  EXPECT_EQ(run_stagegate({"verify", "--db", db}).exit_code, 0);
  const auto r = run_stagegate({"verify", "--db", db, "--head", head});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("head: the chain ends at"), std::string::npos) << r.err;
}

TEST_F(VerifyCli, BadArgumentsAreUsageOrInputErrors) {
  auto r = run_stagegate({"verify", "--db", db, "--head", "abc"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--head"), std::string::npos) << r.err;
  r = run_stagegate({"verify", "--db", (dir / "missing.db").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no such database"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "missing.db")) << "verify must not create a store";
}

}  // namespace
}  // namespace sg::testing
