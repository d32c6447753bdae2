// `stagegate decide` and `stagegate revoke` as a user runs them: a policy file naming two tiny
// checkpoints, a database whose runs and aggregates the test stores directly (no engine).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "audit/plan.hpp"
#include "cli/run_command.hpp"
#include "common/temp_dir.hpp"
#include "db/store.hpp"
#include "db/store_test_util.hpp"
#include "model/checkpoint.hpp"
#include "model/checkpoint_builder.hpp"
#include "model/identity.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;

class DecideCli : public ::testing::Test {
 protected:
  DecideCli() {
    for (const char* f : {"prompts-small.jsonl", "heldout-small.jsonl"})
      fs::copy_file(fs::path(STAGEGATE_FIXTURES) / "plans" / f, dir / f);
    write("plan.ini",
          "[prompts]\nfile = prompts-small.jsonl\n"
          "[strategy.greedy]\nsamples = 1\nmax_tokens = 12\ntemperature = 0\n"
          "[detectors]\nenabled = perplexity\n"
          "[perplexity]\nheldout = heldout-small.jsonl\n");
    small.tensors()["wte.weight"] = CheckpointBuilder::f32({16, 8}, 0.25f);
    large.tensors()["wte.weight"] = CheckpointBuilder::f32({16, 8}, 0.75f);
    small_dir = small.write();
    large_dir = large.write();
    db = (dir / "audit.db").string();
    policy =
        write("policy.ini",
              "[family]\nname = demo\n"
              "[stage.small]\ncheckpoint = " +
                  small_dir.string() + "\nsha256 = " + sha(small_dir) + "\naudiences = public\n" +
                  "[stage.large]\ncheckpoint = " + large_dir.string() +
                  "\nsha256 = " + sha(large_dir) + "\nafter = small\naudiences = public\n" +
                  "[requirement.perplexity]\nstages = small, large\nplan = plan.ini\n"
                  "metric = perplexity.heldout\ncomparison = <=\nthreshold = 100\n"
                  "estimate = conservative\n"
                  "[audience.public]\nunreleased = false\n");
  }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return (dir / name).string();
  }
  static std::string sha(const fs::path& checkpoint) {
    return model::checkpoint_sha256(model::Checkpoint::open(checkpoint).weight_files());
  }

  // A completed run of plan.ini on the checkpoint with one perplexity aggregate.
  void add_run(const fs::path& checkpoint, const std::string& stage, double value, double low,
               double high) {
    db::Store store(db);
    db::CheckpointRecord c;
    c.sha256 = sha(checkpoint);
    c.path = checkpoint.string();
    c.stage = stage;
    c.architecture = "gpt2";
    const auto id = store.upsert_checkpoint(c);
    const auto hash =
        audit::Plan::load(dir / "plan.ini", detectors::builtin_registry(), {{"stage", stage}})
            .hash();
    const auto run = create_run(store, new_run(id, 0, hash));
    store.add_aggregates(run, {{"perplexity.heldout", "", "", value, low, high, 40}});
    store.finish_run(run, db::RunStatus::kCompleted);
  }

  CommandResult decide(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"decide",     "--policy", policy,    "--db",      db,
                                     "--reviewer", "alice",    "--today", "2019-12-01"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_stagegate(args);
  }

  TempDir dir;
  CheckpointBuilder small, large;
  fs::path small_dir, large_dir;
  std::string db, policy;
};

TEST_F(DecideCli, PrintsTheDecisionsAndTheChainHeadExitZeroWhenNoneIsRejected) {
  add_run(small_dir, "small", 40, 38, 42);
  const auto r = decide();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stage  decision  reason"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("small  approved  1 requirement passed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("large  pending   perplexity: perplexity.heldout"), std::string::npos)
      << r.out;
  RawDb raw(db);
  const auto head = raw.text("SELECT hash FROM decisions ORDER BY id DESC LIMIT 1");
  ASSERT_EQ(head.size(), 64u);
  EXPECT_NE(r.out.find("chain head: " + head + "\n"), std::string::npos) << r.out;
  EXPECT_EQ(raw.integer("SELECT count(*) FROM decisions WHERE decided_by = 'alice'"), 2);
}

TEST_F(DecideCli, ExitsFourWhenAStageIsRejectedEachFailedRequirementNamed) {
  add_run(small_dir, "small", 140.5, 130, 150);
  const auto r = decide();
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.out.find("small  rejected  perplexity: perplexity.heldout = 140.5 [130, 150], "
                       "compared 150 (conservative), required <= 100 (run 1): above the "
                       "threshold"),
            std::string::npos)
      << r.out;
}

TEST_F(DecideCli, JsonHasEachStageItsEvidenceAndTheHead) {
  add_run(small_dir, "small", 140.5, 130, 150);
  const auto r = decide({"--json"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["stages"].size(), 2u);
  EXPECT_EQ(j["stages"][0]["stage"], "small");
  EXPECT_EQ(j["stages"][0]["decision"], "rejected");
  EXPECT_EQ(j["stages"][0]["checkpoint_sha256"], sha(small_dir));
  EXPECT_EQ(j["stages"][0]["evidence"]["requirements"][0]["value"], 140.5);
  EXPECT_EQ(j["stages"][0]["evidence"]["requirements"][0]["run_id"], 1);
  EXPECT_EQ(j["stages"][1]["decision"], "pending");
  EXPECT_EQ(j["head"], j["stages"][1]["hash"]);
  EXPECT_EQ(j["rejected"], true);
}

TEST_F(DecideCli, RevokeRecordsARevocationThatTheNextDecideCarriesForward) {
  add_run(small_dir, "small", 40, 38, 42);
  ASSERT_EQ(decide().exit_code, 0);
  const auto r = run_stagegate({"revoke", "--policy", policy, "--db", db, "--stage", "small",
                                "--reason", "leaks a canary", "--reviewer", "bob"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("small: revoked (decision 3)\nchain head: "), std::string::npos) << r.out;
  const auto again = decide();
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("small  revoked   revoked by bob"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("leaks a canary"), std::string::npos) << again.out;
}

TEST_F(DecideCli, RefusesBadInvocationsWithoutRecording) {
  add_run(small_dir, "small", 40, 38, 42);
  auto r = run_stagegate({"decide", "--policy", policy, "--db", db});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // no --reviewer
  r = decide({"--today", "2019-13-01"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // --today given twice: a usage error
  r = run_stagegate(
      {"decide", "--policy", policy, "--db", (dir / "none.db").string(), "--reviewer", "alice"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("none.db: no such database"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "none.db"));
  r = run_stagegate(
      {"decide", "--policy", policy, "--db", db, "--reviewer", "alice", "--today", "2019-02-30"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--today: '2019-02-30' is not a date"), std::string::npos) << r.err;
  r = run_stagegate({"revoke", "--policy", policy, "--db", db, "--stage", "huge", "--reason", "x",
                     "--reviewer", "bob"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("huge"), std::string::npos) << r.err;
  r = run_stagegate({"revoke", "--policy", policy, "--db", db, "--stage", "small", "--reason", "",
                     "--reviewer", "bob"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(RawDb(db).integer("SELECT count(*) FROM decisions"), 0);
}

}  // namespace
}  // namespace sg::testing
