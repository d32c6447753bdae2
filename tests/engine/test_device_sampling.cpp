// Sampling from the device's summary of the logits picks the same tokens as sampling from the
// full row: on the CPU, 200 seeded steps of language-model-shaped rows for each processor
// alone and for mixed chains (with vetoes that exhaust the listed ids); through the engine,
// 200-token generations of the demo model with device sampling on and off. Processors that
// need every logit never take the summary.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "engine/generator.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/lm_rows.hpp"
#include "engine/logit_summary.hpp"
#include "engine/model.hpp"
#include "engine/token_choice.hpp"
#include "model/checkpoint.hpp"

namespace sg::engine {
namespace {

// Vetoes every id the predicate names.
class PredicateFilter : public OutputFilter {
 public:
  explicit PredicateFilter(std::function<bool(std::int32_t)> banned) : banned_(std::move(banned)) {}
  std::optional<FilterEvent> veto(const GenerationState& state, std::int32_t token) override {
    if (!banned_(token)) return std::nullopt;
    return FilterEvent{"test.ban", "block", static_cast<std::int64_t>(state.generated.size()),
                       "{}"};
  }

 private:
  std::function<bool(std::int32_t)> banned_;
};

class PredicateFactory : public OutputFilterFactory {
 public:
  explicit PredicateFactory(std::function<bool(std::int32_t)> banned)
      : banned_(std::move(banned)) {}
  std::unique_ptr<OutputFilter> make() const override {
    return std::make_unique<PredicateFilter>(banned_);
  }

