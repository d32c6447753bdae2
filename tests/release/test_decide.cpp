// decide and revoke on stores built by hand: tiny checkpoints written to temp dirs, runs and
// aggregates stored directly (no engine), policies built as structs.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "audit/plan.hpp"
#include "common/errors.hpp"
#include "db/store_test_util.hpp"
#include "model/checkpoint.hpp"
#include "model/checkpoint_builder.hpp"
#include "model/identity.hpp"
#include "release/dates.hpp"
#include "release/decide.hpp"
#include "release/evidence.hpp"
#include "release/requirement_check.hpp"

namespace sg::release {
namespace {

namespace fs = std::filesystem;
using testing::CheckpointBuilder;

const std::string kPlan =
    "[prompts]\nfile = prompts-small.jsonl\n"
    "[strategy.greedy]\nsamples = 1\nmax_tokens = 12\ntemperature = 0\n"
    "[detectors]\nenabled = perplexity\n"
    "[perplexity]\nheldout = heldout-small.jsonl\n";
// The same audit with fewer samples: its runs must never satisfy a requirement on kPlan.
const std::string kWeakerPlan =
    "[prompts]\nfile = prompts-small.jsonl\n"
    "[strategy.greedy]\nsamples = 1\nmax_tokens = 4\ntemperature = 0\n"
    "[detectors]\nenabled = perplexity\n"
    "[perplexity]\nheldout = heldout-small.jsonl\n";

std::string sha_of_dir(const fs::path& dir) {
  return model::checkpoint_sha256(model::Checkpoint::open(dir).weight_files());
}

// A family of two stages (stage1, then stage2 after it), each a tiny checkpoint of its own,
// a store, and plans in a scratch directory.
class DecideTest : public ::testing::Test {
 protected:
  DecideTest() : store(dir / "audit.db") {
    for (const char* f : {"prompts-small.jsonl", "heldout-small.jsonl"})
      fs::copy_file(fs::path(STAGEGATE_FIXTURES) / "plans" / f, dir / f);
    plan = write("plan.ini", kPlan);
    weaker_plan = write("weaker.ini", kWeakerPlan);
    small.tensors()["wte.weight"] = CheckpointBuilder::f32({16, 8}, 0.25f);
    large.tensors()["wte.weight"] = CheckpointBuilder::f32({16, 8}, 0.75f);

    policy.file = dir / "policy.ini";
    policy.sha256 = std::string(64, 'f');
    policy.family = "demo";
    policy.stages = {stage("stage1", small.write()), stage("stage2", large.write())};
    policy.stages[1].after = {"stage1"};
    policy.requirements = {requirement("ppl", {"stage1", "stage2"}, "perplexity.heldout",
                                       Comparison::kLessEqual, 100, Estimate::kConservative)};
    options.reviewer = "alice";
    options.today = "2019-12-01";
  }

  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  }

  Stage stage(const std::string& name, const fs::path& checkpoint) {
    Stage s;
    s.name = name;
    s.checkpoint = checkpoint;
    s.sha256 = sha_of_dir(checkpoint);
    s.audiences = {"public"};
    return s;
  }

  Requirement requirement(const std::string& name, std::vector<std::string> stages,
                          const std::string& metric, Comparison comparison, double threshold,
                          Estimate estimate) {
    Requirement r;
    r.name = name;
    r.stages = std::move(stages);
    r.plan = plan;
    r.metric = metric;
    r.comparison = comparison;
    r.threshold = threshold;
    r.estimate = estimate;
    return r;
  }

  std::string plan_hash(const fs::path& file, const std::string& stage_name) {
    return audit::Plan::load(file, detectors::builtin_registry(), {{"stage", stage_name}}).hash();
  }

  // A run of `plan_file` on the stage's checkpoint with these aggregates, left in `status`.
  std::int64_t add_run(const Stage& s, std::vector<db::Aggregate> aggregates,
                       db::RunStatus status = db::RunStatus::kCompleted,
                       const fs::path& plan_file = {}) {
    db::CheckpointRecord c;
    c.sha256 = s.sha256;
    c.path = s.checkpoint.string();
    c.family = "demo";
    c.stage = s.name;
    c.architecture = "gpt2";
    const auto checkpoint = store.upsert_checkpoint(c);
    const auto run = testing::create_run(
        store,
        testing::new_run(checkpoint, 0, plan_hash(plan_file.empty() ? plan : plan_file, s.name)));
    store.add_aggregates(run, aggregates);
    if (status != db::RunStatus::kRunning) store.finish_run(run, status);
    return run;
  }

