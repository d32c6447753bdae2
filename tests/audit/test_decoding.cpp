// Decoding settings in plans: the repetition controls and the loop stop are read, checked
// (file:line:key errors), hashed only when not at their defaults, stored and turned into the
// engine's settings.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "audit/decoding.hpp"
#include "audit/plan.hpp"
#include "common/errors.hpp"
#include "plan_files.hpp"

namespace sg::audit {
namespace {

using testing::PlanDir;

const std::string kPrompts = "{\"id\": \"a\", \"text\": \"Once upon a time\"}\n";

const std::string kPlan =
    "[prompts]\n"
    "file = prompts.jsonl\n"
    "[strategy.greedy]\n"
    "samples = 1\n"
    "temperature = 0\n"
    "max_tokens = 32\n";

Plan load(const PlanDir& dir, const std::string& plan) {
  dir.write("prompts.jsonl", kPrompts);
  return Plan::load(dir.write("plan.ini", plan));
}

Plan load_with(const std::string& extra) {
  PlanDir dir;
  return load(dir, kPlan + extra);
}

void expect_error(const std::string& extra, const std::vector<std::string>& fragments) {
  try {
    load_with(extra);
    ADD_FAILURE() << "loaded without error:\n" << extra;
  } catch (const InputError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message lacks '" << f << "': " << e.what();
  }
}

const std::string kControls =
    "presence_penalty = 0.5\n"
    "frequency_penalty = -0.25\n"
    "dry_multiplier = 0.8\n"
    "dry_base = 2\n"
    "dry_allowed_length = 3\n"
    "dry_penalty_last_n = 128\n"
    "dry_sequence_breakers = [\"\\n\", \"\\u0023\", \"the end\"]\n"
    "stop_on_loop = true\n"
    "loop_min_period = 2\n"
    "loop_max_period = 64\n"
    "loop_min_repeats = 4\n"
    "loop_min_length = 20\n";

TEST(Decoding, ReadsTheRepetitionControlsAndTheLoopStop) {
  const auto plan = load_with(kControls);
  ASSERT_EQ(plan.strategies.size(), 1u);
  const auto& s = plan.strategies[0];
  EXPECT_EQ(s.presence_penalty, 0.5);
  EXPECT_EQ(s.frequency_penalty, -0.25);
  EXPECT_EQ(s.dry_multiplier, 0.8);
  EXPECT_EQ(s.dry_base, 2.0);
  EXPECT_EQ(s.dry_allowed_length, 3);
  EXPECT_EQ(s.dry_penalty_last_n, 128);
  EXPECT_EQ(s.dry_sequence_breakers, (std::vector<std::string>{"\n", "#", "the end"}));
  EXPECT_TRUE(s.stop_on_loop);
  EXPECT_EQ(s.loop_min_period, 2);
  EXPECT_EQ(s.loop_max_period, 64);
  EXPECT_EQ(s.loop_min_repeats, 4);
  EXPECT_EQ(s.loop_min_length, 20);
  // Defaults: llama.cpp's for DRY, the issue's loop definition.
  const Decoding d;
  EXPECT_EQ(d.dry_base, 1.75);
  EXPECT_EQ(d.dry_allowed_length, 2);
  EXPECT_EQ(d.dry_penalty_last_n, -1);
  EXPECT_EQ(d.dry_sequence_breakers, (std::vector<std::string>{"\n", ":", "\"", "*"}));
  EXPECT_EQ(d.loop_max_period, 256);
  EXPECT_EQ(d.loop_min_repeats, 3);
  EXPECT_EQ(d.loop_min_length, 16);
}

TEST(Decoding, OnlyNonDefaultControlsEnterTheCanonicalTextAndTheHash) {
  // A strategy without the new keys states exactly what it stated before they existed.
  const auto plain = load_with("");
  const std::string before =
      "\n[strategy.greedy]\nsamples = 1\nmax_tokens = 32\ntemperature = 0\ntop_k = 0\n"
      "top_p = 1\nrepetition_penalty = 1\nno_repeat_ngram_size = 0\n\n[detectors]\n";
  EXPECT_NE(plain.canonical_text().find(before), std::string::npos) << plain.canonical_text();
  // Writing the defaults out changes nothing.
  const auto defaults = load_with(
      "presence_penalty = 0\nfrequency_penalty = 0.0\ndry_multiplier = 0\nstop_on_loop = false\n");
  EXPECT_EQ(defaults.hash(), plain.hash());
  const auto with_dry_defaults = load_with(
      "dry_multiplier = 0.8\ndry_base = 1.75\ndry_allowed_length = 2\ndry_penalty_last_n = -1\n"
      "dry_sequence_breakers = [\"\\n\", \":\", \"\\\"\", \"*\"]\n");
  EXPECT_EQ(with_dry_defaults.hash(), load_with("dry_multiplier = 0.8\n").hash());
  // Each setting away from its default changes it, stated in the canonical text.
  const auto all = load_with(kControls);
  EXPECT_NE(all.canonical_text().find(
                "no_repeat_ngram_size = 0\npresence_penalty = 0.5\nfrequency_penalty = -0.25\n"
                "dry_multiplier = 0.8\ndry_base = 2\ndry_allowed_length = 3\n"
                "dry_penalty_last_n = 128\ndry_sequence_breakers = [\"\\n\",\"#\",\"the end\"]\n"
                "stop_on_loop = true\nloop_min_period = 2\nloop_max_period = 64\n"
                "loop_min_repeats = 4\nloop_min_length = 20\n\n"),
            std::string::npos)
      << all.canonical_text();
  for (const std::string extra :
       {"presence_penalty = 0.1\n", "frequency_penalty = 0.1\n", "dry_multiplier = 1\n",
        "dry_multiplier = 1\ndry_base = 1.5\n", "dry_multiplier = 1\ndry_allowed_length = 4\n",
        "dry_multiplier = 1\ndry_penalty_last_n = 64\n",
        "dry_multiplier = 1\ndry_sequence_breakers = []\n", "stop_on_loop = true\n",
        "stop_on_loop = true\nloop_min_period = 2\n", "stop_on_loop = true\nloop_max_period = 32\n",
        "stop_on_loop = true\nloop_min_repeats = 5\n",
        "stop_on_loop = true\nloop_min_length = 8\n"}) {
    EXPECT_NE(load_with(extra).hash(), plain.hash()) << extra;
  }
  EXPECT_NE(load_with("dry_multiplier = 1\ndry_base = 1.5\n").hash(),
            load_with("dry_multiplier = 1\n").hash());
}

TEST(Decoding, BadControlsNameFileLineAndKey) {
  // kPlan has 6 lines: the extra settings start at line 7.
  expect_error("presence_penalty = 2.5\n",
               {"plan.ini:7:", "strategy.greedy.presence_penalty", "[-2, 2]"});
  expect_error("frequency_penalty = -3\n", {"plan.ini:7:", "frequency_penalty", "[-2, 2]"});
  expect_error("dry_multiplier = -1\n", {"plan.ini:7:", "dry_multiplier", "out of range"});
  expect_error("dry_multiplier = 1\ndry_base = 0.5\n",
               {"plan.ini:8:", "strategy.greedy.dry_base", "[1, 100]"});
  expect_error("dry_multiplier = 1\ndry_penalty_last_n = -2\n",
               {"plan.ini:8:", "dry_penalty_last_n", "[-1, "});
  expect_error("dry_multiplier = 1\ndry_allowed_length = 2.5\n",
               {"plan.ini:8:", "dry_allowed_length", "not an integer"});
  expect_error("dry_base = 2\n", {"plan.ini:7:", "dry_base", "no effect", "dry_multiplier"});
  expect_error("dry_sequence_breakers = []\n", {"plan.ini:7:", "no effect"});
  expect_error("dry_multiplier = 1\ndry_sequence_breakers = \\n\n",
               {"plan.ini:8:", "dry_sequence_breakers", "JSON array of strings"});
  expect_error("dry_multiplier = 1\ndry_sequence_breakers = [1]\n",
               {"plan.ini:8:", "dry_sequence_breakers", "not a string"});
  expect_error("dry_multiplier = 1\ndry_sequence_breakers = [\"\"]\n",
               {"plan.ini:8:", "dry_sequence_breakers", "empty"});
  expect_error("stop_on_loop = maybe\n", {"plan.ini:7:", "stop_on_loop"});
  expect_error("loop_max_period = 8\n", {"plan.ini:7:", "loop_max_period", "stop_on_loop"});
  expect_error("stop_on_loop = true\nloop_min_period = 9\nloop_max_period = 8\n",
               {"plan.ini:8:", "loop_min_period", "exceeds loop_max_period (8)"});
  expect_error("stop_on_loop = true\nloop_min_repeats = 1\n",
               {"plan.ini:8:", "loop_min_repeats", "[2, 65536]"});
  expect_error("stop_on_loop = true\nloop_max_period = 0\n", {"plan.ini:8:", "loop_max_period"});
}

TEST(Decoding, StoredWithTheSampleAsJsonOfTheNonDefaults) {
  const auto plain = stored_decoding(load_with("").strategies[0]);
  EXPECT_EQ(plain.decoding_json, "{}");
  EXPECT_EQ(plain.temperature, 0.0);
  EXPECT_EQ(plain.max_tokens, 32);
  const auto all = stored_decoding(load_with(kControls).strategies[0]);
  EXPECT_EQ(nlohmann::json::parse(all.decoding_json),
            (nlohmann::json{{"presence_penalty", 0.5},
                            {"frequency_penalty", -0.25},
                            {"dry_multiplier", 0.8},
                            {"dry_base", 2.0},
                            {"dry_allowed_length", 3},
                            {"dry_penalty_last_n", 128},
                            {"dry_sequence_breakers", {"\n", "#", "the end"}},
                            {"stop_on_loop", true},
                            {"loop_min_period", 2},
                            {"loop_max_period", 64},
                            {"loop_min_repeats", 4},
                            {"loop_min_length", 20}}));
}

TEST(Decoding, BecomesTheEnginesSettings) {
  const auto tok = tokenizer::load(std::filesystem::path(STAGEGATE_FIXTURES) / "models/gpt2-f32");
  const auto p = sampling_params(load_with(kControls).strategies[0], tok.get());
  EXPECT_EQ(p.temperature, 0.0f);
  EXPECT_EQ(p.max_tokens, 32);
  EXPECT_EQ(p.presence_penalty, 0.5f);
  EXPECT_EQ(p.frequency_penalty, -0.25f);
  EXPECT_EQ(p.dry.multiplier, 0.8f);
  EXPECT_EQ(p.dry.base, 2.0f);
  EXPECT_EQ(p.dry.allowed_length, 3);
  EXPECT_EQ(p.dry.penalty_last_n, 128);
  ASSERT_TRUE(p.dry.breakers);
  const auto newline = tok->encode("\n");
  ASSERT_EQ(newline.size(), 1u);
  EXPECT_TRUE(p.dry.breakers->tails_by_head.count(newline[0]));
  ASSERT_EQ(p.filters.size(), 1u);  // the loop stop
  // It stops a loop of period 2 (>= loop_min_period) only after 4 periods and 20 tokens.
  auto filter = p.filters[0]->make();
  std::vector<std::int32_t> out;
  std::size_t stopped_at = 0;
  for (int i = 0; i < 40 && !stopped_at; ++i) {
    out.push_back(i % 2);
    if (filter->stop({{}, out})) stopped_at = out.size();
  }
  EXPECT_EQ(stopped_at, 20u);
  // Breakers need a tokenizer to be spelled; none are fine without one.
  EXPECT_THROW(sampling_params(load_with(kControls).strategies[0], nullptr), InputError);
  auto no_breakers = load_with(kControls).strategies[0];
  no_breakers.dry_sequence_breakers.clear();
  EXPECT_FALSE(sampling_params(no_breakers, nullptr).dry.breakers);
  // Defaults: nothing beyond the plain settings.
  const auto plain = sampling_params(Decoding{}, nullptr);
  EXPECT_FALSE(plain.dry.enabled());
  EXPECT_TRUE(plain.filters.empty());
  EXPECT_TRUE(make_chain(plain).empty());
}

TEST(Decoding, CheckNamesTheFirstProblem) {
  Decoding d;
  EXPECT_FALSE(check_decoding(d, {}));
  d.top_p = 0;
  auto p = check_decoding(d, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->key, "top_p");
  EXPECT_EQ(p->message, "0 is out of range: must be in (0, 1]");
  Decoding e;
  e.loop_min_length = 8;
  EXPECT_EQ(check_decoding(e, {"loop_min_length"})->key, "loop_min_length");
  EXPECT_FALSE(check_decoding(e, {}));  // not given by the user: a default, not an error
}

}  // namespace
}  // namespace sg::audit