 private:
  std::function<bool(std::int32_t)> banned_;
};

struct Chain {
  Chain(std::string n, SamplingParams p, bool s,
        std::shared_ptr<std::set<std::int32_t>> l = nullptr, int st = 200)
      : name(std::move(n)), params(std::move(p)), summary(s), listed(std::move(l)), steps(st) {}
  std::string name;
  SamplingParams params;
  bool summary;  // whether the chain may take the summary at all
  // Filled each step with the ids the summary lists, for a filter that vetoes them all.
  std::shared_ptr<std::set<std::int32_t>> listed;
  int steps;
};

SamplingParams params(float temperature, int top_k = 0, float top_p = 1.0f) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.seed = 42;
  return p;
}

SamplingParams with(SamplingParams p, const std::function<void(SamplingParams&)>& change) {
  change(p);
  return p;
}

std::shared_ptr<OutputFilterFactory> ban(std::function<bool(std::int32_t)> banned) {
  return std::make_shared<PredicateFactory>(std::move(banned));
}

std::vector<Chain> chains() {
  auto listed = std::make_shared<std::set<std::int32_t>>();
  return {
      // Each processor alone.
      {"greedy", params(0), true},
      {"temperature", params(0.7f), false},  // plain sampling reads every id
      {"top_k", params(1.0f, 40), true},
      {"top_p", params(1.0f, 0, 0.9f), true},
      {"repetition_penalty", with(params(0), [](auto& p) { p.repetition_penalty = 1.3f; }), false},
      {"presence_frequency",
       with(params(0),
            [](auto& p) {
              p.presence_penalty = 0.5f;
              p.frequency_penalty = 0.3f;
            }),
       false},
      {"no_repeat_ngram", with(params(0), [](auto& p) { p.no_repeat_ngram = 2; }), false},
      {"dry", with(params(0), [](auto& p) { p.dry.multiplier = 0.8f; }), false},
      {"veto",
       with(params(0),
            [](auto& p) { p.filters.push_back(ban([](auto id) { return id % 3 != 0; })); }),
       true},
      // Mixed chains.
      {"temperature_top_k_top_p", params(0.8f, 50, 0.95f), true},
      {"hot_top_p_with_veto",
       with(params(1.3f, 0, 0.8f),
            [](auto& p) { p.filters.push_back(ban([](auto id) { return id % 2 == 0; })); }),
       true},
      // Vetoes that run through every listed id, so the pick ends on the full row (each
      // veto of the full row's path scans the vocabulary: fewer steps).
      {"greedy_veto_exhausts_list",
       with(params(0),
            [&](auto& p) {
              p.filters.push_back(ban([listed](auto id) { return listed->contains(id); }));
            }),
       true, listed, 20},
      {"penalty_top_p", with(params(0.7f, 0, 0.9f), [](auto& p) { p.repetition_penalty = 1.2f; }),
       false},
  };
}

TEST(DeviceSampling, SummaryPicksTheFullRowsTokensForEveryChain) {
  // 200 rows per vocabulary size: every chain sees the same ones.
  std::map<int, std::vector<std::vector<float>>> rows;
  for (int vocab : {8192, 50257}) {
    std::mt19937 gen(static_cast<std::uint32_t>(vocab));
    for (int step = 0; step < 200; ++step) rows[vocab].push_back(testing::lm_row(vocab, gen));
  }
  std::size_t summary_total = 0, fallback_total = 0;
  for (const auto& chain : chains()) {
    for (int vocab : {8192, 50257}) {
      SCOPED_TRACE(chain.name + ", vocabulary " + std::to_string(vocab));
      TokenChooser full(chain.params), summarized(chain.params);
      ASSERT_EQ(summarized.wants_summary(), chain.summary);
      const std::vector<std::int32_t> prompt{1, 2, 3};
      std::vector<std::int32_t> generated;
      ChoiceScratch work;
      std::size_t from_summary = 0, vetoes = 0;
      for (int step = 0; step < chain.steps; ++step) {
        const auto& row = rows[vocab][static_cast<std::size_t>(step)];
        // Given to every chain: one that needs the full row must ignore it.
        const auto summary =
            merge_lanes(lane_records_reference(row, summarized.summary_temperature()), vocab,
                        summarized.summary_temperature());
        ASSERT_TRUE(summary.has_value());
        if (chain.listed) {
          chain.listed->clear();
          for (const auto& e : summary->top) chain.listed->insert(e.first);
        }
        const GenerationState state{prompt, generated};
        const auto a = full.choose(state, row, work);
        const auto b = summarized.choose(state, row, work, summary ? &*summary : nullptr);
        ASSERT_EQ(a.token, b.token) << "step " << step;
        ASSERT_EQ(a.events.size(), b.events.size()) << "step " << step;
        EXPECT_FALSE(a.from_summary);
        if (b.from_summary) ++from_summary;
        vetoes += b.events.size();
        if (a.token) generated.push_back(*a.token);
      }
      if (chain.listed) {
        EXPECT_EQ(from_summary, 0u) << "a pick came from a list whose every id is vetoed";
        EXPECT_GE(vetoes, static_cast<std::size_t>(chain.steps) * 8u);
        fallback_total += static_cast<std::size_t>(chain.steps);
      } else if (chain.summary) {
        EXPECT_GT(from_summary, 0u) << "the summary never decided: the test compared nothing";
        summary_total += from_summary;
        fallback_total += static_cast<std::size_t>(chain.steps) - from_summary;
      } else {
        EXPECT_EQ(from_summary, 0u);
      }
    }
  }
  // Both paths ran: picks decided by the summary, and picks it handed to the full row.
  EXPECT_GT(summary_total, 0u);
  EXPECT_GT(fallback_total, 0u);
}

// Through the engine: the demo model (vocabulary 8192, so the device lists only part of it),
// one batch of requests with different chains, 200 tokens each, device sampling on and off.
class DeviceSamplingEngineTest : public testing::GpuTest {};

TEST_F(DeviceSamplingEngineTest, GenerationsAreTheSameWithAndWithoutTheSummary) {
  const auto ckpt = model::Checkpoint::open(std::filesystem::path(STAGEGATE_SOURCE_DIR) / "models" /
                                            "demo" / "stage1");
  EngineOptions o;
  o.max_sequences = 8;
  Model m(gpu(), ckpt, o);
  std::vector<GenerationRequest> requests;
  std::size_t summary_chains = 0;
  for (const auto& chain : chains()) {
    if (chain.name == "greedy_veto_exhausts_list") continue;  // covered on the CPU
    GenerationRequest r;
    r.prompt = {11, 400, 17, static_cast<std::int32_t>(requests.size()) + 90};
    r.params = chain.params;
    r.params.max_tokens = 200;
    r.params.ignore_eos = true;
    r.params.top_logprobs = requests.size() % 2 == 0 ? 3 : 0;
    requests.push_back(r);
    if (chain.summary) ++summary_chains;
  }
  Generator g(m, ckpt.config().eos_token_id);
  g.set_device_sampling(false);
  const auto want = g.run(requests);
  EXPECT_EQ(g.timings().summary_picks, 0u);
  g.set_device_sampling(true);
  const auto got = g.run(requests);
  const auto& t = g.timings();
  EXPECT_GT(t.summary_picks, 100 * summary_chains) << "the device summary decided too little";
  EXPECT_GT(t.full_row_picks, 0u);
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    ASSERT_EQ(want[i].tokens.size(), 200u);
    EXPECT_EQ(want[i].tokens, got[i].tokens);
    EXPECT_EQ(want[i].finish_reason, got[i].finish_reason);
    ASSERT_EQ(want[i].logprobs.size(), got[i].logprobs.size());
    for (std::size_t k = 0; k < want[i].logprobs.size(); ++k)
      ASSERT_NEAR(want[i].logprobs[k], got[i].logprobs[k], 1e-4) << "token " << k;
    ASSERT_EQ(want[i].top_logprobs.size(), got[i].top_logprobs.size());
    for (std::size_t k = 0; k < want[i].top_logprobs.size(); ++k) {
      ASSERT_EQ(want[i].top_logprobs[k].size(), got[i].top_logprobs[k].size());
      for (std::size_t j = 0; j < want[i].top_logprobs[k].size(); ++j) {
        EXPECT_EQ(want[i].top_logprobs[k][j].first, got[i].top_logprobs[k][j].first);
        EXPECT_NEAR(want[i].top_logprobs[k][j].second, got[i].top_logprobs[k][j].second, 1e-4);
      }
    }
  }
}

}  // namespace
}  // namespace sg::engine
