// Intervals for aggregates. Every one is reproducible: the same values always give the
// same interval, on any machine, and tools/bootstrap_reference.py recomputes them
// independently (tests/detectors/test_intervals.cpp compares).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace sg::detectors {

struct Interval {
  double value = 0;
  // A 95 % interval; none (nullopt) when fewer than two values leave nothing to resample.
  std::optional<double> low;
  std::optional<double> high;
};

// Resamples drawn by a bootstrap, and its generator's seed.
inline constexpr int kBootstrapResamples = 2000;
inline constexpr std::uint64_t kBootstrapSeed = 0x5eed5eedULL;

// A uniform index in [0, n) from 64-bit words of `next`: Lemire's nearly divisionless
// method (the 128-bit product's high word, rejecting the few low words that would bias it).
// Written out rather than left to std::uniform_int_distribution, whose algorithm the
// standard leaves to each library, so that an independent implementation can match it.
__extension__ typedef unsigned __int128 Uint128;  // GCC and Clang; not ISO C++

template <typename Next>
std::uint64_t uniform_index(Next& next, std::uint64_t n) {
  Uint128 product = static_cast<Uint128>(next()) * n;
  auto low = static_cast<std::uint64_t>(product);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = static_cast<Uint128>(next()) * n;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

// Mean with a 95 % percentile-bootstrap interval (kBootstrapResamples resamples of the
// values with replacement, mt19937_64 seeded with kBootstrapSeed; the 2.5th and 97.5th
// percentiles are the sorted resample statistics at indices floor(0.025) and
// floor(0.975 )).
Interval bootstrap_mean(std::span<const double> values);

// Corpus perplexity exp(-sum(logprobs) / count) over texts, with the same bootstrap
// resampling whole texts (their tokens are not independent).
Interval bootstrap_perplexity(std::span<const std::vector<double>> text_logprobs);

// sum(numerators) / sum(denominators) over items (bits over bytes of whole texts), with the
// same bootstrap resampling whole items; 0 when the denominators sum to 0.
Interval bootstrap_ratio(std::span<const double> numerators, std::span<const double> denominators);

// A proportion successes / n with its 95 % Wilson score interval: well behaved at 0 and 1
// and for the few dozen trials a demo audit has, unlike the normal approximation, and unlike
// a bootstrap of 0/1 values, which collapses to a point at 0 % or 100 %. None for n = 0.
Interval wilson_interval(std::int64_t successes, std::int64_t n);

}  // namespace sg::detectors
