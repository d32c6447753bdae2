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

const std::string kDecodingPrompts = "{\"id\": \"a\", \"text\": \"Once upon a time\"}\n";

const std::string kDecodingPlan =
    "[prompts]\n"
    "file = prompts.jsonl\n"
    "[strategy.greedy]\n"
    "samples = 1\n"
    "temperature = 0\n"
    "max_tokens = 32\n";

Plan load_decoding_plan(const PlanDir& dir, const std::string& plan) {
  dir.write("prompts.jsonl", kDecodingPrompts);
  return Plan::load(dir.write("plan.ini", plan));
}

Plan load_with(const std::string& extra) {
  PlanDir dir;
  return load_decoding_plan(dir, kDecodingPlan + extra);
}

void expect_decoding_error(const std::string& extra, const std::vector<std::string>& fragments) {
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
  // kDecodingPlan has 6 lines: the extra settings start at line 7.
  expect_decoding_error("presence_penalty = 2.5\n",
                        {"plan.ini:7:", "strategy.greedy.presence_penalty", "[-2, 2]"});
  expect_decoding_error("frequency_penalty = -3\n",
                        {"plan.ini:7:", "frequency_penalty", "[-2, 2]"});
  expect_decoding_error("dry_multiplier = -1\n", {"plan.ini:7:", "dry_multiplier", "out of range"});
  expect_decoding_error("dry_multiplier = 1\ndry_base = 0.5\n",
                        {"plan.ini:8:", "strategy.greedy.dry_base", "[1, 100]"});
  expect_decoding_error("dry_multiplier = 1\ndry_penalty_last_n = -2\n",
                        {"plan.ini:8:", "dry_penalty_last_n", "[-1, "});
  expect_decoding_error("dry_multiplier = 1\ndry_allowed_length = 2.5\n",
                        {"plan.ini:8:", "dry_allowed_length", "not an integer"});
  expect_decoding_error("dry_base = 2\n",
                        {"plan.ini:7:", "dry_base", "no effect", "dry_multiplier"});
  expect_decoding_error("dry_sequence_breakers = []\n", {"plan.ini:7:", "no effect"});
  expect_decoding_error("dry_multiplier = 1\ndry_sequence_breakers = \\n\n",
                        {"plan.ini:8:", "dry_sequence_breakers", "JSON array of strings"});
  expect_decoding_error("dry_multiplier = 1\ndry_sequence_breakers = [1]\n",
                        {"plan.ini:8:", "dry_sequence_breakers", "not a string"});
  expect_decoding_error("dry_multiplier = 1\ndry_sequence_breakers = [\"\"]\n",
                        {"plan.ini:8:", "dry_sequence_breakers", "empty"});
  expect_decoding_error("stop_on_loop = maybe\n", {"plan.ini:7:", "stop_on_loop"});
  expect_decoding_error("loop_max_period = 8\n",
                        {"plan.ini:7:", "loop_max_period", "stop_on_loop"});
  expect_decoding_error("stop_on_loop = true\nloop_min_period = 9\nloop_max_period = 8\n",
                        {"plan.ini:8:", "loop_min_period", "exceeds loop_max_period (8)"});
  expect_decoding_error("stop_on_loop = true\nloop_min_repeats = 1\n",
                        {"plan.ini:8:", "loop_min_repeats", "[2, 65536]"});
  expect_decoding_error("stop_on_loop = true\nloop_max_period = 0\n",
                        {"plan.ini:8:", "loop_max_period"});
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

// Scores 1 for any text: the filter acts on every completion.
class AlwaysToxic : public detectors::toxicity::Scorer {
 public:
  std::string canonical() const override { return "always"; }
  std::vector<detectors::toxicity::Score> score(std::span<const std::string_view> t) override {
    return std::vector<detectors::toxicity::Score>(t.size(), {1.0, {}, "{}"});
  }
};

const std::string kToxicity =
    "filters = toxicity\n"
    "toxicity_threshold = 0.7\n"
    "toxicity_action = regenerate\n"
    "toxicity_retries = 2\n"
    "toxicity_block_severity = 3\n";

TEST(Decoding, ReadsTheToxicityFilterKeys) {
  const auto s = load_with(kToxicity).strategies[0];
  EXPECT_EQ(s.filters, (std::vector<std::string>{"toxicity"}));
  EXPECT_EQ(s.toxicity_scorer, "lexicon");
  EXPECT_EQ(s.toxicity_threshold, 0.7);
  EXPECT_EQ(s.toxicity_action, "regenerate");
  EXPECT_EQ(s.toxicity_retries, 2);
  EXPECT_EQ(s.toxicity_block_severity, 3);
  EXPECT_NE(load_with(kToxicity).canonical_text().find(
                "no_repeat_ngram_size = 0\nfilters = [\"toxicity\"]\ntoxicity_threshold = 0.7\n"
                "toxicity_action = \"regenerate\"\ntoxicity_retries = 2\n"
                "toxicity_block_severity = 3\n\n"),
            std::string::npos)
      << load_with(kToxicity).canonical_text();
  EXPECT_EQ(nlohmann::json::parse(stored_decoding(s).decoding_json),
            (nlohmann::json{{"filters", {"toxicity"}},
                            {"toxicity_threshold", 0.7},
                            {"toxicity_action", "regenerate"},
                            {"toxicity_retries", 2},
                            {"toxicity_block_severity", 3}}));
}

TEST(Decoding, ToxicityKeysAtTheirDefaultsKeepThePlanHash) {
  const auto plain = load_with("");
  EXPECT_EQ(load_with("toxicity_block_severity = 0\nfilters =\n").hash(), plain.hash());
  // On, the filter is its own plan; its settings at their defaults add nothing more.
  const auto on = load_with("filters = toxicity\n");
  EXPECT_NE(on.hash(), plain.hash());
  EXPECT_EQ(load_with("filters = toxicity\ntoxicity_scorer = lexicon\ntoxicity_threshold = 0.5\n"
                      "toxicity_action = refuse\n")
                .hash(),
            on.hash());
  for (const std::string extra :
       {"toxicity_threshold = 0.6\n", "toxicity_action = redact\n", "toxicity_scorer = self\n",
        "toxicity_action = regenerate\n", "toxicity_block_severity = 1\n"})
    EXPECT_NE(load_with("filters = toxicity\n" + extra).hash(), on.hash()) << extra;
}

TEST(Decoding, AClassifierScorerEntersTheHashByItsWeightsNotItsPath) {
  PlanDir a, b;
  for (const auto* dir : {&a, &b}) dir->write("clf/model.safetensors", "weights");
  const std::string extra = "filters = toxicity\ntoxicity_scorer = classifier:clf\n";
  const auto pa = load_decoding_plan(a, kDecodingPlan + extra);
  EXPECT_EQ(pa.hash(), load_decoding_plan(b, kDecodingPlan + extra).hash());
  EXPECT_EQ(pa.strategies[0].toxicity_scorer, "classifier:" + (a.path() / "clf").string());
  EXPECT_NE(pa.canonical_text().find("toxicity_scorer = \"classifier:sha256="), std::string::npos)
      << pa.canonical_text();
  EXPECT_EQ(pa.canonical_text().find(a.path().string()), std::string::npos);
  b.write("clf/model.safetensors", "other weights");
  EXPECT_NE(pa.hash(), load_decoding_plan(b, kDecodingPlan + extra).hash());
  expect_decoding_error("filters = toxicity\ntoxicity_scorer = classifier:missing\n",
                        {"plan.ini:8:", "toxicity_scorer", "missing"});
}

TEST(Decoding, ToxicityKeysThatChangeNothingAreRefused) {
  expect_decoding_error("toxicity_threshold = 0.7\n",
                        {"plan.ini:7:", "toxicity_threshold", "toxicity filter is off"});
  expect_decoding_error("toxicity_scorer = lexicon\n", {"plan.ini:7:", "toxicity_scorer", "off"});
  expect_decoding_error(
      "filters = toxicity\ntoxicity_retries = 2\n",
      {"plan.ini:8:", "toxicity_retries", "unless toxicity_action is regenerate"});
  expect_decoding_error("filters = toxicity\ntoxicity_action = redact\ntoxicity_scorer = self\n",
                        {"toxicity_action", "redact needs", "lexicon"});
  expect_decoding_error("filters = toxicity\ntoxicity_action = block\n",
                        {"plan.ini:8:", "toxicity_action", "refuse, regenerate or redact"});
  expect_decoding_error("filters = toxicity\ntoxicity_scorer = perspective\n",
                        {"plan.ini:8:", "toxicity_scorer", "lexicon, classifier:DIR"});
  expect_decoding_error("filters = toxicity, toxicity\n",
                        {"plan.ini:7:", "filters", "listed twice"});
  expect_decoding_error("filters = politeness\n", {"plan.ini:7:", "unknown filter 'politeness'"});
  expect_decoding_error("filters = toxicity\ntoxicity_threshold = 1.5\n",
                        {"plan.ini:8:", "toxicity_threshold", "[0, 1]"});
  expect_decoding_error("filters = toxicity\ntoxicity_action = regenerate\ntoxicity_retries = 0\n",
                        {"plan.ini:9:", "toxicity_retries"});
  expect_decoding_error("toxicity_block_severity = -1\n",
                        {"plan.ini:7:", "toxicity_block_severity"});
  expect_decoding_error("toxicity_block_severity = 4\n",
                        {"plan.ini:7:", "toxicity_block_severity"});
}

TEST(Decoding, TheToxicityFilterBecomesACompletionFilter) {
  const auto tok = tokenizer::load(std::filesystem::path(STAGEGATE_FIXTURES) / "models/gpt2-f32");
  std::vector<std::string> asked;
  ScorerResources scorers;
  scorers.audited_dir = "/models/audited";
  scorers.make_scorer = [&](const detectors::toxicity::ScorerSpec& spec,
                            const detectors::toxicity::ScorerContext&) {
    asked.push_back(detectors::toxicity::to_string(spec));
    return std::make_unique<AlwaysToxic>();
  };
  const auto s = load_with(
                     "filters = toxicity\ntoxicity_action = regenerate\n"
                     "toxicity_retries = 1\ntoxicity_scorer = self\n")
                     .strategies[0];
  const auto p = sampling_params(s, tok.get(), scorers);
  // "self" is the audited model loaded apart from the generator's.
  EXPECT_EQ(asked, (std::vector<std::string>{"self:/models/audited"}));
  EXPECT_TRUE(p.filters.empty());
  ASSERT_EQ(p.completion_filters.size(), 1u);
  const std::vector<std::int32_t> tokens = tok->encode("hello");
  const engine::Completion first{{}, tokens, "length", 0};
  const engine::Completion second{{}, tokens, "length", 1};
  EXPECT_EQ(p.completion_filters[0]->judge(std::span(&first, 1))[0].action,
            engine::Verdict::Action::kRegenerate);
  EXPECT_EQ(p.completion_filters[0]->judge(std::span(&second, 1))[0].action,
            engine::Verdict::Action::kRefuse);
  // It reads text: no tokenizer, no filter; nor "self" without the audited model.
  EXPECT_THROW(sampling_params(s, nullptr, scorers), InputError);
  EXPECT_THROW(sampling_params(s, tok.get(), ScorerResources{}), InputError);
  // Off: nothing is built.
  asked.clear();
  EXPECT_TRUE(sampling_params(Decoding{}, tok.get(), scorers).completion_filters.empty());
  EXPECT_TRUE(asked.empty());
}

}  // namespace
}  // namespace sg::audit
