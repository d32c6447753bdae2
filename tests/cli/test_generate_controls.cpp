// `generate` with the repetition controls and the loop stop, end to end on the GPT-2 fixture:
// each flag reaches the engine with its definition, and bad values are usage errors that name
// the flag.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "cli/fixture_models.hpp"
#include "cli/run_command.hpp"

namespace sg::testing {
namespace {

using nlohmann::json;

const std::vector<std::int32_t> kPrompt{1, 2, 3};

// Greedy from 1,2,3 to the fixture's context (64), with `flags`.
json greedy(const std::vector<std::string>& flags) {
  std::vector<std::string> args{"generate",      "--model", kGpt2,          "--ids", "1,2,3",
                                "--temperature", "0",       "--max-tokens", "61",    "--ignore-eos",
                                "--json",        "--dtype", "f32"};
  args.insert(args.end(), flags.begin(), flags.end());
  auto r = run_stagegate(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json();
}

std::vector<std::int32_t> tokens_of(const json& j) {
  return j.at("tokens").get<std::vector<std::int32_t>>();
}

// Bigrams (a, b) of prompt + output whose b is an output token and that occurred before.
int repeated_bigrams(const std::vector<std::int32_t>& out) {
  std::vector<std::int32_t> all = kPrompt;
  all.insert(all.end(), out.begin(), out.end());
  std::set<std::pair<std::int32_t, std::int32_t>> seen;
  int repeats = 0;
  for (std::size_t i = 1; i < all.size(); ++i) {
    const bool fresh = seen.insert({all[i - 1], all[i]}).second;
    if (!fresh && i >= kPrompt.size()) ++repeats;
  }
  return repeats;
}

TEST(GenerateControls, DryKeepsGreedyFromRepeatingABigram) {
  const auto plain = tokens_of(greedy({}));
  ASSERT_EQ(plain.size(), 61u);
  ASSERT_GT(repeated_bigrams(plain), 5);  // the fixture's greedy output repeats itself
  // Allowed length 1 and a penalty far above the logits' spread: a token that followed the
  // last token before is never chosen again.
  const auto dry = greedy(
      {"--dry-multiplier", "100", "--dry-allowed-length", "1", "--dry-sequence-breakers", "[]"});
  const auto tokens = tokens_of(dry);
  ASSERT_EQ(tokens.size(), 61u);
  EXPECT_EQ(repeated_bigrams(tokens), 0);
  // The default breakers need the tokenizer the fixture has; DRY then changes the output.
  EXPECT_NE(tokens_of(greedy({"--dry-multiplier", "100"})), plain);
}

TEST(GenerateControls, PresenceAndFrequencyPenalizeOutputTokens) {
  // Where the penalized run first leaves the plain greedy path, the plain choice b must have
  // lost by its penalty: raw[b] - raw[x] <= pen[b] - pen[x], pen[j] = 2 * c_j + 2 * [c_j > 0]
  // over the output so far (the log-probs are the raw model's, so their difference is the
  // raw logits').
  const auto plain = greedy({});
  const auto pen = greedy({"--presence-penalty", "2", "--frequency-penalty", "2"});
  const auto a = tokens_of(plain), b = tokens_of(pen);
  std::size_t t = 0;
  while (t < a.size() && t < b.size() && a[t] == b[t]) ++t;
  ASSERT_LT(t, a.size()) << "the penalties changed nothing";
  auto penalty = [&](std::int32_t token) {
    const auto c = std::count(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(t), token);
    return 2.0 * static_cast<double>(c) + (c > 0 ? 2.0 : 0.0);
  };
  EXPECT_GT(penalty(a[t]), 0) << "the plain choice had not been generated before";
  const double raw_gap = plain["logprobs"][t].get<double>() - pen["logprobs"][t].get<double>();
  EXPECT_GE(raw_gap, 0);
  EXPECT_LE(raw_gap, penalty(a[t]) - penalty(b[t]) + 1e-4);
  // The prompt is not counted: the first token is the plain one even when the prompt holds it.
  auto r = run_stagegate({"generate", "--model", kGpt2, "--ids", "1,2," + std::to_string(a[0]),
                          "--temperature", "0", "--max-tokens", "1", "--presence-penalty", "2",
                          "--json", "--dtype", "f32"});
  auto plain_r =
      run_stagegate({"generate", "--model", kGpt2, "--ids", "1,2," + std::to_string(a[0]),
                     "--temperature", "0", "--max-tokens", "1", "--json", "--dtype", "f32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(plain_r.exit_code, 0) << plain_r.err;
  EXPECT_EQ(json::parse(r.out)["tokens"], json::parse(plain_r.out)["tokens"]);
}

// True when `out` ends in a p-periodic run of at least max(repeats * p, length) tokens.
bool ends_in_loop(const std::vector<std::int32_t>& out, std::size_t p, std::size_t repeats,
                  std::size_t length) {
  std::size_t run = p;
  while (run < out.size() && out[out.size() - 1 - run] == out[out.size() - 1 - run + p]) ++run;
  return run <= out.size() && run >= std::max(repeats * p, length);
}

TEST(GenerateControls, StopOnLoopEndsTheFirstLoopWithAnEvent) {
  const auto plain = tokens_of(greedy({}));
  const auto j = greedy({"--stop-on-loop", "--loop-min-length", "5"});
  ASSERT_EQ(j["finish_reason"], "loop") << j.dump();
  const auto out = tokens_of(j);
  // The stop only cuts the greedy output short.
  ASSERT_LT(out.size(), plain.size());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), plain.begin()));
  ASSERT_EQ(j["events"].size(), 1u);
  const auto& e = j["events"][0];
  EXPECT_EQ(e["filter"], "repetition.loop_stop");
  EXPECT_EQ(e["action"], "stop");
  EXPECT_EQ(e["position"], out.size() - 1);
  const auto period = e["detail"]["period"].get<std::size_t>();
  const auto start = e["detail"]["start"].get<std::size_t>();
  EXPECT_TRUE(ends_in_loop(out, period, 3, 5));
  EXPECT_EQ(e["detail"]["length"], out.size() - start);
  // ... and no shorter output had ended in one.
  for (std::size_t n = 1; n < out.size(); ++n)
    for (std::size_t p = 1; p <= 256; ++p)
      EXPECT_FALSE(
          ends_in_loop({out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)}, p, 3, 5))
          << n << " tokens, period " << p;
  // The default loop (16 tokens) never forms in the fixture's 61: no stop, no event.
  const auto defaults = greedy({"--stop-on-loop"});
  EXPECT_EQ(defaults["finish_reason"], "length");
  EXPECT_TRUE(defaults["events"].empty());
}

TEST(GenerateControls, BadValuesNameTheFlag) {
  auto expect_usage_error = [](const std::vector<std::string>& flags,
                               const std::vector<std::string>& fragments) {
    std::vector<std::string> args{"generate", "--model", kGpt2, "--ids", "1"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = run_stagegate(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    for (const auto& f : fragments)
      EXPECT_NE(r.err.find(f), std::string::npos) << "lacks '" << f << "': " << r.err;
  };
  expect_usage_error({"--presence-penalty", "2.5"}, {"--presence-penalty", "[-2, 2]"});
  expect_usage_error({"--frequency-penalty", "-3"}, {"--frequency-penalty", "[-2, 2]"});
  expect_usage_error({"--dry-multiplier", "1", "--dry-base", "0.5"}, {"--dry-base", "[1, 100]"});
  expect_usage_error({"--dry-base", "2"}, {"--dry-base", "no effect", "--dry-multiplier is 0"});
  expect_usage_error({"--dry-multiplier", "1", "--dry-penalty-last-n", "-2"},
                     {"--dry-penalty-last-n"});
  expect_usage_error({"--dry-multiplier", "1", "--dry-sequence-breakers", "nope"},
                     {"--dry-sequence-breakers", "JSON array"});
  expect_usage_error({"--loop-max-period", "8"}, {"--loop-max-period", "unless --stop-on-loop"});
  expect_usage_error({"--stop-on-loop", "--loop-min-period", "9", "--loop-max-period", "8"},
                     {"--loop-min-period", "exceeds --loop-max-period (8)"});
  expect_usage_error({"--stop-on-loop", "--loop-min-repeats", "1"}, {"--loop-min-repeats"});
  expect_usage_error({"--dry-allowed-length", "x"}, {"dry-allowed-length"});
  expect_usage_error({"--no-repeat-ngram", "-1"}, {"--no-repeat-ngram"});
  expect_usage_error({"--toxicity-scorer", "lexicon"},
                     {"--toxicity-scorer", "toxicity filter is off"});
  expect_usage_error({"--toxicity-filter", "refuse", "--toxicity-retries", "2"},
                     {"--toxicity-retries", "unless --toxicity-filter is regenerate"});
  expect_usage_error({"--toxicity-filter", "block"},
                     {"--toxicity-filter", "refuse, regenerate or redact"});
  expect_usage_error({"--toxicity-filter", "redact", "--toxicity-scorer", "self"},
                     {"--toxicity-filter", "redact needs", "lexicon"});
  expect_usage_error({"--toxicity-filter", "refuse", "--toxicity-threshold", "2"},
                     {"--toxicity-threshold", "[0, 1]"});
}

}  // namespace
}  // namespace sg::testing
