// Policy files that are valid: the demo policies, release order, the filters and
// requirements a stage gets, the manifest comparison and the lookups.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "release/policy.hpp"

namespace sg::release {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = STAGEGATE_SOURCE_DIR;

std::vector<std::string> names(const std::vector<const FilterSpec*>& filters) {
  std::vector<std::string> out;
  for (const auto* f : filters) out.push_back(f->name);
  return out;
}

std::vector<std::string> names(const std::vector<const Requirement*>& requirements) {
  std::vector<std::string> out;
  for (const auto* r : requirements) out.push_back(r->name);
  return out;
}

std::vector<std::string> stage_names(const Policy& p) {
  std::vector<std::string> out;
  for (const auto& s : p.stages) out.push_back(s.name);
  return out;
}

// A policy in a temporary folder beside a copy of nothing: paths in it are absolute.
class PolicyText : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sg-policy-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Policy parse(const std::string& body) {
    const auto file = dir_ / "policy.ini";
    std::ofstream(file, std::ios::binary) << body;
    return Policy::load(file);
  }

  std::string stage(const std::string& name, const std::string& extra = "") const {
    return "[stage." + name + "]\ncheckpoint = " + (kSource / "models/demo/stage1").string() +
           "\nsha256 = " + std::string(64, 'a') + "\naudiences = all\n" + extra;
  }

  fs::path dir_;
};

TEST(Policy, DemoPolicyReadsAsDocumented) {
  const auto p = Policy::load(kSource / "policies/demo.ini");
  EXPECT_EQ(p.family, "stagegate-demo");
  ASSERT_EQ(stage_names(p), (std::vector<std::string>{"stage1", "stage2", "stage3", "stage4"}));
  EXPECT_EQ(p.stage("stage4").sha256,
            "2c93076d1ee3242d00b21acf0ec92263f513de12f19c20c98ed23d26d3bf69ae");
  EXPECT_EQ(p.stage("stage4").checkpoint, kSource / "models/demo/stage4");
  EXPECT_EQ(p.stage("stage2").after, std::vector<std::string>{"stage1"});
  EXPECT_EQ(p.stage("stage1").not_before, "2019-02-14");
  EXPECT_EQ(p.stage("stage4").not_before, "2019-11-05");

  EXPECT_EQ(names(p.requirements_for("stage1")),
            (std::vector<std::string>{"perplexity", "canaries", "toxicity"}));
  EXPECT_EQ(names(p.requirements_for("stage4")),
            (std::vector<std::string>{"perplexity", "canaries", "toxicity-filtered"}));
  const auto& filtered = *p.requirements_for("stage4").back();
  EXPECT_EQ(filtered.metric, "toxicity.expected_max");
  EXPECT_EQ(filtered.strategy, "toxicity.filtered");
  EXPECT_EQ(filtered.plan, kSource / "policies/plans/toxicity-filter.ini");
  EXPECT_EQ(filtered.comparison, Comparison::kLessEqual);
  EXPECT_EQ(filtered.estimate, Estimate::kConservative);
  EXPECT_DOUBLE_EQ(filtered.threshold, 0.3);

  EXPECT_TRUE(p.audience("researchers").unreleased);
  EXPECT_FALSE(p.audience("public").unreleased);
  EXPECT_EQ(p.audience("public").requests_per_minute, 60);
  EXPECT_EQ(p.audience("public").tokens_per_minute, 20000);
  EXPECT_EQ(p.audience("researchers").requests_per_minute, 0);

  EXPECT_EQ(names(p.filters_for("stage1", "public")), std::vector<std::string>{"no-leakage"});
  EXPECT_EQ(names(p.filters_for("stage4", "public")),
            (std::vector<std::string>{"no-leakage", "toxicity"}));
  EXPECT_EQ(names(p.filters_for("stage4", "researchers")),
            (std::vector<std::string>{"no-leakage", "toxicity"}));
}

// The stage-4 filter repeats plans/toxicity-filter.ini's [strategy.filtered], whose audit
// is what lets stage 4 out.
TEST(Policy, DemoToxicityFilterIsTheFilteredStrategysDecoding) {
  const auto p = Policy::load(kSource / "policies/demo.ini");
  const auto filters = p.filters_for("stage4", "public");
  ASSERT_EQ(filters.size(), 2u);
  const auto& leak = *filters[0];
  EXPECT_EQ(leak.type, FilterSpec::Type::kLeakage);
  EXPECT_EQ(leak.index, kSource / "out/index/{stage}.sgidx");
  EXPECT_EQ(leak.leakage_n, 32);
  const auto& tox = *filters[1];
  EXPECT_EQ(tox.type, FilterSpec::Type::kToxicity);
  EXPECT_EQ(tox.settings.filters, std::vector<std::string>{"toxicity"});
  EXPECT_EQ(tox.settings.toxicity_scorer,
            "classifier:" + (kSource / "models/demo/toxicity-classifier").string());
  EXPECT_EQ(tox.settings.toxicity_action, "regenerate");
  EXPECT_EQ(tox.settings.toxicity_retries, 3);
  EXPECT_EQ(tox.settings.toxicity_block_severity, 1);
  EXPECT_DOUBLE_EQ(tox.settings.toxicity_threshold, 0.5);
  EXPECT_EQ(tox.keys, (std::vector<std::string>{"filters", "toxicity_scorer", "toxicity_threshold",
                                                "toxicity_action", "toxicity_retries",
                                                "toxicity_block_severity"}));
}