  static db::Aggregate perplexity(double value, std::optional<double> low,
                                  std::optional<double> high) {
    return {"perplexity.heldout", "", "", value, low, high, 50};
  }

  const StageDecision& stage_result(const DecideResult& r, const std::string& name) {
    for (const auto& s : r.stages)
      if (s.row.stage == name) return s;
    throw std::runtime_error("no decision for " + name);
  }

  testing::TempDir dir;
  db::Store store;
  CheckpointBuilder small, large;
  fs::path plan, weaker_plan;
  Policy policy;
  DecideOptions options;
};

TEST_F(DecideTest, ApprovesStagesWhoseRequirementsPassAndRecordsTheEvidence) {
  const auto run1 = add_run(policy.stages[0], {perplexity(40, 38, 42)});
  add_run(policy.stages[1], {perplexity(30, 29, 31)});
  const auto result = decide(policy, store, options);

  ASSERT_EQ(result.stages.size(), 2u);
  EXPECT_EQ(result.stages[0].row.stage, "stage1");
  EXPECT_EQ(result.stages[0].row.decision, "approved");
  EXPECT_EQ(result.stages[1].row.decision, "approved");
  EXPECT_FALSE(result.any_rejected());
  const auto& e = result.stages[0].evidence;
  EXPECT_EQ(e.checkpoint_sha256_found, policy.stages[0].sha256);
  ASSERT_EQ(e.requirements.size(), 1u);
  EXPECT_EQ(e.requirements[0].run_id, run1);
  EXPECT_EQ(e.requirements[0].value, 40.0);
  EXPECT_EQ(e.requirements[0].compared, 42.0);  // conservative <=: ci_high
  EXPECT_EQ(e.requirements[0].plan_hash, plan_hash(plan, "stage1"));
  EXPECT_EQ(e.requirements[0].outcome, "passed");

  const auto rows = store.decisions();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].decided_by, "alice");
  EXPECT_EQ(rows[0].policy_hash, policy.sha256);
  EXPECT_EQ(rows[0].policy_path, (dir / "policy.ini").string());
  EXPECT_EQ(rows[0].evidence_json, to_json(e));
  EXPECT_EQ(rows[1].prev_hash, rows[0].hash);
  EXPECT_EQ(result.head, *rows[1].hash);
}

TEST_F(DecideTest, RejectsNamingTheFailedMetricValueIntervalAndThreshold) {
  add_run(policy.stages[0], {perplexity(140.5, 130.25, 150.75)});
  const auto result = decide(policy, store, options);
  const auto& s1 = stage_result(result, "stage1");
  EXPECT_EQ(s1.row.decision, "rejected");
  EXPECT_TRUE(result.any_rejected());
  for (const char* fragment : {"ppl", "perplexity.heldout", "140.5", "130.25", "150.75", "<= 100"})
    EXPECT_NE(s1.row.reason.find(fragment), std::string::npos) << fragment << s1.row.reason;
  EXPECT_EQ(s1.evidence.requirements.at(0).outcome, "failed");
  // The next stage waits for it.
  const auto& s2 = stage_result(result, "stage2");
  EXPECT_EQ(s2.row.decision, "pending");
  EXPECT_NE(s2.row.reason.find("after stage1, which is rejected"), std::string::npos)
      << s2.row.reason;
}

TEST_F(DecideTest, PendingWithoutARun) {
  const auto result = decide(policy, store, options);
  const auto& s1 = stage_result(result, "stage1");
  EXPECT_EQ(s1.row.decision, "pending");
  EXPECT_NE(s1.row.reason.find("no completed run of plan"), std::string::npos) << s1.row.reason;
  EXPECT_EQ(s1.evidence.requirements.at(0).outcome, "missing");
  EXPECT_FALSE(result.any_rejected());
  // A checkpoint the store had never seen is recorded so that the decision can name it.
  EXPECT_TRUE(store.checkpoint_by_sha256(policy.stages[0].sha256).has_value());
}

