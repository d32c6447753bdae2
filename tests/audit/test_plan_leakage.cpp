// A strategy's verbatim-leakage filter in a plan: the index path is relative to the plan,
// the plan's hash follows the index's corpus and tokenizer (not where it lies) and the span
// length, and an index built with another tokenizer is refused.
#include <gtest/gtest.h>

#include "audit/plan.hpp"
#include "common/errors.hpp"
#include "memorization/index_builder.hpp"
#include "plan_files.hpp"

namespace sg::audit {
namespace {

namespace fs = std::filesystem;
namespace mem = detectors::memorization;
using testing::PlanDir;

const fs::path kStage1 = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo" / "stage1";

const std::string kLeakagePrompts = "{\"id\": \"a\", \"text\": \"Once upon a time\"}\n";

std::string plan_text(const std::string& leakage) {
  return "[prompts]\nfile = prompts.jsonl\n[strategy.greedy]\nsamples = 1\ntemperature = 0\n" +
         leakage;
}

// An index of one small document, under a made-up tokenizer hash.
void write_index(const fs::path& file, std::vector<std::int32_t> tokens,
                 const std::string& tokenizer_hash = std::string(64, 'a')) {
  mem::TokenizedCorpus c;
  c.vocab_size = 100;
  c.tokenizer_hash = tokenizer_hash;
  c.names = {"doc"};
  c.documents = {std::move(tokens)};
  mem::build_index(c, file, {.threads = 1, .progress = false});
}

Plan load_leakage_plan(const PlanDir& dir, const std::string& leakage) {
  dir.write("prompts.jsonl", kLeakagePrompts);
  return Plan::load(dir.write("plan.ini", plan_text(leakage)));
}

TEST(PlanLeakage, ReadsTheIndexRelativeToThePlanAndTheSpan) {
  PlanDir dir;
  fs::create_directories(dir.path() / "idx");
  write_index(dir.path() / "idx" / "c.sgidx", {1, 2, 3});
  const auto plan = load_leakage_plan(dir, "leakage_index = idx/c.sgidx\nleakage_n = 8\n");
  ASSERT_TRUE(plan.strategies.front().leakage);
  EXPECT_EQ(plan.strategies.front().leakage->n(), 8u);
  EXPECT_EQ(plan.strategies.front().leakage->index().token_count(), 3u);
  EXPECT_EQ(load_leakage_plan(dir, "leakage_index = idx/c.sgidx\n").strategies.front().leakage->n(),
            32u);
  EXPECT_FALSE(load_leakage_plan(dir, "").strategies.front().leakage);
}

TEST(PlanLeakage, TheHashFollowsTheCorpusAndTheSpanNotThePath) {
  PlanDir a, b;
  write_index(a.path() / "c.sgidx", {1, 2, 3});
  write_index(b.path() / "other-name.sgidx", {1, 2, 3});
  write_index(b.path() / "d.sgidx", {1, 2, 4});
  const auto base = load_leakage_plan(a, "leakage_index = c.sgidx\n").hash();
  EXPECT_EQ(load_leakage_plan(b, "leakage_index = other-name.sgidx\nleakage_n = 32\n").hash(),
            base);
  EXPECT_NE(load_leakage_plan(b, "leakage_index = d.sgidx\n").hash(), base);
  EXPECT_NE(load_leakage_plan(a, "leakage_index = c.sgidx\nleakage_n = 31\n").hash(), base);
  EXPECT_NE(load_leakage_plan(a, "").hash(), base);
}

TEST(PlanLeakage, BadSettingsAreNamed) {
  PlanDir dir;
  write_index(dir.path() / "c.sgidx", {1, 2, 3});
  auto message = [&](const std::string& leakage) {
    try {
      load_leakage_plan(dir, leakage);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  EXPECT_NE(message("leakage_n = 8\n").find("strategy.greedy.leakage_n"), std::string::npos);
  EXPECT_NE(message("leakage_n = 8\n").find("needs leakage_index"), std::string::npos);
  EXPECT_NE(message("leakage_index = c.sgidx\nleakage_n = 0\n").find("leakage_n"),
            std::string::npos);
  EXPECT_NE(message("leakage_index = missing.sgidx\n").find("missing.sgidx"), std::string::npos);
}

TEST(PlanLeakage, AnIndexOfAnotherTokenizerIsRefused) {
  PlanDir dir;
  write_index(dir.path() / "c.sgidx", {1, 2, 3});
  const auto plan = load_leakage_plan(dir, "leakage_index = c.sgidx\n");
  try {
    plan.check_indexes(kStage1);
    ADD_FAILURE() << "an index of another tokenizer was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("c.sgidx"), std::string::npos) << e.what();
  }
  write_index(dir.path() / "c.sgidx", {1, 2, 3}, mem::tokenizer_hash(kStage1));
  EXPECT_NO_THROW(load_leakage_plan(dir, "leakage_index = c.sgidx\n").check_indexes(kStage1));
}

}  // namespace
}  // namespace sg::audit
