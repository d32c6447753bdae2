// Continuous batching: whatever the slot count and whichever requests share a step, every
// result equals, byte for byte, the result of running its request alone; each result is
// reported once, as soon as it finishes; a stop request ends the run between steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "common/errors.hpp"
#include "engine/fixture_case.hpp"
#include "engine/generator.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "engine/scorer.hpp"
#include "model/checkpoint.hpp"

namespace sg::engine {
namespace {

namespace fs = std::filesystem;

using Case = FixtureCase;

class ContinuousBatchingTest : public testing::GpuTest, public ::testing::WithParamInterface<Case> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    ckpt_ = std::make_unique<model::Checkpoint>(
        model::Checkpoint::open(fs::path(STAGEGATE_FIXTURES) / "models" / GetParam().fixture));
    requests_ = make_requests();
  }

  std::unique_ptr<Model> make(int slots, int step_tokens = 128) {
    EngineOptions o;
    o.dtype = GetParam().dtype;
    o.max_sequences = slots;
    o.max_step_tokens = step_tokens;
    return std::make_unique<Model>(gpu(), *ckpt_, o);
  }

  // More requests than slots: prompts of 1 to 50 tokens (the context is 64, so some stop at
  // the context), budgets of 0 to 30 tokens, greedy and sampled with various processors.
  std::vector<GenerationRequest> make_requests() const {
    const int vocab = ckpt_->config().vocab_size;
    std::vector<GenerationRequest> out;
    for (int r = 0; r < 21; ++r) {
      GenerationRequest q;
      const int len = 1 + (r * 29) % 50;
      for (int i = 0; i < len; ++i) q.prompt.push_back((r * 131 + i * 17 + 3) % vocab);
      q.params.max_tokens = (r * 7) % 31;
      q.params.seed = 1000 + static_cast<std::uint64_t>(r);
      switch (r % 4) {
        case 0:
          q.params.temperature = 0;
          break;
        case 1:
          q.params.temperature = 1.0f;
          break;
        case 2:
          q.params.temperature = 0.8f;
          q.params.top_k = 20;
          q.params.repetition_penalty = 1.3f;
          break;
        default:
          q.params.temperature = 1.2f;
          q.params.top_p = 0.9f;
          q.params.no_repeat_ngram = 2;
          break;
      }
      out.push_back(std::move(q));
    }
    return out;
  }

  // Each request alone, on a model of `slots` slots.
  std::vector<GenerationResult> alone(std::optional<std::int32_t> eos, int slots = 1) {
    auto m = make(slots);
    Generator gen(*m, eos);
    std::vector<GenerationResult> out;
    for (const auto& r : requests_) out.push_back(std::move(gen.run(std::span(&r, 1)).front()));
    return out;
  }