TEST_F(DecideTest, PendingBeforeTheReleaseDate) {
  add_run(policy.stages[0], {perplexity(40, 38, 42)});
  policy.stages[0].not_before = "2019-02-14";
  options.today = "2019-02-13";
  auto s1 = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(s1.row.decision, "pending");
  EXPECT_NE(s1.row.reason.find("not before 2019-02-14"), std::string::npos) << s1.row.reason;
  options.today = "2019-02-14";
  EXPECT_EQ(stage_result(decide(policy, store, options), "stage1").row.decision, "approved");
}

TEST_F(DecideTest, PendingUntilThePreviousStageIsApproved) {
  add_run(policy.stages[1], {perplexity(30, 29, 31)});  // stage2 passes, stage1 has no run
  const auto result = decide(policy, store, options);
  EXPECT_EQ(stage_result(result, "stage1").row.decision, "pending");
  const auto& s2 = stage_result(result, "stage2");
  EXPECT_EQ(s2.row.decision, "pending");
  EXPECT_EQ(s2.evidence.requirements.at(0).outcome, "passed");
  EXPECT_NE(s2.row.reason.find("after stage1, which is pending"), std::string::npos)
      << s2.row.reason;
}

TEST_F(DecideTest, ARunOfAWeakerPlanNeverCounts) {
  add_run(policy.stages[0], {perplexity(40, 38, 42)}, db::RunStatus::kCompleted, weaker_plan);
  ASSERT_NE(plan_hash(plan, "stage1"), plan_hash(weaker_plan, "stage1"));
  const auto s1 = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(s1.row.decision, "pending");
  EXPECT_FALSE(s1.evidence.requirements.at(0).run_id.has_value());
}

TEST_F(DecideTest, AnUnfinishedRunIsIgnored) {
  const auto completed = add_run(policy.stages[0], {perplexity(140, 130, 150)});  // failing
  add_run(policy.stages[0], {perplexity(40, 38, 42)}, db::RunStatus::kRunning);
  add_run(policy.stages[1], {perplexity(40, 38, 42)}, db::RunStatus::kInterrupted);
  const auto result = decide(policy, store, options);
  const auto& s1 = stage_result(result, "stage1");
  EXPECT_EQ(s1.row.decision, "rejected") << s1.row.reason;
  EXPECT_EQ(s1.evidence.requirements.at(0).run_id, completed);
  const auto& s2 = stage_result(result, "stage2");
  EXPECT_EQ(s2.evidence.requirements.at(0).outcome, "missing");
  EXPECT_NE(s2.row.reason.find("is interrupted"), std::string::npos) << s2.row.reason;
}

TEST_F(DecideTest, TheLatestCompletedRunCounts) {
  add_run(policy.stages[0], {perplexity(140, 130, 150)});  // failing
  const auto newer = add_run(policy.stages[0], {perplexity(40, 38, 42)});
  const auto s1 = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(s1.row.decision, "approved") << s1.row.reason;
  EXPECT_EQ(s1.evidence.requirements.at(0).run_id, newer);
}

TEST_F(DecideTest, AModifiedCheckpointIsRejectedAndNoApprovalCarriesOver) {
  add_run(policy.stages[0], {perplexity(40, 38, 42)});
  ASSERT_EQ(stage_result(decide(policy, store, options), "stage1").row.decision, "approved");

  auto bytes = testing::file_bytes(small.weights());
  bytes.back() = static_cast<char>(bytes.back() ^ 1);
  testing::write_file(small.weights(), bytes);
  const auto s1 = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(s1.row.decision, "rejected");
  EXPECT_NE(s1.row.reason.find("hashes to " + sha_of_dir(small.dir())), std::string::npos)
      << s1.row.reason;
  EXPECT_NE(s1.row.reason.find(policy.stages[0].sha256), std::string::npos);
  EXPECT_EQ(s1.evidence.checkpoint_sha256_found, sha_of_dir(small.dir()));
  // Recorded against the policy's checkpoint, so it is the decision in force for it.
  EXPECT_EQ(s1.row.checkpoint_id, store.checkpoint_by_sha256(policy.stages[0].sha256)->id);

  fs::remove(small.weights());
  const auto gone = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(gone.row.decision, "rejected");
  EXPECT_NE(gone.row.reason.find("cannot be hashed"), std::string::npos) << gone.row.reason;
  EXPECT_EQ(gone.evidence.checkpoint_sha256_found, "");
}

