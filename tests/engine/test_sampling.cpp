// Logits processors, the sampler and its random numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "engine/sampling.hpp"

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
