// After-generation filters in the generation loop: a refused completion carries no tokens
// and finish reason "content_filter"; a regenerated one equals its request run alone with
// the retry's seed, whatever the slot count; a redacted one keeps the model's tokens and
// delivers the filter's text; completions finishing at one step are judged in one call, and
// a judged request is never streamed.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "engine/completion_filter.hpp"
#include "engine/generator.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "model/checkpoint.hpp"

namespace sg::engine {
namespace {

namespace fs = std::filesystem;

// Judges by the completion's tokens: `action` for every completion whose first try (or
// every try, with `until` > attempt) it sees; records each call's batch size.
class FakeFilter : public CompletionFilter {
 public:
  FakeFilter(Verdict::Action action, int until) : action_(action), until_(until) {}

  std::vector<Verdict> judge(std::span<const Completion> completions) override {
    batches.push_back(completions.size());
    std::vector<Verdict> out;
    for (const auto& c : completions) {
      judged.emplace_back(c.tokens.begin(), c.tokens.end());
      Verdict v;
      if (c.attempt < until_) {
        v.action = action_;
        v.event.filter = "fake";
        v.event.action = "act";
        v.event.detail_json = "{\"try\": " + std::to_string(c.attempt) + "}";
        v.text = "[redacted]";
      }
      out.push_back(std::move(v));
    }
    return out;
  }

  std::vector<std::size_t> batches;
  std::vector<std::vector<std::int32_t>> judged;

 private:
  Verdict::Action action_;
  int until_;
};

class CompletionFilterTest : public testing::GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    ckpt_ = std::make_unique<model::Checkpoint>(
        model::Checkpoint::open(fs::path(STAGEGATE_FIXTURES) / "models" / "gpt2-f32"));
  }

  std::unique_ptr<Model> make(int slots) {
    EngineOptions o;
    o.dtype = WeightType::kF32;
    o.max_sequences = slots;
    return std::make_unique<Model>(gpu(), *ckpt_, o);
  }

  // Sampled requests of equal budgets, so several finish at the same step.
  static std::vector<GenerationRequest> requests(std::size_t n) {
    std::vector<GenerationRequest> out(n);
    for (std::size_t r = 0; r < n; ++r) {
      out[r].prompt = {static_cast<std::int32_t>(r + 3), 11, 17};
      out[r].params.temperature = 1.0f;
      out[r].params.max_tokens = 6;
      out[r].params.ignore_eos = true;
      out[r].params.seed = 500 + r;
    }
    return out;
  }

  std::vector<GenerationResult> run(std::span<const GenerationRequest> reqs, int slots,
                                    std::vector<std::size_t>* streamed = nullptr) {
    auto& m = models_[slots];
    if (!m) m = make(slots);
    Generator gen(*m, std::nullopt);
    return gen.run(reqs, [&](std::size_t i, std::int32_t) {
      if (streamed) streamed->push_back(i);
    });
  }

  std::unique_ptr<model::Checkpoint> ckpt_;
  std::map<int, std::unique_ptr<Model>> models_;  // by slot count: uploading costs seconds
};

TEST_F(CompletionFilterTest, RetrySeedsAreTheSeedFirstThenDistinct) {
  EXPECT_EQ(retry_seed(42, 0), 42u);
  std::set<std::uint64_t> seeds;
  for (std::uint64_t s : {0u, 1u, 42u})
    for (int a = 0; a < 5; ++a) seeds.insert(retry_seed(s, a));
  EXPECT_EQ(seeds.size(), 15u);
  EXPECT_EQ(retry_seed(42, 3), retry_seed(42, 3));
}

TEST_F(CompletionFilterTest, RefusedCompletionsCarryNothingButTheEvent) {
  auto plain = requests(4);
  const auto want = run(plain, 4);
  auto filter = std::make_shared<FakeFilter>(Verdict::Action::kRefuse, 1);
  auto reqs = plain;
  reqs[1].params.completion_filters = {filter};
  reqs[3].params.completion_filters = {filter};
  std::vector<std::size_t> streamed;
  const auto got = run(reqs, 4, &streamed);
  for (std::size_t i : {1u, 3u}) {
    EXPECT_TRUE(got[i].tokens.empty());
    EXPECT_TRUE(got[i].logprobs.empty());
    EXPECT_EQ(got[i].finish_reason, "content_filter");
    ASSERT_TRUE(got[i].text);
    EXPECT_EQ(*got[i].text, "");
    ASSERT_EQ(got[i].events.size(), 1u);
    EXPECT_EQ(got[i].events[0].filter, "fake");
    EXPECT_EQ(got[i].events[0].position, 6);  // judged the whole completion of 6 tokens
  }
  // The filter saw what the model generated; the unfiltered requests are untouched.
  ASSERT_EQ(filter->judged.size(), 2u);
  EXPECT_EQ(filter->judged[0], want[1].tokens);
  EXPECT_EQ(filter->judged[1], want[3].tokens);
  for (std::size_t i : {0u, 2u}) {
    EXPECT_EQ(got[i].tokens, want[i].tokens);
    EXPECT_FALSE(got[i].text);
  }
  // Both finished at the same step: judged in one call. Only the unfiltered ones streamed.
  EXPECT_EQ(filter->batches, (std::vector<std::size_t>{2}));
  EXPECT_EQ(std::set<std::size_t>(streamed.begin(), streamed.end()), (std::set<std::size_t>{0, 2}));
}