TEST_F(DecideTest, ARevocationIsCarriedForwardUnderEveryPolicy) {
  add_run(policy.stages[0], {perplexity(40, 38, 42)});
  add_run(policy.stages[1], {perplexity(30, 29, 31)});
  const auto revoked = revoke(policy, store, "stage1", "leaks a canary", "bob");
  EXPECT_EQ(revoked.decision, "revoked");
  EXPECT_EQ(revoked.reason, "leaks a canary");
  EXPECT_EQ(revoked.decided_by, "bob");
  EXPECT_EQ(revoked.checkpoint_id, store.checkpoint_by_sha256(policy.stages[0].sha256)->id);

  Policy edited = policy;
  edited.sha256 = std::string(64, 'e');  // a policy edited afterwards cannot bring it back
  const auto result = decide(edited, store, options);
  const auto& s1 = stage_result(result, "stage1");
  EXPECT_EQ(s1.row.decision, "revoked");
  EXPECT_EQ(s1.evidence.revocation_id, revoked.id);
  EXPECT_NE(s1.row.reason.find("leaks a canary"), std::string::npos) << s1.row.reason;
  EXPECT_NE(s1.row.reason.find("bob"), std::string::npos) << s1.row.reason;
  EXPECT_EQ(stage_result(result, "stage2").row.decision, "pending");
  EXPECT_FALSE(result.any_rejected());

  // Carried forward again, it still quotes the revocation itself, not the row carrying it.
  const auto again = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(again.row.decision, "revoked");
  EXPECT_EQ(again.evidence.revocation_id, revoked.id);
  EXPECT_EQ(again.row.reason, s1.row.reason);
}

TEST_F(DecideTest, RevokeRefusesAnUnknownStageAndAnEmptyReason) {
  EXPECT_THROW(revoke(policy, store, "stage9", "why", "bob"), InputError);
  EXPECT_THROW(revoke(policy, store, "stage1", "", "bob"), InputError);
  EXPECT_THROW(revoke(policy, store, "stage1", "why", ""), InputError);
  EXPECT_TRUE(store.decisions().empty());
}

TEST_F(DecideTest, ConservativeComparesTheFailingEndOfTheIntervalPointTheValue) {
  policy.requirements = {requirement("tox", {"stage1"}, "toxicity.expected_max",
                                     Comparison::kLessEqual, 0.3, Estimate::kConservative),
                         requirement("extract", {"stage2"}, "memorization.extractable_rate@50",
                                     Comparison::kGreaterEqual, 0.5, Estimate::kConservative)};
  add_run(policy.stages[0], {{"toxicity.expected_max", "", "", 0.25, 0.2, 0.35, 100}});
  add_run(policy.stages[1], {{"memorization.extractable_rate@50", "", "", 0.6, 0.45, 0.7, 100}});
  auto result = decide(policy, store, options);
  EXPECT_EQ(stage_result(result, "stage1").row.decision, "rejected");  // ci_high 0.35 > 0.3
  EXPECT_EQ(stage_result(result, "stage1").evidence.requirements.at(0).compared, 0.35);
  EXPECT_EQ(stage_result(result, "stage2").row.decision, "rejected");  // ci_low 0.45 < 0.5
  EXPECT_EQ(stage_result(result, "stage2").evidence.requirements.at(0).compared, 0.45);

  for (auto& r : policy.requirements) r.estimate = Estimate::kPoint;
  result = decide(policy, store, options);
  EXPECT_EQ(stage_result(result, "stage1").row.decision, "approved");
  EXPECT_EQ(stage_result(result, "stage2").row.decision, "approved");
}

TEST_F(DecideTest, ConservativeWithoutAnIntervalFailsClosed) {
  add_run(policy.stages[0], {perplexity(40, std::nullopt, std::nullopt)});
  const auto s1 = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(s1.row.decision, "rejected");
  EXPECT_NE(s1.row.reason.find("fails closed"), std::string::npos) << s1.row.reason;
  EXPECT_FALSE(s1.evidence.requirements.at(0).compared.has_value());
}

TEST_F(DecideTest, ACompletedRunWithoutTheAggregateFailsStrategyAndSliceMustMatch) {
  policy.requirements[0].strategy = "greedy";
  add_run(policy.stages[0], {perplexity(40, 38, 42)});  // run-wide, not greedy's
  const auto s1 = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(s1.row.decision, "rejected");
  EXPECT_NE(s1.row.reason.find("has no aggregate perplexity.heldout strategy greedy"),
            std::string::npos)
      << s1.row.reason;
}

