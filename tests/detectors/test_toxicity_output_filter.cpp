// The toxicity output filter on a fake scorer (the real scorers have their own tests): below
// the threshold a completion stands; at or above it the policy's action, with an event that
// keeps the score, the threshold, the try and the matched spans; regenerate gives way to
// refuse after the retries; redact replaces the spans, or refuses when there are none.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "tokenizer/tokenizer.hpp"
#include "toxicity/output_filter.hpp"

namespace sg::detectors::toxicity {
namespace {

using engine::Verdict;

// Scores 0.9 for a text holding "bad" (each occurrence a match), 0.5 for "meh", else 0.1.
class FakeScorer : public Scorer {
 public:
  explicit FakeScorer(bool spans = true) : spans_(spans) {}
  std::string canonical() const override { return "fake"; }
  std::vector<Score> score(std::span<const std::string_view> texts) override {
    std::vector<Score> out;
    for (auto t : texts) {
      Score s;
      s.value = t.find("bad") != std::string_view::npos   ? 0.9
                : t.find("meh") != std::string_view::npos ? 0.5
                                                          : 0.1;
      for (auto at = t.find("bad"); spans_ && at != std::string_view::npos;
           at = t.find("bad", at + 1))
        s.matches.push_back(
            {"bad", static_cast<std::int64_t>(at), static_cast<std::int64_t>(at + 3), 2});
      s.detail_json = "{\"fake\": true}";
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  bool spans_;
};

class ToxicityOutputFilterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tok_ = tokenizer::load(std::filesystem::path(STAGEGATE_FIXTURES) / "models/gpt2-f32");
  }
  static void TearDownTestSuite() { tok_.reset(); }

  // Verdicts on `texts` (each encoded as a completion's tokens) at try `attempt`.
  std::vector<Verdict> judge(OutputFilterSettings settings, const std::vector<std::string>& texts,
                             int attempt = 0, bool spans = true) {
    auto filter = make_output_filter(std::make_unique<FakeScorer>(spans), *tok_, settings);
    std::vector<std::vector<std::int32_t>> tokens;
    for (const auto& t : texts) tokens.push_back(tok_->encode(t));
    std::vector<engine::Completion> completions;
    for (const auto& t : tokens) completions.push_back({{}, t, "length", attempt});
    return filter->judge(completions);
  }

  static inline std::unique_ptr<tokenizer::Tokenizer> tok_;
};

TEST_F(ToxicityOutputFilterTest, BelowTheThresholdACompletionStands) {
  const auto v = judge({}, {"a fine day", "meh", "so bad"});
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].action, Verdict::Action::kAccept);
  EXPECT_EQ(v[1].action, Verdict::Action::kRefuse);  // 0.5 is at the default threshold
  EXPECT_EQ(v[2].action, Verdict::Action::kRefuse);
  OutputFilterSettings strict;
  strict.threshold = 0.95;
  for (const auto& verdict : judge(strict, {"so bad", "meh"}))
    EXPECT_EQ(verdict.action, Verdict::Action::kAccept);
}

TEST_F(ToxicityOutputFilterTest, TheEventKeepsTheEvidence) {
  const auto v = judge({}, {"not bad, not bad"}, 0);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].event.filter, "toxicity.output");
  EXPECT_EQ(v[0].event.action, "refuse");
  const auto d = nlohmann::json::parse(v[0].event.detail_json);
  EXPECT_EQ(d["score"], 0.9);
  EXPECT_EQ(d["threshold"], 0.5);
  EXPECT_EQ(d["try"], 0);
  ASSERT_EQ(d["matches"].size(), 2u);
  EXPECT_EQ(d["matches"][1],
            (nlohmann::json{
                {"term", "bad"}, {"severity", 2}, {"start", 13}, {"end", 16}, {"text", "bad"}}));
  EXPECT_EQ(d["scorer"], (nlohmann::json{{"fake", true}}));
}

TEST_F(ToxicityOutputFilterTest, RegenerateGivesWayToRefuseAfterTheRetries) {
  OutputFilterSettings s;
  s.action = OutputAction::kRegenerate;
  s.retries = 2;
  for (int attempt : {0, 1}) {
    const auto v = judge(s, {"bad"}, attempt);
    EXPECT_EQ(v[0].action, Verdict::Action::kRegenerate);
    EXPECT_EQ(v[0].event.action, "regenerate");
    EXPECT_EQ(nlohmann::json::parse(v[0].event.detail_json)["try"], attempt);
  }
  const auto last = judge(s, {"bad", "good"}, 2);
  EXPECT_EQ(last[0].action, Verdict::Action::kRefuse);
  EXPECT_EQ(last[0].event.action, "refuse");
  EXPECT_EQ(last[1].action, Verdict::Action::kAccept);
}

TEST_F(ToxicityOutputFilterTest, RedactReplacesTheSpansOrRefusesWithoutThem) {
  OutputFilterSettings s;
  s.action = OutputAction::kRedact;
  const auto v = judge(s, {"not bad at all, bad"});
  EXPECT_EQ(v[0].action, Verdict::Action::kRedact);
  EXPECT_EQ(v[0].event.action, "redact");
  EXPECT_EQ(v[0].text, "not [redacted] at all, [redacted]");
  const auto no_spans = judge(s, {"so bad"}, 0, false);
  EXPECT_EQ(no_spans[0].action, Verdict::Action::kRefuse);
  EXPECT_NE(no_spans[0].event.detail_json.find("no span to redact"), std::string::npos);
}

TEST(ToxicityRedact, MergesOverlapsAndRefusesSpansOutsideTheText) {
  const std::vector<Match> m = {{"b", 6, 9, 1}, {"a", 0, 3, 1}, {"ab", 2, 5, 1}, {"e", 9, 9, 1}};
  EXPECT_EQ(redact("abcdefghij", m, "#"), "#f#j");
  EXPECT_EQ(redact("abc", {}, "#"), "abc");
  const std::vector<Match> touching = {{"x", 0, 2, 1}, {"y", 2, 3, 1}};
  EXPECT_EQ(redact("abcd", touching, "#"), "#d");
  const std::vector<Match> outside = {{"z", 2, 9, 1}};
  EXPECT_THROW(redact("abc", outside, "#"), std::out_of_range);
}

TEST(ToxicityOutputAction, ParsesTheThreeActions) {
  for (auto a : {OutputAction::kRefuse, OutputAction::kRegenerate, OutputAction::kRedact})
    EXPECT_EQ(parse_output_action(to_string(a)), a);
  EXPECT_THROW(parse_output_action("block"), std::invalid_argument);
}

}  // namespace
}  // namespace sg::detectors::toxicity
