// Logits processors, the sampler and its random numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <unordered_map>

#include "engine/sampling.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::engine {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const GenerationState kEmpty{};

// softmax(logits) in double precision, computed here independently of the sampler.
std::vector<double> softmax(const std::vector<float>& logits) {
  double max = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p;
  double total = 0;
  for (float l : logits) total += std::exp(static_cast<double>(l) - max);
  for (float l : logits) p.push_back(std::exp(static_cast<double>(l) - max) / total);
  return p;
}

// Pearson's chi-square statistic of `counts` against probabilities `p` (entries with p = 0
// must have no counts, and are left out).
double chi_square(const std::vector<int>& counts, const std::vector<double>& p) {
  double n = std::accumulate(counts.begin(), counts.end(), 0.0);
  double chi2 = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " has probability 0 but was drawn";
      continue;
    }
    double expected = n * p[i];
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return chi2;
}

std::vector<int> draw_counts(const std::vector<float>& logits, std::uint64_t seed, int draws) {
  Rng rng(seed);
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < draws; ++i) ++counts[static_cast<std::size_t>(sample(logits, rng))];
  return counts;
}

TEST(Rng, SequenceIsPinned) {
  // A fixed algorithm: these values must never change, or seeds stop reproducing samples.
  // The first outputs of xoshiro256** seeded by splitmix64, as computed by an independent
  // Python transcription of the algorithm's reference description.
  Rng zero(0), answer(42);
  for (std::uint64_t want :
       {0x99EC5F36CB75F2B4ull, 0xBF6E1F784956452Aull, 0x1A5F849D4933E6E0ull, 0x6AA594F1262D2D2Cull})
    EXPECT_EQ(zero.next(), want);
  for (std::uint64_t want :
       {0x15780B2E0C2EC716ull, 0x6104D9866D113A7Eull, 0xAE17533239E499A1ull, 0xECB8AD4703B360A1ull})
    EXPECT_EQ(answer.next(), want);
}

TEST(Rng, UniformIsTheTop53BitsOfNext) {
  Rng bits(5), uniform(5);
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(uniform.uniform(), static_cast<double>(bits.next() >> 11) / 9007199254740992.0) << i;
}

TEST(Rng, UniformIsUniformOnTheUnitInterval) {
  // 20 equal bins, 100000 draws: chi-square with 19 degrees of freedom stays below 43.8
  // (its 0.1 % critical value) for a uniform generator.
  Rng r(7);
  std::vector<int> bins(20, 0);
  for (int i = 0; i < 100000; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ++bins[static_cast<std::size_t>(u * 20)];
  }
  EXPECT_LT(chi_square(bins, std::vector<double>(20, 0.05)), 43.8);
}

TEST(Processors, TemperatureScales) {
  std::vector<float> l{2.0f, -1.0f};
  Temperature(0.5f).apply(kEmpty, l);
  EXPECT_FLOAT_EQ(l[0], 4.0f);
  EXPECT_FLOAT_EQ(l[1], -2.0f);
}

TEST(Processors, TopKKeepsTies) {
  std::vector<float> l{1, 5, 3, 5, 2};
  TopK(2).apply(kEmpty, l);
  EXPECT_EQ(l, (std::vector<float>{-kInf, 5, -kInf, 5, -kInf}));
  std::vector<float> t{1, 3, 3, 0};
  TopK(2).apply(kEmpty, t);  // the 2nd largest ties with the 3rd: both stay
  EXPECT_EQ(t, (std::vector<float>{-kInf, 3, 3, -kInf}));
}