TEST(Policy, UnfilteredExampleReadsStage4ToxicityUnfiltered) {
  const auto p = Policy::load(kSource / "policies/examples/demo-unfiltered.ini");
  EXPECT_TRUE(p.filters_for("stage4", "public").empty());
  const auto requirements = p.requirements_for("stage4");
  ASSERT_EQ(names(requirements), (std::vector<std::string>{"perplexity", "canaries", "toxicity"}));
  EXPECT_EQ(requirements.back()->strategy, "toxicity.rtp");
  EXPECT_EQ(requirements.back()->plan, kSource / "policies/plans/demo.ini");
  // Both name the same family and checkpoints: only the filters and stage 4's requirement differ.
  const auto demo = Policy::load(kSource / "policies/demo.ini");
  for (const auto& s : demo.stages) EXPECT_EQ(p.stage(s.name).sha256, s.sha256);
  EXPECT_NE(p.sha256, demo.sha256);
}

TEST(Policy, DemoPoliciesAgreeWithTheFamilyManifest) {
  for (const auto* file : {"policies/demo.ini", "policies/examples/demo-unfiltered.ini"}) {
    const auto p = Policy::load(kSource / file);
    for (const auto& w : p.warnings) EXPECT_EQ(w.find("family.json"), std::string::npos) << w;
  }
}

TEST_F(PolicyText, HashIsTheFilesBytes) {
  const std::string body = "[family]\nname = f\n[audience.all]\n" + stage("a");
  const auto p = parse(body);
  EXPECT_EQ(p.sha256, sha256_hex(body));
  EXPECT_EQ(p.file, dir_ / "policy.ini");
}

TEST_F(PolicyText, ReleaseOrderPutsAfterFirstThenFileOrder) {
  const auto p = parse("[family]\nname = f\n[audience.all]\n" + stage("c", "after = b\n") +
                       stage("b", "after = a\n") + stage("x") + stage("a"));
  EXPECT_EQ(stage_names(p), (std::vector<std::string>{"a", "b", "c", "x"}));
  const auto q = parse("[family]\nname = f\n[audience.all]\n" + stage("z") + stage("y") +
                       stage("w", "after = z, y\n"));
  EXPECT_EQ(stage_names(q), (std::vector<std::string>{"z", "y", "w"}));
}

TEST_F(PolicyText, FiltersOfAPairAreTheUnionInFileOrderEachOnce) {
  const auto p = parse(
      "[family]\nname = f\n[audience.all]\nfilters = rep\n[audience.few]\n"
      "[stage.a]\ncheckpoint = x\nsha256 = " +
      std::string(64, 'B') +
      "\naudiences = all, few\nfilters = tox, rep\n"
      "[access.more]\nstage = a\naudience = few\nfilters = leak\n"
      "[filter.leak]\ntype = leakage\nindex = idx/{stage}.sgidx\n"
      "[filter.rep]\ntype = repetition\nstop_on_loop = true\n"
      "[filter.tox]\ntype = toxicity\nblock_severity = 2\n");
  EXPECT_EQ(names(p.filters_for("a", "all")), (std::vector<std::string>{"rep", "tox"}));
  EXPECT_EQ(names(p.filters_for("a", "few")), (std::vector<std::string>{"leak", "rep", "tox"}));
  EXPECT_TRUE(p.filters_for("nope", "nobody").empty());
  // Upper-case hex is read as the lower-case the store compares.
  EXPECT_EQ(p.stage("a").sha256, std::string(64, 'b'));
  EXPECT_EQ(p.stage("a").checkpoint, dir_ / "x");
  // The in-loop block alone does not turn the after-generation filter on.
  const auto& tox = *p.filters_for("a", "all")[1];
  EXPECT_TRUE(tox.settings.filters.empty());
  EXPECT_EQ(tox.keys, std::vector<std::string>{"toxicity_block_severity"});
  const auto& rep = *p.filters_for("a", "all")[0];
  EXPECT_TRUE(rep.settings.stop_on_loop);
  EXPECT_EQ(rep.keys, std::vector<std::string>{"stop_on_loop"});
}

TEST_F(PolicyText, WarnsWhereTheManifestListsAnotherHash) {
  std::ofstream(dir_ / "family.json")
      << R"({"family": "f", "stages": [{"name": "a", "directory": "a", "weights_sha256": ")"
      << std::string(64, 'c') << R"("}]})";
  const auto p = parse(
      "[family]\nname = f\nmanifest = family.json\n[audience.all]\n" + stage("a") +
      "[requirement.r]\nstages = a\nplan = " + (kSource / "policies/plans/demo.ini").string() +
      "\nmetric = perplexity.heldout\ncomparison = <\nthreshold = 1\n");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("lists weights_sha256 " + std::string(64, 'c')), std::string::npos)
      << p.warnings[0];
  EXPECT_NE(p.warnings[0].find("the policy is the authority"), std::string::npos);
}

TEST_F(PolicyText, WarnsAboutAStageNoRequirementGuards) {
  const auto p = parse("[family]\nname = f\n[audience.all]\n" + stage("a"));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("no requirement applies"), std::string::npos);
}

TEST_F(PolicyText, LookupsNameWhatExists) {
  const auto p = parse("[family]\nname = f\n[audience.all]\n" + stage("alpha"));
  EXPECT_EQ(p.stage("alpha").name, "alpha");
  try {
    (void)p.stage("alpah");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'alpha'"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)p.audience("public"), InputError);
}

TEST_F(PolicyText, CommentsBlankLinesByteOrderMarkAndCrlfAreText) {
  const auto p = parse(
      "\xEF\xBB\xBF# a policy\r\n\r\n[family]\r\nname = f  # the family\r\n"
      "[audience.all]\r\n[stage.a]\r\ncheckpoint = x\r\nsha256 = " +
      std::string(64, 'a') + "\r\naudiences = all\r\n");
  EXPECT_EQ(p.family, "f");
  EXPECT_EQ(p.stage("a").audiences, std::vector<std::string>{"all"});
}

}  // namespace
}  // namespace sg::release