  // A token the model often produces for these requests, as an end-of-text stand-in, so
  // that some sequences stop early (a random checkpoint rarely picks its real one).
  std::int32_t frequent_token() {
    std::map<std::int32_t, int> count;
    for (const auto& r : alone(std::nullopt))
      for (std::size_t i = 1; i < r.tokens.size(); ++i) ++count[r.tokens[i]];
    auto best = std::max_element(count.begin(), count.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    return best->first;
  }

  std::unique_ptr<model::Checkpoint> ckpt_;
  std::vector<GenerationRequest> requests_;
};

void expect_same(const GenerationResult& got, const GenerationResult& want, std::size_t index) {
  EXPECT_EQ(got.tokens, want.tokens) << "request " << index;
  EXPECT_EQ(got.logprobs, want.logprobs) << "request " << index;  // bitwise: exact doubles
  EXPECT_EQ(got.finish_reason, want.finish_reason) << "request " << index;
}

TEST_P(ContinuousBatchingTest, EqualsEachRequestAlone) {
  const auto eos = frequent_token();
  const auto want = alone(eos);
  // The mix must really have sequences finishing at different steps, for different reasons.
  std::map<std::string, int> reasons;
  std::set<std::size_t> lengths;
  for (const auto& w : want) {
    ++reasons[w.finish_reason];
    lengths.insert(w.tokens.size());
  }
  ASSERT_GT(reasons["stop"], 0);
  ASSERT_GT(reasons["length"], 0);
  ASSERT_GT(lengths.size(), 5u);

  for (int slots : {1, 3, 16}) {
    SCOPED_TRACE("slots " + std::to_string(slots));
    auto m = make(slots, 32);  // small passes: a newcomer's prefill spans several of them
    Generator gen(*m, eos);
    std::vector<int> reported(requests_.size(), 0);
    std::vector<GenerationResult> got(requests_.size());
    std::vector<std::vector<std::int32_t>> streamed(requests_.size());
    gen.run_continuous(
        requests_,
        [&](std::size_t i, GenerationResult&& r) {
          ASSERT_LT(i, requests_.size());
          ++reported[i];
          // Reported the step it finished: its stream ends with its last token.
          EXPECT_EQ(streamed[i], r.tokens) << "request " << i;
          got[i] = std::move(r);
        },
        {}, [&](std::size_t i, std::int32_t token) { streamed[i].push_back(token); });
    for (std::size_t i = 0; i < requests_.size(); ++i) {
      EXPECT_EQ(reported[i], 1) << "request " << i;
      expect_same(got[i], want[i], i);
    }
    const auto& t = gen.timings();
    std::size_t prompt_tokens = 0, fed = 0;
    for (const auto& r : requests_) prompt_tokens += r.prompt.size();
    // Generated tokens go back into the model, but for the last of a sequence that ended
    // by length: its end-of-text token was chosen after its last token was fed.
    for (const auto& w : want)
      fed += w.finish_reason == "stop" ? w.tokens.size()
                                       : std::max<std::size_t>(w.tokens.size(), 1) - 1;
    EXPECT_EQ(t.prefill_tokens, prompt_tokens);
    EXPECT_EQ(t.decode_tokens, fed);
    EXPECT_GT(t.decode_seconds, 0);
  }
}

TEST_P(ContinuousBatchingTest, RunEqualsEachRequestAlone) {
  const auto eos = frequent_token();
  const auto want = alone(eos, 3);
  auto m = make(3);
  Generator gen(*m, eos);
  auto got = gen.run(requests_);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) expect_same(got[i], want[i], i);
}

TEST_P(ContinuousBatchingTest, SlotsRefillAsSequencesFinish) {
  // One long request and many short ones on two slots: the short ones must all pass through
  // the second slot while the long one is still running.
  std::vector<GenerationRequest> requests(6);
  for (std::size_t r = 0; r < requests.size(); ++r) {
    requests[r].prompt = {static_cast<std::int32_t>(r + 1), 7, 9};
    requests[r].params.temperature = 0;
    requests[r].params.ignore_eos = true;
    requests[r].params.max_tokens = r == 0 ? 40 : 3;
  }
  auto m = make(2);
  Generator gen(*m, std::nullopt);
  std::vector<std::size_t> order;
  gen.run_continuous(requests, [&](std::size_t i, GenerationResult&&) { order.push_back(i); });
  ASSERT_EQ(order.size(), requests.size());
  EXPECT_EQ(order.back(), 0u);
  for (std::size_t k = 0; k + 1 < order.size(); ++k) EXPECT_EQ(order[k], k + 1);
  // The long request was not held back: 40 tokens are fed in about 40 steps, not 40 + 5 * 3.
  EXPECT_LE(gen.timings().step_seconds.size(), 41u);
}

TEST_P(ContinuousBatchingTest, StopEndsTheRunBetweenSteps) {
  const auto eos = frequent_token();
  const auto want = alone(eos);
  auto m = make(3);
  Generator gen(*m, eos);
  std::vector<std::size_t> reported;
  int checks_after_stop = 0;
  gen.run_continuous(
      requests_,
      [&](std::size_t i, GenerationResult&& r) {
        expect_same(r, want[i], i);
        reported.push_back(i);
      },
      [&] {
        if (reported.size() >= 4) ++checks_after_stop;
        return reported.size() >= 4;
      });
  EXPECT_EQ(checks_after_stop, 1) << "the run went on after should_stop said to stop";
  EXPECT_GE(reported.size(), 4u);
  EXPECT_LT(reported.size(), requests_.size());
  std::set<std::size_t> unique(reported.begin(), reported.end());
  EXPECT_EQ(unique.size(), reported.size());

  // Stopped before the first step: nothing runs, nothing is reported.
  bool called = false;
  gen.run_continuous(
      requests_, [&](std::size_t, GenerationResult&&) { called = true; }, [] { return true; });
  EXPECT_FALSE(called);
  EXPECT_EQ(gen.timings().prefill_tokens, 0u);
}