TEST(Processors, TopPKeepsSmallestNucleus) {
  // probabilities 0.5, 0.25, 0.125, 0.125: kept logits are unchanged, the rest masked
  const std::vector<float> l{std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)};
  auto a = l;
  TopP(0.7f).apply(kEmpty, a);
  EXPECT_EQ(a, (std::vector<float>{l[0], l[1], -kInf, -kInf}));
  auto b = l;
  TopP(0.4f).apply(kEmpty, b);  // the top token alone reaches 0.4
  EXPECT_EQ(b, (std::vector<float>{l[0], -kInf, -kInf, -kInf}));
  auto c = l;
  TopP(0.8f).apply(kEmpty, c);  // 0.75 is short of 0.8: one of the tied 0.125s joins
  EXPECT_EQ(std::count(c.begin(), c.end(), -kInf), 1);
  EXPECT_EQ(c[0], l[0]);
  EXPECT_EQ(c[1], l[1]);
}

// Top-p sorts only as far as its nucleus reaches. What it keeps is bit for bit what a stable
// sort of the whole vocabulary keeps: nuclei shorter and longer than the part it sorts
// first, tied logits, ids already masked by top-k.
TEST(Processors, TopPKeepsWhatAWholeStableSortKeeps) {
  const auto whole_sort = [](std::vector<float> logits, float p) {
    std::vector<std::uint32_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return logits[a] > logits[b]; });
    const double max = logits[order[0]];
    double total = 0;
    for (auto l : logits) total += std::exp(static_cast<double>(l) - max);
    double cumulative = 0;
    std::size_t keep = 0;
    while (keep < order.size()) {
      cumulative += std::exp(static_cast<double>(logits[order[keep]]) - max) / total;
      ++keep;
      if (cumulative >= p) break;
    }
    for (std::size_t i = keep; i < order.size(); ++i) logits[order[i]] = -kInf;
    return logits;
  };
  std::mt19937 gen(11);
  int long_nuclei = 0, short_nuclei = 0;
  for (int vocab : {7, 1000, 8192, 50257}) {
    for (float sharpness : {0.3f, 1.0f, 4.0f}) {
      for (float p : {0.5f, 0.9f, 0.99f}) {
        std::normal_distribution<float> bulk(0.0f, sharpness);
        std::vector<float> row(static_cast<std::size_t>(vocab));
        for (auto& l : row) l = bulk(gen);
        if (sharpness == 1.0f)
          for (auto& l : row) l = std::round(l * 4) / 4;  // many ties
        if (p == 0.99f) TopK(vocab / 2 + 1).apply(kEmpty, row);
        auto got = row;
        TopP(p).apply(kEmpty, got);
        const auto want = whole_sort(row, p);
        ASSERT_EQ(got, want) << "vocabulary " << vocab << ", sharpness " << sharpness << ", p "
                             << p;
        const auto kept = std::count_if(got.begin(), got.end(), [](float l) { return l != -kInf; });
        ++(kept > 1024 ? long_nuclei : short_nuclei);
      }
    }
  }
  EXPECT_GT(long_nuclei, 0) << "no nucleus went past the sorted prefix";
  EXPECT_GT(short_nuclei, 0);
}

TEST(Processors, RepetitionPenaltyAsHuggingFace) {
  std::vector<std::int32_t> prompt{0, 1, 1};
  std::vector<float> l{2.0f, -2.0f, 3.0f};
  RepetitionPenalty(2.0f).apply({prompt, {}}, l);
  EXPECT_FLOAT_EQ(l[0], 1.0f);   // positive: divided
  EXPECT_FLOAT_EQ(l[1], -4.0f);  // negative: multiplied, once despite two occurrences
  EXPECT_FLOAT_EQ(l[2], 3.0f);
}

TEST(Processors, NoRepeatNgramBansCompletion) {
  std::vector<std::int32_t> prompt{5, 6, 7, 5};
  std::vector<std::int32_t> out{6};
  std::vector<float> l(10, 0.0f);
  NoRepeatNgram(3).apply({prompt, out}, l);  // "5 6" was followed by 7
  for (int i = 0; i < 10; ++i) EXPECT_EQ(l[static_cast<std::size_t>(i)] == -kInf, i == 7) << i;
}

