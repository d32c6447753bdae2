// The demo family's release story, decided on the figures its audit measured
// (tests/fixtures/release/demo-audit-aggregates.json, from tools/demo.sh's database): under
// policies/examples/demo-unfiltered.ini stage 4 is rejected for its unfiltered toxicity,
// under policies/demo.ini every stage is approved, stage 4 only with its filters; the chain
// verifies and the gate serves the public exactly what each policy allows. The policies and
// plans are copied byte for byte (their hashes are what decisions record) beside an `out/index`
// of each stage's training slices, built here, as the plans name it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "audit/plan.hpp"
#include "common/errors.hpp"
#include "common/temp_dir.hpp"
#include "db/store_test_util.hpp"
#include "demo/demo_index.hpp"
#include "release/access.hpp"
#include "release/decide.hpp"
#include "release/decision_chain.hpp"

namespace sg {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = STAGEGATE_SOURCE_DIR;

std::vector<std::string> names(const std::vector<const release::FilterSpec*>& filters) {
  std::vector<std::string> out;
  for (const auto* f : filters) out.push_back(f->name);
  return out;
}

TEST(DemoRelease, StageFourIsRejectedWithoutFiltersAndApprovedWithThem) {
  testing::TempDir root;
  fs::create_directory_symlink(kSource / "models", root / "models");
  fs::create_directories(root / "policies" / "plans");
  fs::create_directories(root / "policies" / "examples");
  for (const auto* file :
       {"demo.ini", "examples/demo-unfiltered.ini", "plans/demo.ini", "plans/toxicity-filter.ini"})
    fs::copy_file(kSource / "policies" / file, root.path() / "policies" / file);
  fs::create_directories(root / "out" / "index");

  std::ifstream family_in(testing::kDemoFamily / "family.json");
  const auto family = nlohmann::json::parse(family_in);
  std::ifstream fixture_in(fs::path(STAGEGATE_FIXTURES) / "release" / "demo-audit-aggregates.json");
  const auto fixture = nlohmann::json::parse(fixture_in)["aggregates"];

  db::Store store(root / "audit.db");
  for (const auto& s : family["stages"]) {
    const std::string stage = s["name"];
    testing::build_demo_index(stage, root.path() / "out" / "index" / (stage + ".sgidx"));
    db::CheckpointRecord c;
    c.sha256 = s["weights_sha256"];
    c.path = (root.path() / "models" / "demo" / stage).string();
    c.family = family["family"];
    c.stage = stage;
    c.architecture = "gpt2";
    const auto checkpoint = store.upsert_checkpoint(c);
    for (const char* plan : {"demo.ini", "toxicity-filter.ini"}) {
      std::vector<db::Aggregate> aggregates;
      for (const auto& a : fixture)
        if (a["stage"] == stage && a["plan"] == std::string(plan))
          aggregates.push_back({a["metric"], a["strategy"], a["slice"], a["value"],
                                a["ci_low"].get<double>(), a["ci_high"].get<double>(),
                                a["n"].get<std::int64_t>()});
      if (aggregates.empty()) continue;  // the filtered plan ran on stage 4 only
      const auto hash = audit::Plan::load(root.path() / "policies" / "plans" / plan,
                                          detectors::builtin_registry(), {{"stage", stage}})
                            .hash();
      const auto run = testing::create_run(store, testing::new_run(checkpoint, 0, hash));
      store.add_aggregates(run, aggregates);
      store.finish_run(run, db::RunStatus::kCompleted);
    }
  }

  const auto unfiltered =
      release::Policy::load(root.path() / "policies" / "examples" / "demo-unfiltered.ini");
  const auto without = release::decide(unfiltered, store, {.reviewer = "test", .today = ""});
  ASSERT_EQ(without.stages.size(), 4u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(without.stages[i].row.decision, "approved") << without.stages[i].row.reason;
  EXPECT_EQ(without.stages[3].row.stage, "stage4");
  EXPECT_EQ(without.stages[3].row.decision, "rejected");
  EXPECT_NE(without.stages[3].row.reason.find("toxicity.expected_max [toxicity.rtp] = 0.653"),
            std::string::npos)
      << without.stages[3].row.reason;
  EXPECT_TRUE(without.any_rejected());

  const auto policy = release::Policy::load(root.path() / "policies" / "demo.ini");
  const auto with = release::decide(policy, store, {.reviewer = "test", .today = ""});
  ASSERT_EQ(with.stages.size(), 4u);
  for (const auto& s : with.stages) {
    EXPECT_EQ(s.row.decision, "approved") << s.row.stage << ": " << s.row.reason;
    EXPECT_EQ(s.row.policy_hash, policy.sha256);
  }
  EXPECT_FALSE(with.any_rejected());
  // Stage 4's approval rests on the filtered audit: its evidence names that strategy's run.
  bool filtered_evidence = false;
  for (const auto& r : with.stages[3].evidence.requirements)
    filtered_evidence |= r.strategy == "toxicity.filtered" && r.outcome == "passed";
  EXPECT_TRUE(filtered_evidence);

  const auto chain = release::verify_chain(store, with.head);
  EXPECT_TRUE(chain.ok()) << chain.problems.front().message;
  EXPECT_EQ(chain.rows, 8);

  // The gate: under the unfiltered policy stage 4 was rejected and goes to no one; under the
  // demo policy the public gets it with exactly the stage's filters.
  EXPECT_THROW(release::grant_access(unfiltered, store, "stage4", "public"), AccessDenied);
  EXPECT_THROW(release::grant_access(unfiltered, store, "stage4", "researchers"), AccessDenied);
  const auto grant = release::grant_access(policy, store, "stage4", "public");
  ASSERT_TRUE(grant.decision);
  EXPECT_EQ(grant.decision->id, with.stages[3].row.id);
  EXPECT_EQ(names(grant.filters), (std::vector<std::string>{"no-leakage", "toxicity"}));
  EXPECT_EQ(names(release::grant_access(policy, store, "stage1", "public").filters),
            (std::vector<std::string>{"no-leakage"}));
}

}  // namespace
}  // namespace sg
