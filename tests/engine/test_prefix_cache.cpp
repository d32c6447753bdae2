// Prefix caching: the model keeps a ledger of the tokens each KV-cache slot holds, copies a
// prefix between slots, and a sequence that starts after a copied or kept prefix gets the
// logits of computing it whole, bit for bit. The generator takes prompts' shared prefixes
// from the cache and changes no result.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "common/errors.hpp"
#include "engine/fixture_case.hpp"
#include "engine/generator.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "model/checkpoint.hpp"

namespace sg::engine {
namespace {

namespace fs = std::filesystem;

using Case = FixtureCase;
using Ids = std::vector<std::int32_t>;

Ids tokens_of(int vocab, int n, int seed) {
  Ids out;
  for (int i = 0; i < n; ++i) out.push_back((seed * 131 + i * 17 + 3) % vocab);
  return out;
}

class PrefixCacheTest : public testing::GpuTest, public ::testing::WithParamInterface<Case> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    ckpt_ = std::make_unique<model::Checkpoint>(
        model::Checkpoint::open(fs::path(STAGEGATE_FIXTURES) / "models" / GetParam().fixture));
  }

  std::unique_ptr<Model> make(int slots) {
    EngineOptions o;
    o.dtype = GetParam().dtype;
    o.max_sequences = slots;
    o.max_step_tokens = 32;  // a long prompt's prefill spans several passes
    return std::make_unique<Model>(gpu(), *ckpt_, o);
  }

  Ids tokens(int n, int seed) const { return tokens_of(ckpt_->config().vocab_size, n, seed); }

  std::unique_ptr<model::Checkpoint> ckpt_;
};

