// The VkFFT path of LoopFinder against the exact CPU definition (terminal_loop), and the
// device autocorrelation against a direct O(N·P) sum.
#include <gtest/gtest.h>

#include <algorithm>
#include <complex>
#include <random>
#include <vector>

#include "common/errors.hpp"
#include "engine/gpu_fixture.hpp"
#include "repetition/loop_finder.hpp"
#include "repetition/token_phase.hpp"
#include "vk/autocorrelation.hpp"

namespace sg::detectors::repetition {
namespace {

using Tokens = std::vector<std::int32_t>;

class LoopFinderTest : public sg::testing::GpuTest {};

TEST(ThirteenSmooth, LengthsVkFftCanTransform) {
  EXPECT_TRUE(gpu::is_13_smooth(1536));
  EXPECT_TRUE(gpu::is_13_smooth(2 * 3 * 5 * 7 * 11 * 13));
  EXPECT_FALSE(gpu::is_13_smooth(1009));
  EXPECT_FALSE(gpu::is_13_smooth(2001));  // 3 · 23 · 29
  EXPECT_FALSE(gpu::is_13_smooth(0));
  EXPECT_EQ(gpu::next_13_smooth(1009), 1014u);  // 2 · 3 · 13²
  EXPECT_EQ(gpu::next_13_smooth(17), 18u);
}

TEST_F(LoopFinderTest, RefusesLengthsVkFftWouldZero) {
  gpu::Autocorrelation fft(gpu());
  std::vector<std::complex<float>> data(1009, {1, 0});
  EXPECT_THROW(fft.run(data, 1009, 1), Error);
}

// r[p] = Σ_i conj(x[i]) x[i + p] with zero padding, in double, the slow way.
std::vector<std::complex<double>> direct_correlation(std::span<const std::complex<float>> x,
                                                     std::size_t lags) {
  std::vector<std::complex<double>> r(lags);
  for (std::size_t p = 0; p < lags; ++p)
    for (std::size_t i = 0; i + p < x.size(); ++i)
      r[p] += std::conj(std::complex<double>(x[i])) * std::complex<double>(x[i + p]);
  return r;
}

TEST_F(LoopFinderTest, DeviceAutocorrelationEqualsDirectSum) {
  gpu::Autocorrelation fft(gpu());
  std::mt19937 rng(7);
  constexpr std::size_t kSignal = 700, kLength = 1456, kBatch = 3;  // 1456 = 2⁴ · 7 · 13
  ASSERT_TRUE(gpu::is_13_smooth(kLength));
  std::vector<Tokens> texts(kBatch);
  std::vector<std::complex<float>> data(kLength * kBatch);
  for (std::size_t b = 0; b < kBatch; ++b) {
    std::uniform_int_distribution<std::int32_t> token(0, b == 0 ? 3 : 50000);
    for (std::size_t i = 0; i < kSignal; ++i) {
      texts[b].push_back(token(rng));
      data[b * kLength + i] = token_phase(texts[b].back());
    }
  }
  const auto input = data;
  fft.run(data, kLength, kBatch);
  for (std::size_t b = 0; b < kBatch; ++b) {
    const auto expected =
        direct_correlation(std::span(input).subspan(b * kLength, kSignal), kSignal);
    for (std::size_t p = 0; p < kSignal; ++p) {
      ASSERT_NEAR(data[b * kLength + p].real(), expected[p].real(), 2e-3) << b << " lag " << p;
      ASSERT_NEAR(data[b * kLength + p].imag(), expected[p].imag(), 2e-3) << b << " lag " << p;
    }
    // Lags beyond the signal read only zero padding: nothing wraps around.
    for (std::size_t p = kSignal; p <= kLength - kSignal; ++p)
      ASSERT_NEAR(std::abs(data[b * kLength + p]), 0.0, 2e-3) << b << " lag " << p;
    // The real part counts matching pairs, plus cos(Δθ) of the others: exact where every
    // pair matches (lag 0), else within a few standard deviations of hash noise.
    for (std::size_t p = 0; p < kSignal; ++p) {
      double matches = 0;
      for (std::size_t i = 0; i + p < kSignal; ++i) matches += texts[b][i] == texts[b][i + p];
      const double pairs = static_cast<double>(kSignal - p);
      const double noise = b == 0 ? pairs : 6 * std::sqrt(pairs / 2) + 1e-3;
      ASSERT_NEAR(data[b * kLength + p].real(), matches, noise) << b << " lag " << p;
    }
    EXPECT_NEAR(data[b * kLength].real(), static_cast<double>(kSignal), 2e-3);
  }
}

// Synthetic sequences meant to sit on every edge of the definition.
class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  Tokens next() {
    switch (pick(0, 7)) {
      case 0:
        return noise(pick(0, 40), pick(2, 60000));  // short, and tiny alphabets
      case 1:
        return noise(pick(100, 3000), pick(2, 5));  // accidental periods everywhere
      case 2:
        return looped(pick(1, 12), pick(0, 300), 0);
      case 3:
        return looped(pick(1, 256), pick(0, 200), 0);  // long periods
      case 4:
        return looped(pick(1, 64), pick(0, 200), pick(1, 3));  // noisy loops
      case 5:
        return at_the_edge();
      case 6:
        return two_loops();
      default:
        return noise(pick(16, 2000), 50257);
    }
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  Tokens noise(int n, int vocab) {
    Tokens t;
    for (int i = 0; i < n; ++i) t.push_back(pick(0, vocab - 1));
    return t;
  }

