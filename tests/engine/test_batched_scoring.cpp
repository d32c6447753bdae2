// Batched scoring: score_many packs the sliding windows of many texts into shared forward
// passes, and each text's logprobs equal, bit for bit, scoring it window by window alone.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/errors.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "engine/sampling.hpp"
#include "engine/scorer.hpp"
#include "model/checkpoint.hpp"

namespace sg::engine {
namespace {

namespace fs = std::filesystem;

class BatchedScoringTest : public testing::GpuTest,
                           public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    ckpt_ = std::make_unique<model::Checkpoint>(
        model::Checkpoint::open(fs::path(STAGEGATE_FIXTURES) / "models" / GetParam()));
  }
  std::unique_ptr<Model> make(int slots, int step_tokens = 128) {
    EngineOptions o;
    o.dtype = WeightType::kF32;
    o.max_sequences = slots;
    o.max_step_tokens = step_tokens;
    return std::make_unique<Model>(gpu(), *ckpt_, o);
  }
  std::unique_ptr<model::Checkpoint> ckpt_;
};

// The sliding window written out plainly, one window per forward call in slot 0.
std::vector<double> reference_logprobs(Model& m, const std::vector<std::int32_t>& tokens,
                                       int stride) {
  const int n = static_cast<int>(tokens.size());
  const int window = m.context();
  std::vector<double> out(tokens.size() - 1);
  int scored_until = 1;
  for (int begin = 0;; begin += stride) {
    const int end = std::min(begin + window, n);
    SequenceChunk chunk{0, 0,
                        std::span(tokens).subspan(static_cast<std::size_t>(begin),
                                                  static_cast<std::size_t>(end - begin)),
                        true, std::nullopt};
    m.forward(std::span(&chunk, 1),
              [&](std::size_t, int i, std::span<const float> logits, const engine::LogitSummary*) {
                const int target = begin + i + 1;
                if (target < scored_until || target >= end) return;
                out[static_cast<std::size_t>(target - 1)] =
                    log_prob(logits, tokens[static_cast<std::size_t>(target)]);
              });
    scored_until = end;
    if (end == n) break;
  }
  return out;
}

TEST_P(BatchedScoringTest, EqualsEachTextAlone) {
  const int vocab = ckpt_->config().vocab_size;
  const int ctx = ckpt_->config().n_positions;
  // Short texts, one of exactly the context, and several needing 2 to 6 windows.
  std::vector<std::vector<std::int32_t>> texts;
  for (int len : {2, 5, 40, ctx, ctx + 1, 3 * ctx + 7, 17, 2 * ctx, 9}) {
    std::vector<std::int32_t> t;
    for (int i = 0; i < len; ++i)
      t.push_back((static_cast<int>(texts.size()) * 97 + i * 31 + 5) % vocab);
    texts.push_back(std::move(t));
  }
  for (int stride : {0, 24, ctx - 1}) {
    const int effective = stride == 0 ? ctx / 2 : stride;
    auto alone = make(1);
    std::vector<std::vector<double>> want;
    for (const auto& t : texts) want.push_back(reference_logprobs(*alone, t, effective));
    for (int slots : {1, 3, 8}) {
      SCOPED_TRACE("stride " + std::to_string(stride) + ", slots " + std::to_string(slots));
      auto m = make(slots, 48);  // windows split across passes, and passes across windows
      auto got = score_many(*m, texts, stride);
      ASSERT_EQ(got.size(), texts.size());
      for (std::size_t t = 0; t < texts.size(); ++t) {
        EXPECT_EQ(got[t].logprobs, want[t]) << "text " << t;
        double total = 0;
        for (double lp : want[t]) total += lp;
        EXPECT_EQ(got[t].total_logprob, total);
        EXPECT_EQ(got[t].perplexity, std::exp(-total / static_cast<double>(want[t].size())));
        if (slots == 3) {  // the one-text call is the same path
          auto one = score(*m, texts[t], stride);
          EXPECT_EQ(one.logprobs, want[t]) << "text " << t;
        }
      }
    }
  }
}

// Texts that start alike, as an exposure test's candidates do after their canary's prefix:
// the shared start is computed once per call, and every text still equals scoring it alone.
TEST_P(BatchedScoringTest, SharedStartsAreComputedOnceAndChangeNothing) {
  const int vocab = ckpt_->config().vocab_size;
  const int ctx = ckpt_->config().n_positions;
  std::vector<std::int32_t> prefix;
  for (int i = 0; i < 20; ++i) prefix.push_back((i * 13 + 7) % vocab);
  std::vector<std::vector<std::int32_t>> texts;
  auto with_suffix = [&](std::vector<std::int32_t> head, int n, int seed) {
    for (int i = 0; i < n; ++i) head.push_back((seed * 101 + i * 29 + 1) % vocab);
    texts.push_back(std::move(head));
  };
  for (int c = 0; c < 6; ++c) with_suffix(prefix, 6, c);    // candidates: 20 shared tokens
  with_suffix(prefix, 0, 0);                                // the prefix alone
  with_suffix({prefix.begin(), prefix.begin() + 2}, 0, 0);  // two tokens: one to reuse
  with_suffix({prefix.begin(), prefix.begin() + 9}, 5, 9);  // a shorter shared start
  texts.push_back(texts[0]);                                // a repeat
  with_suffix(prefix, ctx, 3);  // longer than the context: its first window shares too
  with_suffix({}, 12, 40);      // unrelated
  auto alone = make(1);
  std::vector<std::vector<double>> want;
  for (const auto& t : texts) want.push_back(reference_logprobs(*alone, t, ctx / 2));
  for (int slots : {3, 16}) {
    SCOPED_TRACE("slots " + std::to_string(slots));
    auto m = make(slots, 48);
    ScoreCounts counts;
    const auto got = score_many(*m, texts, 0, &counts);
    for (std::size_t t = 0; t < texts.size(); ++t) EXPECT_EQ(got[t].logprobs, want[t]) << t;
    std::size_t tokens = 0;
    for (const auto& t : texts) tokens += t.size();
    // Sixteen slots hold every window at once: all but the first of the texts that start with
    // the 20-token prefix take 19 tokens from it, the 9-token one 8, the two-token one 1, the
    // repeat 25.
    if (slots == 16) {
      EXPECT_EQ(counts.reused, 19u * 7 + 8 + 1 + 25);
      EXPECT_EQ(counts.computed + counts.reused, tokens + ctx / 2);  // + the window overlap
    } else {
      EXPECT_GT(counts.reused, 19u * 3);
    }
  }
}

TEST_P(BatchedScoringTest, RejectsBadInput) {
  auto m = make(2);
  std::vector<std::vector<std::int32_t>> texts{{1, 2, 3}, {4}};
  try {
    score_many(*m, texts);
    FAIL() << "a one-token text was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("text 1"), std::string::npos) << e.what();
  }
  texts.pop_back();
  EXPECT_THROW(score_many(*m, texts, m->context()), UsageError);
  EXPECT_TRUE(score_many(*m, {}).empty());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BatchedScoringTest,
                         ::testing::Values("gpt2-f32", "openai-gpt-f32", "gpt2-relu-f32"));

}  // namespace
}  // namespace sg::engine