TEST_F(CompletionFilterTest, RegeneratedCompletionsEqualTheRetrySeedAloneAtAnySlotCount) {
  auto reqs = requests(5);
  // What try 2 of each request would give, unfiltered, each alone.
  std::vector<GenerationResult> want;
  for (auto r : reqs) {
    r.params.seed = retry_seed(r.params.seed, 2);
    want.push_back(std::move(run(std::span(&r, 1), 1).front()));
  }
  for (int slots : {1, 2, 5}) {
    SCOPED_TRACE("slots " + std::to_string(slots));
    auto filter = std::make_shared<FakeFilter>(Verdict::Action::kRegenerate, 2);
    auto filtered = reqs;
    for (auto& r : filtered) r.params.completion_filters = {filter};
    const auto got = run(filtered, slots);
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      EXPECT_EQ(got[i].tokens, want[i].tokens) << "request " << i;
      EXPECT_EQ(got[i].logprobs, want[i].logprobs) << "request " << i;
      EXPECT_EQ(got[i].finish_reason, "length");
      EXPECT_EQ(got[i].attempts, 3);
      EXPECT_FALSE(got[i].text);
      ASSERT_EQ(got[i].events.size(), 2u);
      EXPECT_EQ(got[i].events[0].detail_json, "{\"try\": 0}");
      EXPECT_EQ(got[i].events[1].detail_json, "{\"try\": 1}");
    }
    EXPECT_EQ(filter->judged.size(), 3 * reqs.size());  // three tries each
  }
}

TEST_F(CompletionFilterTest, RedactedCompletionsKeepTheTokensAndDeliverTheText) {
  auto plain = requests(2);
  const auto want = run(plain, 2);
  auto redactor = std::make_shared<FakeFilter>(Verdict::Action::kRedact, 1);
  auto never_asked = std::make_shared<FakeFilter>(Verdict::Action::kRefuse, 1);
  auto reqs = plain;
  reqs[0].params.completion_filters = {redactor, never_asked};
  const auto got = run(reqs, 2);
  EXPECT_EQ(got[0].tokens, want[0].tokens);
  EXPECT_EQ(got[0].logprobs, want[0].logprobs);
  EXPECT_EQ(got[0].finish_reason, "length");
  ASSERT_TRUE(got[0].text);
  EXPECT_EQ(*got[0].text, "[redacted]");
  EXPECT_EQ(got[0].events.size(), 1u);
  // What callers deliver (generate, the audit store): the filter's text, else the tokens'.
  const auto tok = tokenizer::load(fs::path(STAGEGATE_FIXTURES) / "models" / "gpt2-f32");
  EXPECT_EQ(delivered_text(got[0], *tok), "[redacted]");
  EXPECT_EQ(delivered_text(got[1], *tok), tok->decode(want[1].tokens));
  // The first verdict that acts is the last: the next filter judges nothing.
  EXPECT_TRUE(never_asked->judged.empty());
}

TEST_F(CompletionFilterTest, AcceptedCompletionsGoThroughEveryFilterUnchanged) {
  auto plain = requests(3);
  const auto want = run(plain, 3);
  auto first = std::make_shared<FakeFilter>(Verdict::Action::kRefuse, 0);  // accepts all
  auto second = std::make_shared<FakeFilter>(Verdict::Action::kRefuse, 0);
  auto reqs = plain;
  for (auto& r : reqs) r.params.completion_filters = {first, second};
  const auto got = run(reqs, 3);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(got[i].tokens, want[i].tokens);
    EXPECT_TRUE(got[i].events.empty());
    EXPECT_EQ(got[i].attempts, 1);
  }
  EXPECT_EQ(first->batches, (std::vector<std::size_t>{3}));
  EXPECT_EQ(second->batches, (std::vector<std::size_t>{3}));
}

}  // namespace
}  // namespace sg::engine