TEST(Processors, PresenceAndFrequencyCountTheOutputOnly) {
  // OpenAI: logit[j] -= c[j] * frequency + (c[j] > 0) * presence, c[j] counting the sampled
  // tokens. Token 0 is only in the prompt: untouched.
  std::vector<std::int32_t> prompt{0, 0, 3};
  std::vector<std::int32_t> out{1, 1, 2, 3};
  std::vector<float> l{1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  PresenceFrequencyPenalty(0.5f, 0.25f).apply({prompt, out}, l);
  EXPECT_EQ(l, (std::vector<float>{1.0f, 1.0f - 2 * 0.25f - 0.5f, 1.0f - 0.25f - 0.5f,
                                   1.0f - 0.25f - 0.5f, 1.0f}));
  // Negative values make repeats more likely.
  std::vector<float> m{0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  PresenceFrequencyPenalty(-1.0f, -0.5f).apply({prompt, out}, m);
  EXPECT_EQ(m, (std::vector<float>{0.0f, 2.0f, 1.5f, 1.5f, 0.0f}));
}

// DRY with multiplier 1, base 2 over a prompt of `tokens`; logits all 0 over `vocab` tokens.
std::vector<float> dry_logits(const std::vector<std::int32_t>& tokens, int allowed,
                              std::shared_ptr<const DryBreakers> breakers = nullptr,
                              int last_n = -1, std::size_t vocab = 10, float base = 2.0f) {
  DryParams p;
  p.multiplier = 1.0f;
  p.base = base;
  p.allowed_length = allowed;
  p.penalty_last_n = last_n;
  p.breakers = std::move(breakers);
  std::vector<float> l(vocab, 0.0f);
  Dry(p).apply({tokens, {}}, l);
  return l;
}

std::shared_ptr<const DryBreakers> breakers(
    std::vector<std::pair<std::int32_t, std::vector<std::int32_t>>> list) {
  auto b = std::make_shared<DryBreakers>();
  for (auto& [head, tail] : list) b->tails_by_head[head].push_back(tail);
  return b;
}

TEST(Dry, PenalizesTokensThatExtendARepeatOfTheEnding) {
  // a b c c b c y a b c (a=0, b=1, c=2, y=3). The ending "a b c" also ends at index 2, so c
  // (index 3) would extend a repeat of 3; "b c" also ends at index 5, so y would extend a
  // repeat of 2; every other earlier position matches at most 1 < allowed length 2.
  // Penalties: 2^(3-2) = 2 for c, 2^(2-2) = 1 for y.
  const std::vector<std::int32_t> s{0, 1, 2, 2, 1, 2, 3, 0, 1, 2};
  EXPECT_EQ(dry_logits(s, 2, nullptr, -1, 5), (std::vector<float>{0, 0, -2, -1, 0}));
  // Allowed length 3: only c's repeat counts, now at 2^0.
  EXPECT_EQ(dry_logits(s, 3, nullptr, -1, 5), (std::vector<float>{0, 0, -1, 0, 0}));
  // The prompt and the output are one text.
  DryParams p;
  p.multiplier = 1.0f;
  p.base = 2.0f;
  std::vector<std::int32_t> prompt(s.begin(), s.begin() + 4), out(s.begin() + 4, s.end());
  std::vector<float> l(5, 0.0f);
  Dry(p).apply({prompt, out}, l);
  EXPECT_EQ(l, (std::vector<float>{0, 0, -2, -1, 0}));
}

TEST(Dry, MultiplierScalesAndTheLongestRepeatWins) {
  // 0 1 2 3 0 1 2 9 1 2: the ending "1 2" (preceded by 9) also ends at index 2 and at
  // index 6 (both preceded by 0): repeats of 2, followed by 3 and by 9, which each get
  // 3 * 2^(2-2) with multiplier 3.
  DryParams p;
  p.multiplier = 3.0f;
  p.base = 2.0f;
  const std::vector<std::int32_t> s{0, 1, 2, 3, 0, 1, 2, 9, 1, 2};
  std::vector<float> l(10, 0.0f);
  Dry(p).apply({s, {}}, l);
  std::vector<float> want(10, 0.0f);
  want[3] = -3.0f;
  want[9] = -3.0f;
  EXPECT_EQ(l, want);
  // 0 1 2 0 1 2 0 1 2: the ending repeats ending at index 5 (6 tokens) and index 2 (3):
  // token 0 follows both; the longer sets its penalty, 2^(6-2) = 16.
  std::vector<float> m(10, 0.0f);
  DryParams q = p;
  q.multiplier = 1.0f;
  const std::vector<std::int32_t> loop{0, 1, 2, 0, 1, 2, 0, 1, 2};
  Dry(q).apply({loop, {}}, m);
  EXPECT_EQ(m[0], -16.0f);
  EXPECT_EQ(std::count(m.begin(), m.end(), 0.0f), 9);
}

TEST(Dry, SequenceBreakersCapRepeatsAndAreNeverPenalized) {
  // 0 1 2 3 0 1 2, allowed length 1: the ending "0 1 2" repeats (3 tokens) before 3, whose
  // penalty is 2^(3-1) = 4. A breaker 1 (a single token) leaves only "2" after it: the
  // repeat is capped at 1, the penalty 2^0.
  const std::vector<std::int32_t> s{0, 1, 2, 3, 0, 1, 2};
  EXPECT_EQ(dry_logits(s, 1)[3], -4.0f);
  EXPECT_EQ(dry_logits(s, 1, breakers({{1, {}}}))[3], -1.0f);
  // With allowed length 2, one token after the breaker is too short for any penalty.
  EXPECT_EQ(dry_logits(s, 2, breakers({{1, {}}})), std::vector<float>(10, 0.0f));
  // A breaker that would extend a repeat is itself never penalized: 0 1 2 3 0 1 2 with
  // breaker 3 (before the ending, so no cap on "0 1 2": 3 tokens follow it).
  EXPECT_EQ(dry_logits(s, 1, breakers({{3, {}}}))[3], 0.0f);
}

TEST(Dry, MultiTokenBreakersNeedTheirWholeSequence) {
  // 8 9 0 1 2 3 8 9 0 1 2: the ending "8 9 0 1 2" repeats (5 tokens) before 3: 2^(5-2) = 8.
  const std::vector<std::int32_t> s{8, 9, 0, 1, 2, 3, 8, 9, 0, 1, 2};
  EXPECT_EQ(dry_logits(s, 2)[3], -8.0f);
  // The breaker "8 9" (head 8, tail 9) last ends before "0 1 2": repeats are capped at 3,
  // 2^(3-2) = 2.
  EXPECT_EQ(dry_logits(s, 2, breakers({{8, {9}}}))[3], -2.0f);
  // "8 7" never occurs whole: no cap.
  EXPECT_EQ(dry_logits(s, 2, breakers({{8, {7}}}))[3], -8.0f);
  // Unlike a single-token breaker, a multi-token breaker's head is penalized: in 5 6 8 5 6,
  // 8 would extend the repeat "5 6" (2^0).
  const std::vector<std::int32_t> t{5, 6, 8, 5, 6};
  auto l = dry_logits(t, 2, breakers({{8, {9}}}));
  EXPECT_EQ(l[8], -1.0f);
  EXPECT_EQ(std::count(l.begin(), l.end(), 0.0f), 9);
  EXPECT_EQ(dry_logits(t, 2, breakers({{8, {}}}))[8], 0.0f);
}

TEST(Dry, LooksAtTheLastNTokensOnly) {
  // 0 1 2 3 0 1 2: with the last 4 tokens (3 0 1 2) nothing repeats; with all 7, 3 gets
  // 2^(3-2).
  const std::vector<std::int32_t> s{0, 1, 2, 3, 0, 1, 2};
  EXPECT_EQ(dry_logits(s, 2, nullptr, 4), std::vector<float>(10, 0.0f));
  EXPECT_EQ(dry_logits(s, 2, nullptr, 7)[3], -2.0f);
  EXPECT_EQ(dry_logits(s, 2, nullptr, -1)[3], -2.0f);
  // A window no longer than the allowed length penalizes nothing: 0 0 0, allowed 3.
  EXPECT_EQ(dry_logits({0, 0, 0}, 3), std::vector<float>(10, 0.0f));
  EXPECT_EQ(dry_logits({0, 0, 0, 0}, 3)[0], -1.0f);  // "0 0 0" ends at index 2, then 0
}

TEST(Dry, TheExponentIsCappedToAFiniteFloat) {
  // 30 zeros: the repeat before the next 0 is 29 long; 100^(29-2) would overflow a float, so
  // the exponent stops at floor(log(FLT_MAX) / log(100)) = 19.
  auto l = dry_logits(std::vector<std::int32_t>(30, 0), 2, nullptr, -1, 3, 100.0f);
  EXPECT_TRUE(std::isfinite(l[0]));
  EXPECT_FLOAT_EQ(l[0], -1e38f);
}

TEST(Dry, BreakersAreSpelledInTheVocabulary) {
  // GPT-2's first 1000 tokens (the fixture's vocabulary).
  const auto tok = tokenizer::load(std::filesystem::path(STAGEGATE_FIXTURES) / "models/gpt2-f32");
  auto id = [&](const std::string& text) {
    auto ids = tok->encode(text);
    EXPECT_EQ(ids.size(), 1u) << text;
    return ids.at(0);
  };
  const std::vector<std::string> newline{"\n"};
  const auto nl = dry_breakers(*tok, newline);
  // Exactly the tokens holding a newline ("\n", "\n\n"), each a breaker by itself.
  using Tails = std::vector<std::vector<std::int32_t>>;
  EXPECT_EQ(nl.tails_by_head,
            (std::unordered_map<std::int32_t, Tails>{{id("\n"), {{}}}, {id("\n\n"), {{}}}}));
  const std::vector<std::string> the{"the"};
  const auto b = dry_breakers(*tok, the);
  auto tails_of = [&](std::int32_t head) {
    auto it = b.tails_by_head.find(head);
    return it == b.tails_by_head.end() ? Tails{} : it->second;
  };
  EXPECT_EQ(tails_of(id(" the")), Tails{{}});               // holds "the"
  EXPECT_EQ(tails_of(id(" th")), Tails{tok->encode("e")});  // ends with "th": "e" follows
  EXPECT_EQ(tails_of(id(" t")), Tails{tok->encode("he")});
  EXPECT_TRUE(tails_of(id(" a")).empty());
  // Every head and tail spell the breaker across the token boundary.
  for (const auto& [head, tails] : b.tails_by_head) {
    const std::int32_t one[] = {head};
    for (const auto& tail : tails) {
      const auto text = tok->decode_bytes(one) + tok->decode_bytes(tail);
      const auto at = text.find("the");
      ASSERT_NE(at, std::string::npos) << text;
      EXPECT_LT(at, tok->decode_bytes(one).size()) << text;
    }
  }
}

TEST(Chain, PenaltiesComeBeforeTheWarpers) {
  // Presence/frequency and DRY act on the raw logits; the temperature then scales the result.
  SamplingParams p;
  p.temperature = 0.5f;
  p.presence_penalty = 1.0f;
  p.frequency_penalty = 0.5f;
  p.dry.multiplier = 2.0f;
  p.dry.base = 2.0f;
  p.dry.allowed_length = 1;
  std::vector<std::int32_t> prompt{4, 0, 1}, out{4, 0};
  // DRY over 4 0 1 4 0: the ending "4 0" also ends at index 1, before 1: 2 * 2^(2-1) = 4.
  // Presence/frequency count the output only: 4 and 0 once each, 1 + 0.5.
  std::vector<float> l{3.0f, 2.0f, 1.0f, 0.0f, 5.0f};
  make_chain(p).apply({prompt, out}, l);
  EXPECT_FLOAT_EQ(l[0], (3.0f - 1.5f) / 0.5f);
  EXPECT_FLOAT_EQ(l[1], (2.0f - 4.0f) / 0.5f);
  EXPECT_FLOAT_EQ(l[2], 1.0f / 0.5f);
  EXPECT_FLOAT_EQ(l[3], 0.0f);
  EXPECT_FLOAT_EQ(l[4], (5.0f - 1.5f) / 0.5f);
}

TEST(Chain, OrderIsPenaltiesTemperatureTopKTopP) {
  SamplingParams p;
  p.temperature = 0.7f;
  p.top_k = 5;
  p.top_p = 0.98f;
  p.repetition_penalty = 1.3f;
  // Greedy skips the sampling warpers but keeps the penalties.
  SamplingParams greedy = p;
  greedy.temperature = 0;
  std::vector<std::int32_t> prompt{0};
  std::vector<float> l{3.0f, 2.9f, 0.0f};
  make_chain(greedy).apply({prompt, {}}, l);
  EXPECT_FLOAT_EQ(l[0], 3.0f / 1.3f);
  EXPECT_FLOAT_EQ(l[1], 2.9f);
  EXPECT_FLOAT_EQ(l[2], 0.0f);
  EXPECT_EQ(argmax(l), 1);
  // After the penalty and temperature 0.7 the probabilities are 0.297, 0.692, 0.011: the top
  // two reach 0.98 and the third is cut. Had top-p run before the temperature (0.344, 0.622,
  // 0.034: the top two hold only 0.966), the third would have stayed.
  std::vector<float> m{3.0f, 2.9f, 0.0f};
  make_chain(p).apply({prompt, {}}, m);
  EXPECT_FLOAT_EQ(m[0], 3.0f / 1.3f / 0.7f);
  EXPECT_FLOAT_EQ(m[1], 2.9f / 0.7f);
  EXPECT_EQ(m[2], -kInf);
}

TEST(Sampler, FixedSeedGivesPinnedDraws) {
  // Draws for logits sin(i), seed 99: computed once by an independent Python transcription
  // of the Rng and of inverse-CDF sampling (tests must never need to change them).
  std::vector<float> l(1000);
  for (std::size_t i = 0; i < l.size(); ++i) l[i] = std::sin(static_cast<float>(i));
  const std::vector<std::int32_t> want{347, 562, 378, 855, 786, 204, 277, 58,
                                       844, 583, 738, 171, 147, 125, 395, 512};
  Rng r(99);
  std::vector<std::int32_t> got;
  for (std::size_t i = 0; i < want.size(); ++i) got.push_back(sample(l, r));
  EXPECT_EQ(got, want);
}

TEST(Sampler, DrawIsTheInverseCdfOfTheUniform) {
  // With equal logits over n tokens, inverse-CDF sampling picks floor(u * n) for the
  // generator's uniform u: follow the same seed's uniforms step by step.
  std::vector<float> l(1000, 0.25f);
  Rng draws(5), uniforms(5);
  std::vector<std::int32_t> got, want;
  for (int i = 0; i < 200; ++i) {
    got.push_back(sample(l, draws));
    want.push_back(static_cast<std::int32_t>(uniforms.uniform() * 1000));
  }
  EXPECT_EQ(got, want);
  // The first draws, pinned (the same Python transcription).
  EXPECT_EQ(std::vector<std::int32_t>(got.begin(), got.begin() + 8),
            (std::vector<std::int32_t>{288, 602, 649, 821, 516, 784, 503, 808}));
}

TEST(Sampler, FollowsTheSoftmaxDistributionAndSkipsMasked) {
  // 200000 draws against softmax probabilities: chi-square with 5 degrees of freedom (six
  // tokens that can be drawn) stays below 20.5, its 0.1 % critical value.
  const std::vector<float> l{0.0f, 1.0f, -kInf, -0.5f, 2.0f, -3.0f, 0.3f};
  auto counts = draw_counts(l, 2024, 200000);
  EXPECT_EQ(counts[2], 0);
  EXPECT_GT(counts[5], 0);  // the least likely token (p = 0.0036) is still drawn
  EXPECT_LT(chi_square(counts, softmax(l)), 20.5);
  // Two tokens at 0.2 / 0.8.
  const std::vector<float> two{std::log(0.2f), -kInf, std::log(0.8f)};
  auto c2 = draw_counts(two, 1, 20000);
  EXPECT_EQ(c2[1], 0);
  EXPECT_NEAR(c2[0] / 20000.0, 0.2, 0.015);
}

TEST(Sampler, TopKAndTopPNeverDrawTheTokensTheyCut) {
  // 64 tokens; temperature 0.8, top-k 10, top-p 0.8. The nucleus is worked out here from the
  // raw logits: the 10 largest, scaled, renormalized, and the smallest prefix reaching 0.8.
  std::vector<float> raw(64);
  for (std::size_t i = 0; i < raw.size(); ++i)
    raw[i] = 2.0f * std::sin(static_cast<float>(i) * 1.7f);
  std::vector<std::size_t> order(raw.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return raw[a] > raw[b]; });
  std::vector<float> top10(raw.size(), -kInf);
  for (std::size_t r = 0; r < 10; ++r) top10[order[r]] = raw[order[r]] / 0.8f;
  auto p10 = softmax(top10);
  std::set<std::size_t> nucleus;
  double mass = 0;
  for (std::size_t r = 0; r < 10 && mass < 0.8; ++r) {
    mass += p10[order[r]];
    nucleus.insert(order[r]);
  }
  ASSERT_GE(nucleus.size(), 3u);  // else the test would say little
  ASSERT_LT(nucleus.size(), 10u);

  SamplingParams p;
  p.temperature = 0.8f;
  p.top_k = 10;
  p.top_p = 0.8f;
  auto l = raw;
  make_chain(p).apply(kEmpty, l);
  std::vector<double> want(raw.size(), 0.0);
  double kept = 0;
  for (auto i : nucleus) kept += p10[i];
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (nucleus.count(i)) {
      EXPECT_FLOAT_EQ(l[i], raw[i] / 0.8f) << i;
      want[i] = p10[i] / kept;
    } else {
      EXPECT_EQ(l[i], -kInf) << i;
    }
  }
  auto counts = draw_counts(l, 31, 100000);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (!nucleus.count(i)) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " is outside the nucleus";
    }
  }
  // Chi-square with |nucleus| - 1 <= 8 degrees of freedom: 0.1 % critical value 26.1.
  EXPECT_LT(chi_square(counts, want), 26.1);
}

TEST(Sampler, LowTemperatureTendsToGreedy) {
  // As the temperature goes to 0 the distribution collapses onto the argmax: at 0.001 a
  // logit gap of 0.05 becomes 50, a probability ratio of e^-50 (below the uniform's 2^-53).
  std::vector<float> raw{0.4f, 1.2f, -0.7f, 1.25f, 0.9f, 1.1f};
  SamplingParams p;
  p.temperature = 0.001f;
  auto l = raw;
  make_chain(p).apply(kEmpty, l);
  auto counts = draw_counts(l, 3, 2000);
  EXPECT_EQ(counts[3], 2000);
  EXPECT_EQ(argmax(raw), 3);
}

TEST(Sampler, LogProbIsNormalized) {
  std::vector<float> l{1.0f, 2.0f, 3.0f};
  double total = 0;
  for (int i = 0; i < 3; ++i) total += std::exp(log_prob(l, i));
  EXPECT_NEAR(total, 1.0, 1e-12);
  // 3 - log(e + e^2 + e^3)
  EXPECT_NEAR(log_prob(l, 2), -0.40760596444438, 1e-12);
  EXPECT_NEAR(log_prob(l, 0), -2.40760596444438, 1e-12);
}

}  // namespace
}  // namespace sg::engine
