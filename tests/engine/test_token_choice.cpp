// Token choice with output filters: a vetoed token is masked and the choice made again under
// the same rules (greedy: the next best; sampling: the renormalized rest), each veto is an
// event, a stop ends the sequence with the filter's reason.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "engine/token_choice.hpp"

namespace sg::engine {
namespace {

// Vetoes a fixed set of tokens and stops once the output reaches `stop_at` tokens.
class FixedFilter : public OutputFilter {
 public:
  FixedFilter(std::set<std::int32_t> banned, std::size_t stop_at)
      : banned_(std::move(banned)), stop_at_(stop_at) {}
  std::optional<FilterEvent> veto(const GenerationState& state, std::int32_t token) override {
    if (!banned_.contains(token)) return std::nullopt;
    return FilterEvent{"test.ban", "block", static_cast<std::int64_t>(state.generated.size()),
                       "{\"token\":" + std::to_string(token) + "}"};
  }
  std::optional<FilterStop> stop(const GenerationState& state) override {
    if (state.generated.size() < stop_at_) return std::nullopt;
    return FilterStop{"test_stop", {"test.ban", "stop", 0, "{}"}};
  }

 private:
  std::set<std::int32_t> banned_;
  std::size_t stop_at_;
};

class FixedFactory : public OutputFilterFactory {
 public:
  FixedFactory(std::set<std::int32_t> banned, std::size_t stop_at = 1000)
      : banned_(std::move(banned)), stop_at_(stop_at) {}
  std::unique_ptr<OutputFilter> make() const override {
    return std::make_unique<FixedFilter>(banned_, stop_at_);
  }

 private:
  std::set<std::int32_t> banned_;
  std::size_t stop_at_;
};

SamplingParams with_filter(float temperature, std::set<std::int32_t> banned,
                           std::size_t stop_at = 1000) {
  SamplingParams p;
  p.temperature = temperature;
  p.seed = 7;
  p.filters.push_back(std::make_shared<FixedFactory>(std::move(banned), stop_at));
  return p;
}

const std::vector<std::int32_t> kPrompt{1, 2};

TEST(TokenChoice, GreedyTakesTheNextBestAndRecordsEachVeto) {
  TokenChooser chooser(with_filter(0, {2, 3}));
  std::vector<float> logits{0.0f, 1.0f, 5.0f, 3.0f};
  ChoiceScratch work;
  std::vector<std::int32_t> generated{0, 0, 0};
  auto c = chooser.choose({kPrompt, generated}, logits, work);
  ASSERT_TRUE(c.token.has_value());
  EXPECT_EQ(*c.token, 1);
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0].detail_json, "{\"token\":2}");
  EXPECT_EQ(c.events[1].detail_json, "{\"token\":3}");
  EXPECT_EQ(c.events[0].position, 3);
  EXPECT_EQ(c.events[0].action, "block");
}

TEST(TokenChoice, WithoutFiltersGreedyIsArgmax) {
  SamplingParams p;
  p.temperature = 0;
  TokenChooser chooser(p);
  std::vector<float> logits{0.0f, 1.0f, 5.0f, 3.0f};
  ChoiceScratch work;
  auto c = chooser.choose({kPrompt, {}}, logits, work);
  EXPECT_EQ(c.token, 2);
  EXPECT_TRUE(c.events.empty());
}

TEST(TokenChoice, NothingLeftWhenEveryTokenIsVetoed) {
  TokenChooser chooser(with_filter(1.0f, {0, 1, 2, 3}));
  std::vector<float> logits{0.0f, 1.0f, 5.0f, 3.0f};
  ChoiceScratch work;
  auto c = chooser.choose({kPrompt, {}}, logits, work);
  EXPECT_FALSE(c.token.has_value());
  EXPECT_EQ(c.events.size(), 4u);
}

TEST(TokenChoice, ProcessorsMaskBeforeTheFiltersSee) {
  // top-k 2 leaves tokens 2 and 3; banning both leaves nothing, though 0 and 1 were logits.
  auto p = with_filter(1.0f, {2, 3});
  p.top_k = 2;
  TokenChooser chooser(p);
  std::vector<float> logits{0.0f, 1.0f, 5.0f, 3.0f};
  ChoiceScratch work;
  auto c = chooser.choose({kPrompt, {}}, logits, work);
  EXPECT_FALSE(c.token.has_value());
}