// The last row's logits of one chunk (all_logits: every row's, concatenated).
std::vector<float> run(Model& m, int slot, int start, std::span<const std::int32_t> ids,
                       bool all_logits = false) {
  std::vector<float> out;
  const std::vector<SequenceChunk> batch{{slot, start, ids, all_logits, std::nullopt}};
  m.forward(batch, [&](std::size_t, int, std::span<const float> l, const LogitSummary*) {
    out.insert(out.end(), l.begin(), l.end());
  });
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

Ids held(const Model& m, int slot) {
  const auto c = m.cached_tokens(slot);
  return Ids(c.begin(), c.end());
}

TEST_P(PrefixCacheTest, TheLedgerFollowsForwardAndCopies) {
  auto m = make(3);
  EXPECT_TRUE(held(*m, 0).empty());
  const Ids a = tokens(40, 1), b = tokens(5, 2), c = tokens(3, 3);
  run(*m, 0, 0, a);
  EXPECT_EQ(held(*m, 0), a);
  run(*m, 0, 40, b);  // a continuation
  Ids ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  EXPECT_EQ(held(*m, 0), ab);
  run(*m, 0, 4, c);  // rewrites from position 4 on
  Ids rewritten(a.begin(), a.begin() + 4);
  rewritten.insert(rewritten.end(), c.begin(), c.end());
  EXPECT_EQ(held(*m, 0), rewritten);
  run(*m, 1, 0, b);
  const std::vector<KvCopy> copies{{0, 2, 6}};
  m->copy_kv(copies);
  EXPECT_EQ(held(*m, 2), Ids(rewritten.begin(), rewritten.begin() + 6));
  EXPECT_EQ(held(*m, 1), b);  // untouched
  // A chunk that starts past what the ledger knows leaves the slot's known prefix alone.
  run(*m, 1, 9, c);
  EXPECT_EQ(held(*m, 1), b);
}

TEST_P(PrefixCacheTest, ACopiedPrefixGivesTheLogitsOfComputingItWhole) {
  auto m = make(3);
  const Ids prompt = tokens(45, 4);
  const auto whole = run(*m, 0, 0, prompt, true);
  ASSERT_FALSE(whole.empty());
  const std::size_t row = whole.size() / prompt.size();
  std::size_t compared = 0;
  for (int shared : {1, 20, 32, 44}) {
    SCOPED_TRACE("shared " + std::to_string(shared));
    const std::vector<KvCopy> copies{{0, 1, shared}};
    m->copy_kv(copies);
    const auto rest = std::span(prompt).subspan(static_cast<std::size_t>(shared));
    const auto got = run(*m, 1, shared, rest, true);
    ASSERT_EQ(got.size(), rest.size() * row);
    EXPECT_TRUE(same_bits(
        got,
        std::vector<float>(whole.end() - static_cast<std::ptrdiff_t>(got.size()), whole.end())));
    // Decoding on from the copy equals decoding on from the original, step by step.
    Ids next = tokens(6, 5);
    for (std::size_t k = 0; k < next.size(); ++k) {
      const int pos = static_cast<int>(prompt.size() + k);
      auto in_copy = run(*m, 1, pos, std::span(next).subspan(k, 1));
      auto in_original = run(*m, 0, pos, std::span(next).subspan(k, 1));
      EXPECT_TRUE(same_bits(in_copy, in_original)) << "decode step " << k;
      compared += 2;
    }
    EXPECT_EQ(held(*m, 0).size(), prompt.size() + next.size());
    // Rewind slot 0 to the prompt for the next round.
    run(*m, 0, 0, prompt);
  }
  EXPECT_EQ(compared, 48u);
}

TEST_P(PrefixCacheTest, BadCopiesAreRefused) {
  auto m = make(3);
  run(*m, 0, 0, tokens(10, 6));
  run(*m, 1, 0, tokens(4, 7));
  const std::vector<KvCopy> too_long{{1, 2, 5}};
  EXPECT_THROW(m->copy_kv(too_long), RuntimeError);
  const std::vector<KvCopy> chained{{0, 1, 3}, {1, 2, 2}};
  EXPECT_THROW(m->copy_kv(chained), RuntimeError);
  const std::vector<KvCopy> outside{{0, 3, 2}};
  EXPECT_THROW(m->copy_kv(outside), RuntimeError);
  EXPECT_EQ(held(*m, 1), tokens(4, 7)) << "a refused copy changed the ledger";
}

// Requests that share prompts, whole or in part, as audits make them (every strategy and
// sample of a prompt), with greedy, sampled and full-row processors, prompt log-probs, and
// prompts of one token.
std::vector<GenerationRequest> sharing_requests(int vocab) {
  std::vector<GenerationRequest> out;
  const Ids base = tokens_of(vocab, 30, 8);
  auto add = [&](Ids prompt, int variant) {
    GenerationRequest q;
    q.prompt = std::move(prompt);
    q.params.max_tokens = 6 + variant % 5;
    q.params.seed = 500 + static_cast<std::uint64_t>(out.size());
    q.params.ignore_eos = true;
    switch (variant % 5) {
      case 0:
        q.params.temperature = 0;
        break;
      case 1:
        q.params.temperature = 1.0f;
        q.params.top_k = 40;
        break;
      case 2:
        q.params.temperature = 1.0f;
        q.params.top_p = 0.95f;
        break;
      case 3:
        q.params.temperature = 0.9f;
        q.params.repetition_penalty = 1.3f;  // needs every logit
        break;
      default:
        q.params.temperature = 1.0f;
        q.prompt_logprobs = true;
        q.params.top_logprobs = 3;
        break;
    }
    out.push_back(std::move(q));
  };
  for (int v = 0; v < 5; ++v) add(base, v);  // one prompt, every strategy
  for (int cut : {29, 12, 1, 30}) add(Ids(base.begin(), base.begin() + cut), cut);  // prefixes
  Ids longer = base;
  for (int i = 0; i < 9; ++i) longer.push_back((i * 7 + 2) % vocab);
  add(longer, 1);  // the prompt continues past the shared one
  for (int v = 0; v < 4; ++v) add(tokens_of(vocab, 12, 20 + v), v);  // unrelated
  for (int v = 0; v < 4; ++v) add(base, v);                          // the first again
  return out;
}

void expect_same(const GenerationResult& got, const GenerationResult& want, std::size_t i) {
  EXPECT_EQ(got.tokens, want.tokens) << "request " << i;
  EXPECT_EQ(got.logprobs, want.logprobs) << "request " << i;  // exact doubles
  EXPECT_EQ(got.top_logprobs, want.top_logprobs) << "request " << i;
  EXPECT_EQ(got.prompt_logprobs, want.prompt_logprobs) << "request " << i;
  EXPECT_EQ(got.finish_reason, want.finish_reason) << "request " << i;
}

TEST_P(PrefixCacheTest, GenerationTakesSharedPrefixesFromTheCacheAndChangesNothing) {
  const auto requests = sharing_requests(ckpt_->config().vocab_size);
  std::size_t prompt_tokens = 0;
  for (const auto& r : requests) prompt_tokens += r.prompt.size();
  std::vector<GenerationResult> want;
  {
    auto m = make(3);
    Generator gen(*m, std::nullopt);
    gen.set_prefix_reuse(false);
    want = gen.run(requests);
    EXPECT_EQ(gen.timings().reused_tokens, 0u);
    EXPECT_EQ(gen.timings().prefill_tokens, prompt_tokens);
  }
  // One slot: each prompt can only reuse what the one before it left. Four: the first five
  // start in one step, so four of them wait a step and copy the first one's prompt. Sixteen:
  // every request starts at once.
  for (int slots : {1, 4, 16}) {
    SCOPED_TRACE("slots " + std::to_string(slots));
    auto m = make(slots);
    Generator gen(*m, std::nullopt);
    const auto got = gen.run(requests);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) expect_same(got[i], want[i], i);
    const auto& t = gen.timings();
    EXPECT_EQ(t.prefill_tokens + t.reused_tokens, prompt_tokens);
    // The 30-token prompt's repeats reuse 29 tokens each, whatever the slots; the prompt
    // log-probs request computes its prompt whole.
    EXPECT_GE(t.reused_tokens, 29u * 5) << "prefill " << t.prefill_tokens;
  }
}

// A generator run after other work on the same model (scoring, another generator) reads the
// ledger as that work left it: reuse never takes stale keys.
TEST_P(PrefixCacheTest, ReuseAfterOtherWorkOnTheModelChangesNothing) {
  const auto requests = sharing_requests(ckpt_->config().vocab_size);
  auto m = make(4);
  Generator plain(*m, std::nullopt);
  plain.set_prefix_reuse(false);
  const auto want = plain.run(requests);
  Generator gen(*m, std::nullopt);
  auto first = gen.run(requests);  // the cache now holds every slot's last sequence
  // Other work rewrites slots 0 and 2 partway through what they held.
  run(*m, 0, 3, tokens(20, 30));
  run(*m, 2, 0, tokens(7, 31));
  const auto again = gen.run(requests);
  for (std::size_t i = 0; i < want.size(); ++i) {
    expect_same(first[i], want[i], i);
    expect_same(again[i], want[i], i);
  }
  EXPECT_GT(gen.timings().reused_tokens, 0u);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PrefixCacheTest,
                         ::testing::Values(Case{"gpt2-f32", WeightType::kF32, false},
                                           Case{"openai-gpt-f16", WeightType::kF16, false}),
                         fixture_case_name);

}  // namespace
}  // namespace sg::engine