TEST_P(ContinuousBatchingTest, BadPromptFailsBeforeAnyWork) {
  auto m = make(2);
  Generator gen(*m, std::nullopt);
  auto requests = requests_;
  requests.back().prompt.assign(static_cast<std::size_t>(m->context()) + 1, 1);
  bool called = false;
  EXPECT_THROW(
      gen.run_continuous(requests, [&](std::size_t, GenerationResult&&) { called = true; }),
      InputError);
  EXPECT_FALSE(called);
}

// Requests that arrive while the run goes on: request k is handed out only from the
// (2k)-th call to next() on, and when the generator idles the rest arrive at once.
class TrickleSource : public RequestSource {
 public:
  explicit TrickleSource(std::span<const GenerationRequest> requests) : requests_(requests) {}
  const GenerationRequest* next() override {
    ++calls_;
    if (given_ == requests_.size() || (!flood_ && calls_ < 2 * given_)) return nullptr;
    return &requests_[given_++];
  }
  bool cancelled(const GenerationRequest& r) override {
    return cancel_after_ && tokens_[index_of(r)] >= *cancel_after_ && index_of(r) == cancel_;
  }
  bool wait() override {
    ++waits_;
    flood_ = true;
    return given_ < requests_.size();
  }
  std::size_t index_of(const GenerationRequest& r) const {
    return static_cast<std::size_t>(&r - requests_.data());
  }
  void token(const GenerationRequest& r) { ++tokens_[index_of(r)]; }
  void cancel(std::size_t index, std::size_t after_tokens) {
    cancel_ = index;
    cancel_after_ = after_tokens;
  }
  int waits() const { return waits_; }

 private:
  std::span<const GenerationRequest> requests_;
  std::size_t given_ = 0;
  std::size_t calls_ = 0;
  bool flood_ = false;
  int waits_ = 0;
  std::map<std::size_t, std::size_t> tokens_;
  std::size_t cancel_ = 0;
  std::optional<std::size_t> cancel_after_;
};

TEST_P(ContinuousBatchingTest, ArrivalsWhileRunningEqualEachRequestAlone) {
  const auto eos = frequent_token();
  const auto want = alone(eos);
  auto m = make(3, 32);
  Generator gen(*m, eos);
  TrickleSource source(requests_);
  std::vector<int> reported(requests_.size(), 0);
  std::vector<GenerationResult> got(requests_.size());
  gen.run_source(
      source,
      [&](const GenerationRequest& r, GenerationResult&& result) {
        const auto i = source.index_of(r);
        ++reported[i];
        got[i] = std::move(result);
      },
      [&](const GenerationRequest& r, std::int32_t) { source.token(r); });
  EXPECT_GE(source.waits(), 1) << "the source never let the generator idle";
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    EXPECT_EQ(reported[i], 1) << "request " << i;
    expect_same(got[i], want[i], i);
  }
}