TEST(TokenChoice, SamplingDrawsFromTheRenormalizedRest) {
  TokenChooser chooser(with_filter(1.0f, {2}));
  std::vector<float> logits{0.0f, 1.0f, 5.0f, 2.0f};
  ChoiceScratch work;
  constexpr int kDraws = 20000;
  std::map<std::int32_t, int> seen;
  int vetoes = 0;
  for (int i = 0; i < kDraws; ++i) {
    auto c = chooser.choose({kPrompt, {}}, logits, work);
    ASSERT_TRUE(c.token.has_value());
    ++seen[*c.token];
    vetoes += static_cast<int>(c.events.size());
  }
  EXPECT_EQ(seen.count(2), 0u);
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  for (auto [token, logit] : std::map<std::int32_t, double>{{0, 0.0}, {1, 1.0}, {3, 2.0}}) {
    const double p = std::exp(logit) / z;
    const double sd = std::sqrt(kDraws * p * (1 - p));
    EXPECT_NEAR(seen[token], kDraws * p, 4 * sd) << "token " << token;
  }
  // Token 2 holds e^5 / (e^5 + 1 + e + e^2) of the mass: most first draws are vetoed.
  const double p2 = std::exp(5.0) / (std::exp(5.0) + z);
  EXPECT_NEAR(vetoes, kDraws * p2, 4 * std::sqrt(kDraws * p2 * (1 - p2)));
}

TEST(TokenChoice, AStopCarriesTheFiltersReasonAndEvent) {
  TokenChooser chooser(with_filter(0, {}, 2));
  std::vector<std::int32_t> generated{5};
  EXPECT_FALSE(chooser.after_accept({kPrompt, generated}).has_value());
  generated.push_back(6);
  auto stop = chooser.after_accept({kPrompt, generated});
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->finish_reason, "test_stop");
  EXPECT_EQ(stop->event.action, "stop");
}

// Plain sampling hands back the raw row's normalizer, from which the log-prob is bit for bit
// log_prob over the row; a processor or a veto changes the row drawn from, so none is given.
TEST(TokenChoice, PlainSamplingHandsBackTheRawNormalizer) {
  std::vector<float> logits(300);
  for (std::size_t i = 0; i < logits.size(); ++i)
    logits[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.7) * 4.0);
  ChoiceScratch work;
  SamplingParams plain;
  plain.seed = 3;
  TokenChooser chooser(plain);
  for (int draw = 0; draw < 50; ++draw) {
    const auto c = chooser.choose({kPrompt, {}}, logits, work);
    ASSERT_TRUE(c.token.has_value());
    ASSERT_TRUE(c.raw_normalizer.has_value());
    EXPECT_EQ(log_prob(*c.raw_normalizer, logits[static_cast<std::size_t>(*c.token)]),
              log_prob(logits, *c.token));
  }
  SamplingParams top_k = plain;
  top_k.top_k = 20;
  EXPECT_FALSE(TokenChooser(top_k).choose({kPrompt, {}}, logits, work).raw_normalizer);
  SamplingParams banned = plain;
  banned.filters.push_back(std::make_shared<FixedFactory>(std::set<std::int32_t>{}, 1000));
  // A filter that vetoes nothing leaves the row raw.
  EXPECT_TRUE(TokenChooser(banned).choose({kPrompt, {}}, logits, work).raw_normalizer);
  std::set<std::int32_t> all;
  for (std::int32_t i = 0; i < 299; ++i) all.insert(i);
  SamplingParams vetoing = plain;
  vetoing.filters.push_back(std::make_shared<FixedFactory>(all, 1000));
  const auto c = TokenChooser(vetoing).choose({kPrompt, {}}, logits, work);
  EXPECT_EQ(c.token, 299);
  EXPECT_FALSE(c.raw_normalizer) << "drawn from a row with vetoed ids masked";
}

}  // namespace
}  // namespace sg::engine