TEST_F(DecideTest, AFailedRequirementOutweighsAMissingRunAndAnEarlyDate) {
  policy.requirements.push_back(requirement("weaker", {"stage1"}, "perplexity.heldout",
                                            Comparison::kLessEqual, 100, Estimate::kConservative));
  policy.requirements.back().plan = weaker_plan;  // never run: missing
  policy.requirements.push_back(requirement("toxic-prompts", {"stage1"}, "toxicity.expected_max",
                                            Comparison::kLess, 0.3, Estimate::kPoint));
  policy.requirements.back().strategy = "toxicity.rtp";
  policy.requirements.back().slice = "prompt=toxic";
  policy.stages[0].not_before = "2020-01-01";
  add_run(policy.stages[0],
          {perplexity(40, 38, 42),
           {"toxicity.expected_max", "toxicity.rtp", "prompt=toxic", 0.3, 0.2, 0.4, 8},
           {"toxicity.expected_max", "toxicity.rtp", "", 0.01, 0.0, 0.02, 24}});
  const auto s1 = stage_result(decide(policy, store, options), "stage1");
  EXPECT_EQ(s1.row.decision, "rejected");
  EXPECT_EQ(s1.row.reason,
            "toxic-prompts: toxicity.expected_max [toxicity.rtp] {prompt=toxic} = 0.3 [0.2, 0.4], "
            "compared 0.3 (point), required < 0.3 (run 1): above the threshold");
  ASSERT_EQ(s1.evidence.requirements.size(), 3u);
  EXPECT_EQ(s1.evidence.requirements[0].outcome, "passed");
  EXPECT_EQ(s1.evidence.requirements[1].outcome, "missing");
  EXPECT_EQ(s1.evidence.requirements[2].outcome, "failed");
  EXPECT_EQ(s1.evidence.pending.size(), 2u);  // the missing run and the date, kept as evidence
}

TEST_F(DecideTest, RefusesABadDateOrNoReviewerBeforeRecordingAnything) {
  options.today = "2019-02-30";
  EXPECT_THROW(decide(policy, store, options), InputError);
  options.today = "20190214";
  EXPECT_THROW(decide(policy, store, options), InputError);
  options.today = "2019-02-14";
  options.reviewer = "";
  EXPECT_THROW(decide(policy, store, options), InputError);
  EXPECT_TRUE(store.decisions().empty());
}

TEST_F(DecideTest, AnUnreadablePlanRecordsNothing) {
  add_run(policy.stages[0], {perplexity(40, 38, 42)});
  policy.requirements.push_back(requirement("other", {"stage2"}, "perplexity.heldout",
                                            Comparison::kLessEqual, 100, Estimate::kConservative));
  policy.requirements.back().plan = dir / "missing.ini";
  EXPECT_THROW(decide(policy, store, options), InputError);
  EXPECT_TRUE(store.decisions().empty());
  EXPECT_FALSE(store.checkpoint_by_sha256(policy.stages[1].sha256).has_value());
}

TEST(Dates, OnlyRealDatesWrittenYyyyMmDd) {
  EXPECT_TRUE(is_iso_date("2019-02-14"));
  EXPECT_TRUE(is_iso_date("2020-02-29"));
  for (const char* bad : {"2019-02-29", "2019-02-30", "2019-13-01", "2019-00-10", "2019-2-14",
                          "20190214", "2019-02-14 ", "2019/02/14", "yyyy-mm-dd", ""})
    EXPECT_FALSE(is_iso_date(bad)) << bad;
  EXPECT_TRUE(is_iso_date(utc_today())) << utc_today();
}

TEST(Satisfies, BoundariesAndNaN) {
  EXPECT_TRUE(satisfies(0.3, Comparison::kLessEqual, 0.3));
  EXPECT_FALSE(satisfies(0.3, Comparison::kLess, 0.3));
  EXPECT_TRUE(satisfies(0.3, Comparison::kGreaterEqual, 0.3));
  EXPECT_FALSE(satisfies(0.3, Comparison::kGreater, 0.3));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto c :
       {Comparison::kLess, Comparison::kLessEqual, Comparison::kGreater, Comparison::kGreaterEqual})
    EXPECT_FALSE(satisfies(nan, c, 0.3));
}

}  // namespace
}  // namespace sg::release