  // A random prefix, then a unit of `period` tokens repeated 2-5 times plus a partial unit,
  // with `flips` tokens replaced anywhere in the loop.
  Tokens looped(int period, int prefix, int flips) {
    Tokens t = noise(prefix, 50257);
    const Tokens unit = noise(period, pick(0, 1) ? 50257 : 4);
    const int length = period * pick(2, 5) + pick(0, period - 1);
    for (int i = 0; i < length; ++i) t.push_back(unit[static_cast<std::size_t>(i % period)]);
    for (int f = 0; f < flips && length > 0; ++f)
      t[static_cast<std::size_t>(prefix + pick(0, length - 1))] = pick(0, 50256);
    return t;
  }

  // Runs of exactly max(3p, 16) tokens and one fewer, so the answer turns on one token.
  Tokens at_the_edge() {
    const int period = pick(1, 256);
    const int length = std::max(3 * period, 16) - pick(0, 1);
    Tokens t = noise(pick(0, 50), 50257);
    t.push_back(-1);  // breaks the period just before the run
    const Tokens unit = noise(period, 50257);
    for (int i = 0; i < length; ++i) t.push_back(unit[static_cast<std::size_t>(i % period)]);
    return t;
  }

  // One loop giving way to another, so the long prefix correlates at the wrong lags.
  Tokens two_loops() {
    Tokens t = looped(pick(1, 20), pick(0, 20), 0);
    const Tokens second = looped(pick(1, 40), 0, 0);
    t.insert(t.end(), second.begin(), second.end());
    return t;
  }

