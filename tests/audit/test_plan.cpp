// Audit plans: strict reading with file:line:key errors, and a hash that follows what the
// plan measures, not how the file is written.
#include <gtest/gtest.h>

#include "audit/plan.hpp"
#include "common/errors.hpp"
#include "plan_files.hpp"

namespace sg::audit {
namespace {

using testing::PlanDir;

const std::string kPrompts =
    "{\"id\": \"a\", \"text\": \"Once upon a time\"}\n{\"id\": \"b\", \"text\": \"The\"}\n";
const std::string kHeldout = "{\"text\": \"Held-out text.\"}\n";

const std::string kPlan =
    "# demo plan\n"
    "[prompts]\n"
    "file = data/prompts.jsonl\n"
    "\n"
    "[strategy.t07]\n"
    "samples = 3\n"
    "temperature = 0.7\n"
    "top_p = 0.95\n"
    "\n"
    "[strategy.greedy]\n"
    "samples = 1\n"
    "temperature = 0\n"
    "max_tokens = 32\n"
    "\n"
    "[detectors]\n"
    "enabled = perplexity\n"
    "\n"
    "[perplexity]\n"
    "heldout = data/heldout.jsonl\n"
    "stride = 256\n";

// The same plan, sections reordered, spacing, comments and number spelling changed.
const std::string kPlanRewritten =
    "[perplexity]   # settings first\n"
    "stride=256\n"
    "heldout=data/heldout.jsonl\n"
    "[strategy.greedy]\n"
    "max_tokens = 32\n"
    "temperature = 0.0\n"
    "samples = 1\n"
    "  [detectors]\n"
    "enabled = perplexity ,\n"
    "[strategy.t07]\n"
    "top_p = .950\n"
    "samples = 3\n"
    "temperature = 0.70\n"
    "top_k = 0\n"
    "[prompts]\n"
    "file = data/prompts.jsonl\n";

Plan load(const PlanDir& dir, const std::string& plan, const std::string& prompts = kPrompts,
          const std::string& heldout = kHeldout) {
  dir.write("data/prompts.jsonl", prompts);
  dir.write("data/heldout.jsonl", heldout);
  return Plan::load(dir.write("plan.ini", plan));
}

void expect_error(const std::string& plan, const std::vector<std::string>& fragments) {
  PlanDir dir;
  try {
    load(dir, plan);
    ADD_FAILURE() << "loaded without error:\n" << plan;
  } catch (const InputError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message lacks '" << f << "': " << e.what();
  }
}

TEST(Plan, ReadsStrategiesDetectorsAndFilesRelativeToThePlan) {
  PlanDir dir;
  const auto plan = load(dir, kPlan);
  ASSERT_EQ(plan.strategies.size(), 2u);
  const auto& greedy = plan.strategies[0];  // sorted by name
  EXPECT_EQ(greedy.name, "greedy");
  EXPECT_EQ(greedy.samples, 1);
  EXPECT_EQ(greedy.temperature, 0.0);
  EXPECT_EQ(greedy.max_tokens, 32);
  EXPECT_EQ(greedy.top_p, 1.0);  // defaults
  EXPECT_EQ(greedy.repetition_penalty, 1.0);
  const auto& t07 = plan.strategies[1];
  EXPECT_EQ(t07.name, "t07");
  EXPECT_EQ(t07.samples, 3);
  EXPECT_EQ(t07.max_tokens, 64);
  EXPECT_EQ(t07.top_p, 0.95);
  EXPECT_EQ(plan.prompts_file, dir.path() / "data/prompts.jsonl");
  ASSERT_EQ(plan.prompts.records.size(), 2u);
  EXPECT_EQ(plan.prompts.records[1].id, "b");
  ASSERT_EQ(plan.detectors.size(), 1u);
  EXPECT_EQ(plan.detectors[0].name, "perplexity");
  const auto& heldout = plan.detectors[0].jobs.score;
  ASSERT_EQ(heldout.size(), 1u);
  EXPECT_EQ(heldout[0].text, "Held-out text.");
  EXPECT_EQ(heldout[0].stride, 256);
  EXPECT_EQ(heldout[0].strategy, "perplexity.heldout");
  EXPECT_EQ(heldout[0].origin, (dir.path() / "data/heldout.jsonl").string() + ":1");
  // The detector's section enters the canonical text as it did before the detector seam,
  // so plans keep their hashes (and audits made before it stay resumable).
  EXPECT_NE(plan.canonical_text().find("\n[detectors]\nenabled = perplexity\n\n[perplexity]\n"
                                       "heldout_sha256 = "),
            std::string::npos);
  EXPECT_NE(plan.canonical_text().find("\nstride = 256\n"), std::string::npos);
  EXPECT_EQ(plan.samples_planned(), 2 * (3 + 1));
  EXPECT_EQ(plan.hash().size(), 64u);
}

TEST(Plan, HashIgnoresOrderSpacingCommentsAndNumberSpelling) {
  PlanDir a, b;
  const auto one = load(a, kPlan);
  const auto two = load(b, kPlanRewritten);
  EXPECT_EQ(one.canonical_text(), two.canonical_text());
  EXPECT_EQ(one.hash(), two.hash());
}

TEST(Plan, HashChangesWithAnyValueOrFileContent) {
  PlanDir dir;
  const auto base = load(dir, kPlan).hash();
  auto changed = [&](const std::string& from, const std::string& to) {
    std::string text = kPlan;
    text.replace(text.find(from), from.size(), to);
    PlanDir d;
    return load(d, text).hash();
  };
  EXPECT_NE(changed("samples = 3", "samples = 4"), base);
  EXPECT_NE(changed("temperature = 0.7", "temperature = 0.8"), base);
  EXPECT_NE(changed("top_p = 0.95", "top_p = 0.95\ntop_k = 40"), base);
  EXPECT_NE(changed("stride = 256", "stride = 128"), base);
  EXPECT_NE(changed("[strategy.t07]", "[strategy.t7]"), base);
  PlanDir d1, d2;
  EXPECT_NE(load(d1, kPlan, kPrompts + "{\"text\": \"more\"}\n").hash(), base);
  EXPECT_NE(load(d2, kPlan, kPrompts, "{\"text\": \"Other held-out text.\"}\n").hash(), base);
}

TEST(Plan, HashDoesNotDependOnWhereTheFilesLie) {
  PlanDir a, b;
  const auto here = load(a, kPlan).hash();
  b.write("elsewhere/p.jsonl", kPrompts);
  b.write("elsewhere/h.jsonl", kHeldout);
  std::string text = kPlan;
  text.replace(text.find("data/prompts.jsonl"), 18, "../elsewhere/p.jsonl");
  text.replace(text.find("data/heldout.jsonl"), 18, "../elsewhere/h.jsonl");
  const auto moved = Plan::load(b.write("plans/moved.ini", text));  // paths relative to the plan
  EXPECT_EQ(moved.prompts_file, b.path() / "plans/../elsewhere/p.jsonl");
  EXPECT_EQ(moved.hash(), here);
}

TEST(Plan, BadSettingsNameFileLineAndKey) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string text = kPlan;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  expect_error(with("top_p = 0.95", "top_p = 0"), {"plan.ini:8:", "strategy.t07.top_p", "(0, 1]"});
  expect_error(with("samples = 3", "samples = 0"), {"plan.ini:6:", "strategy.t07.samples"});
  // 2^32 + 1 fits the 64-bit parse; narrowed to int it would have been 1.
  expect_error(with("max_tokens = 32", "max_tokens = 4294967297"),
               {"plan.ini:13:", "strategy.greedy.max_tokens", "out of range", "[1, 1048576]"});
  expect_error(with("samples = 3", "samples = 4294967297"),
               {"plan.ini:6:", "strategy.t07.samples", "out of range"});
  expect_error(with("top_p = 0.95", "top_p = 0.95\ntop_k = 4294967296"),
               {"plan.ini:9:", "strategy.t07.top_k", "out of range"});
  expect_error(with("stride = 256", "stride = 99999999999"), {"plan.ini:20:", "perplexity.stride"});
  expect_error(with("stride = 256", "strdie = 256"),
               {"plan.ini:20:", "perplexity.strdie", "did you mean 'stride'?"});
  expect_error(with("enabled = perplexity", "enabled = perplexty"),
               {"plan.ini:16:", "unknown detector 'perplexty'", "did you mean 'perplexity'?"});
  expect_error(with("temperature = 0.7", "temperature = -1"), {"plan.ini:7:", "temperature"});
  expect_error(with("max_tokens = 32", "max_tokens = 0"), {"plan.ini:13:", "max_tokens"});
  expect_error(with("stride = 256", "stride = -2"), {"plan.ini:20:", "perplexity.stride"});
  expect_error(with("top_p = 0.95", "top_p = 0.95\nseed = 4"),
               {"plan.ini:9:", "strategy.t07.seed", "unknown key"});
  expect_error(with("samples = 3", "samples = 3\nsamples = 3"),
               {"plan.ini:7:", "strategy.t07.samples", "repeated"});
  expect_error(with("[detectors]", "[detector]"),
               {"plan.ini:15:", "[detector]", "unknown section"});
  expect_error(with("enabled = perplexity", "enabled = perplexity, fairness"),
               {"plan.ini:16:", "detectors.enabled", "unknown detector 'fairness'"});
  expect_error(with("enabled = perplexity", "enabled ="),
               {"plan.ini:18:", "[perplexity]", "does not list"});
  expect_error(with("file = data/prompts.jsonl", "file = data/missing.jsonl"),
               {"plan.ini:3:", "prompts.file", "missing.jsonl"});
}

TEST(Plan, AWholePlanMustHangTogether) {
  expect_error("[prompts]\nfile = data/prompts.jsonl\n",
               {"plan.ini:1:", "[prompts]", "no [strategy.NAME]"});
  expect_error("[strategy.g]\nsamples = 1\n", {"plan.ini", "[prompts]", "missing section"});
  expect_error("[detectors]\nenabled = perplexity\n",
               {"plan.ini", "[perplexity]", "missing section"});
  expect_error("[detectors]\nenabled =\n", {"plan.ini", "nothing to audit"});
  expect_error("", {"plan.ini", "nothing to audit"});
}

TEST(Plan, PromptFileErrorsNameThePromptFileAndLine) {
  PlanDir dir;
  try {
    load(dir, kPlan, kPrompts + "{\"text\": oops}\n");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("prompts.jsonl:3:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sg::audit