TEST_P(ContinuousBatchingTest, CancelledRequestEndsWithWhatItHasAndFreesItsSlot) {
  // Two long greedy requests on one slot: cancelling the first after 5 tokens lets the
  // second run, and changes nothing in it.
  std::vector<GenerationRequest> requests(2);
  for (std::size_t r = 0; r < requests.size(); ++r) {
    requests[r].prompt = {static_cast<std::int32_t>(r + 3), 11, 5};
    requests[r].params.temperature = 0;
    requests[r].params.ignore_eos = true;
    requests[r].params.max_tokens = 30;
  }
  auto m = make(1);
  Generator gen(*m, std::nullopt);
  const auto want = gen.run(requests);
  TrickleSource source(requests);
  source.cancel(0, 5);
  std::vector<GenerationResult> got(2);
  std::vector<std::size_t> order;
  gen.run_source(
      source,
      [&](const GenerationRequest& r, GenerationResult&& result) {
        order.push_back(source.index_of(r));
        got[source.index_of(r)] = std::move(result);
      },
      [&](const GenerationRequest& r, std::int32_t) { source.token(r); });
  ASSERT_EQ(order, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(got[0].finish_reason, "cancelled");
  ASSERT_EQ(got[0].tokens.size(), 5u);
  EXPECT_TRUE(std::equal(got[0].tokens.begin(), got[0].tokens.end(), want[0].tokens.begin()));
  expect_same(got[1], want[1], 1);
}

TEST_P(ContinuousBatchingTest, TopLogprobsRankTheRawDistribution) {
  GenerationRequest greedy;
  greedy.prompt = {4, 8, 15, 16};
  greedy.params.temperature = 0;
  greedy.params.ignore_eos = true;
  greedy.params.max_tokens = 12;
  greedy.params.top_logprobs = 5;
  GenerationRequest sampled = greedy;
  sampled.params.temperature = 1.5f;
  sampled.params.seed = 7;
  auto m = make(2);
  Generator gen(*m, std::nullopt);
  const std::vector<GenerationRequest> requests{greedy, sampled};
  const auto got = gen.run(requests);
  for (std::size_t r = 0; r < got.size(); ++r) {
    const auto& res = got[r];
    ASSERT_EQ(res.tokens.size(), 12u);
    ASSERT_EQ(res.top_logprobs.size(), res.tokens.size());
    for (std::size_t t = 0; t < res.tokens.size(); ++t) {
      const auto& top = res.top_logprobs[t];
      ASSERT_EQ(top.size(), 5u);
      for (std::size_t k = 1; k < top.size(); ++k) EXPECT_GE(top[k - 1].second, top[k].second);
      // The chosen token's log-prob is the raw one, so it is at most the best alternative's,
      // and equal to its own entry when it is listed.
      EXPECT_LE(res.logprobs[t], top[0].second + 1e-9);
      for (const auto& [id, lp] : top) {
        if (id == res.tokens[t]) {
          EXPECT_NEAR(lp, res.logprobs[t], 1e-9);
        }
      }
      if (r == 0) {
        EXPECT_EQ(top[0].first, res.tokens[t]) << "greedy picks the most likely";
      }
    }
  }
}

TEST_P(ContinuousBatchingTest, PromptLogprobsEqualScoringAndChangeNothingElse) {
  const auto eos = frequent_token();
  const auto want = alone(eos, 3);
  auto m = make(3, 32);  // small passes: a prompt's rows span several of them
  auto requests = requests_;
  for (auto& r : requests) {
    r.prompt_logprobs = true;
    r.params.top_logprobs = 2;
  }
  Generator gen(*m, eos);
  const auto got = gen.run(requests);
  std::size_t compared = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    expect_same(got[i], want[i], i);
    const auto& prompt = requests[i].prompt;
    ASSERT_EQ(got[i].prompt_logprobs.size(), prompt.size() - 1) << "request " << i;
    ASSERT_EQ(got[i].prompt_top_logprobs.size(), prompt.size() - 1) << "request " << i;
    if (prompt.size() < 2) continue;
    const auto scored = score(*m, prompt);
    for (std::size_t t = 0; t + 1 < prompt.size(); ++t) {
      EXPECT_NEAR(got[i].prompt_logprobs[t], scored.logprobs[t], 1e-4) << i << ":" << t;
      EXPECT_GE(got[i].prompt_top_logprobs[t][0].second, got[i].prompt_logprobs[t] - 1e-9);
      ++compared;
    }
  }
  EXPECT_GT(compared, 100u);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ContinuousBatchingTest,
                         ::testing::Values(Case{"gpt2-f32", WeightType::kF32, false},
                                           Case{"openai-gpt-f16", WeightType::kF16, false}),
                         fixture_case_name);

}  // namespace
}  // namespace sg::engine