  std::mt19937 rng_;
};

TEST_F(LoopFinderTest, FftPathEqualsTerminalLoopOnThousandsOfSequences) {
  LoopFinder finder(&gpu());
  Generator generate(2026);
  int loops = 0, long_periods = 0, compared = 0;
  std::size_t walked = 0, scanned = 0;
  for (int batch = 0; batch < 12; ++batch) {
    std::vector<Tokens> texts;
    for (int i = 0; i < 256; ++i) texts.push_back(generate.next());
    const std::vector<std::span<const std::int32_t>> views(texts.begin(), texts.end());
    const auto found = finder.find(views, LoopPath::kFft);
    ASSERT_EQ(found.size(), texts.size());
    walked += finder.candidates_walked();
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const auto expected = terminal_loop(texts[i]);
      const auto n = static_cast<int>(texts[i].size());
      scanned += static_cast<std::size_t>(expected ? expected->period : std::min(256, n / 3));
      ASSERT_EQ(found[i].has_value(), expected.has_value()) << "batch " << batch << " #" << i;
      if (expected) {
        ASSERT_EQ(found[i]->period, expected->period) << "batch " << batch << " #" << i;
        ASSERT_EQ(found[i]->length, expected->length) << "batch " << batch << " #" << i;
        ++loops;
        long_periods += expected->period > 64;
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 12 * 256);
  // The generator must exercise both outcomes, long periods included.
  EXPECT_GT(loops, 500);
  EXPECT_LT(loops, compared - 500);
  EXPECT_GT(long_periods, 50);
  // The filter leaves a small share of the periods the CPU scan tries.
  EXPECT_LT(walked * 5, scanned);
}

TEST_F(LoopFinderTest, PlansAreCompiledOncePerShape) {
  LoopFinder finder(&gpu());
  const Tokens text(500, 3);
  const std::vector<std::span<const std::int32_t>> views(4, text);
  finder.find(views, LoopPath::kFft);
  const auto plans = finder.plans_cached();
  EXPECT_EQ(plans, 1u);
  const auto again = finder.find(views, LoopPath::kFft);
  EXPECT_EQ(finder.plans_cached(), plans);
  ASSERT_TRUE(again[3]);
  EXPECT_EQ(again[3]->period, 1);
  EXPECT_EQ(again[3]->length, 500);
}

// A long text of random ids with the kinds of repetition the search is for: a sentence
// repeated ten times (a self-reinforcement context) and samples duplicated further on.
Tokens long_text(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> token(0, 50256);
  Tokens t(n);
  for (auto& x : t) x = token(rng);
  for (std::size_t at = 0; at + 400 <= n; at += 2048)
    for (std::size_t i = 37; i < 400; ++i) t[at + i] = t[at + i % 37];
  for (std::size_t at = 0; at + 300 + 3000 <= n; at += 1024)
    std::copy_n(t.begin() + static_cast<std::ptrdiff_t>(at), 300,
                t.begin() + static_cast<std::ptrdiff_t>(at + 3000));
  return t;
}

TEST_F(LoopFinderTest, RepeatedLagsOnTheDeviceEqualTheDirectCount) {
  LoopFinder finder(&gpu());
  const auto text = long_text(12000, 5);
  // Well above the noise margin (8σ + 1 ≈ 621) so that the filter has work to do.
  const std::int64_t min_matches = 1500;
  const auto cpu = finder.repeated_lags(text, 6000, min_matches, LoopPath::kCpu);
  const auto fft = finder.repeated_lags(text, 6000, min_matches, LoopPath::kFft);
  ASSERT_EQ(finder.plans_cached(), 1u);
  EXPECT_LT(finder.candidates_walked(), 200u);  // of 6000 lags
  ASSERT_GE(cpu.size(), 3u);                    // multiples of 37 and 3000
  ASSERT_EQ(fft.size(), cpu.size());
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_EQ(fft[i].lag, cpu[i].lag);
    EXPECT_EQ(fft[i].matches, cpu[i].matches);
  }
  EXPECT_EQ(cpu.front().lag, 37);
  EXPECT_TRUE(std::any_of(cpu.begin(), cpu.end(), [](auto l) { return l.lag == 3000; }));
}

TEST_F(LoopFinderTest, DefaultPathsFollowTheBenchmark) {
  LoopFinder finder(&gpu());
  EXPECT_EQ(finder.choose(256, 32768), LoopPath::kCpu);
  EXPECT_EQ(finder.choose(1, 128), LoopPath::kCpu);
  EXPECT_EQ(finder.choose_lags(4096, 2048, 4096 / 32), LoopPath::kCpu);
  EXPECT_EQ(finder.choose_lags(262144, 131072, 262144 / 32), LoopPath::kFft);
  // A plan's compile cost counts against the FFT at mid sizes until the plan exists.
  EXPECT_EQ(finder.choose_lags(16384, 8192, 4096), LoopPath::kCpu);
  finder.repeated_lags(long_text(16384, 1), 10, 4096, LoopPath::kFft);
  EXPECT_EQ(finder.choose_lags(16384, 8192, 4096), LoopPath::kFft);
  // Too few matches asked for: hash noise would make every lag a candidate.
  EXPECT_EQ(finder.choose_lags(262144, 131072, 100), LoopPath::kCpu);
}

TEST(LoopFinderCpu, WithoutADeviceEveryPathIsTheCpuScan) {
  LoopFinder finder(nullptr, {.max_period = 8, .min_length = 4});
  const Tokens looping{9, 1, 2, 1, 2, 1, 2};
  const Tokens plain{1, 2, 3, 4, 5, 6, 7};
  const std::vector<std::span<const std::int32_t>> views{looping, plain};
  for (auto path : {LoopPath::kAuto, LoopPath::kCpu, LoopPath::kFft}) {
    const auto found = finder.find(views, path);
    ASSERT_EQ(found.size(), 2u);
    ASSERT_TRUE(found[0]);
    EXPECT_EQ(found[0]->period, 2);
    EXPECT_EQ(found[0]->length, 6);
    EXPECT_FALSE(found[1]);
  }
  EXPECT_EQ(finder.plans_cached(), 0u);
  const Tokens text{1, 2, 3, 1, 2, 3, 1, 2};
  const auto lags = finder.repeated_lags(text, 7, 2, LoopPath::kFft);
  ASSERT_EQ(lags.size(), 2u);
  EXPECT_EQ(lags[0].lag, 3);
  EXPECT_EQ(lags[0].matches, 5);
  EXPECT_EQ(lags[1].lag, 6);
  EXPECT_EQ(lags[1].matches, 2);
}

TEST(LoopFinderCpu, RefusesLimitsOutOfRange) {
  EXPECT_THROW(LoopFinder(nullptr, {.max_period = 0, .min_length = 16}), UsageError);
  EXPECT_THROW(LoopFinder(nullptr, {.max_period = 256, .min_length = 0}), UsageError);
  EXPECT_THROW(LoopFinder(nullptr, {.max_period = 1 << 30, .min_length = 16}), UsageError);
}

}  // namespace
}  // namespace sg::detectors::repetition
