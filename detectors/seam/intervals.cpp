#include "seam/intervals.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace sg::detectors {

namespace {

// `stat` of all n items (an empty index list), with a percentile interval over bootstrap
// resamples when there are at least two.
template <typename Stat>
Interval bootstrap(std::size_t n, Stat stat) {
  Interval out;
  out.value = stat(std::vector<std::size_t>{});
  if (n < 2) return out;
  std::mt19937_64 rng(kBootstrapSeed);
  std::vector<double> stats(kBootstrapResamples);
  std::vector<std::size_t> idx(n);
  for (auto& s : stats) {
    for (auto& i : idx) i = static_cast<std::size_t>(uniform_index(rng, n));
    s = stat(idx);
  }
  std::sort(stats.begin(), stats.end());
  out.low = stats[static_cast<std::size_t>(0.025 * (kBootstrapResamples - 1))];
  out.high = stats[static_cast<std::size_t>(0.975 * (kBootstrapResamples - 1))];
  return out;
}

// f(sum of sums, sum of counts) over items resampled whole; 0 when the counts sum to 0.
template <typename F>
Interval bootstrap_sums(std::span<const double> sums, std::span<const double> counts, F f) {
  return bootstrap(sums.size(), [&](const std::vector<std::size_t>& idx) {
    double s = 0, c = 0;
    if (idx.empty()) {
      for (std::size_t i = 0; i < sums.size(); ++i) s += sums[i], c += counts[i];
    } else {
      for (auto i : idx) s += sums[i], c += counts[i];
    }
    return c > 0 ? f(s, c) : 0.0;
  });
}

}  // namespace

Interval bootstrap_mean(std::span<const double> values) {
  return bootstrap(values.size(), [&](const std::vector<std::size_t>& idx) {
    double sum = 0;
    if (idx.empty()) {
      for (double v : values) sum += v;
      return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
    }
    for (auto i : idx) sum += values[i];
    return sum / static_cast<double>(idx.size());
  });
}

Interval bootstrap_perplexity(std::span<const std::vector<double>> texts) {
  std::vector<double> sums, counts;
  for (const auto& t : texts) {
    double s = 0;
    for (double lp : t) s += lp;
    sums.push_back(s);
    counts.push_back(static_cast<double>(t.size()));
  }
  return bootstrap_sums(sums, counts, [](double s, double c) { return std::exp(-s / c); });
}

Interval bootstrap_ratio(std::span<const double> numerators, std::span<const double> denominators) {
  if (numerators.size() != denominators.size())
    throw std::invalid_argument("bootstrap_ratio: as many numerators as denominators");
  return bootstrap_sums(numerators, denominators, [](double s, double c) { return s / c; });
}

Interval wilson_interval(std::int64_t successes, std::int64_t n) {
  if (n <= 0) return {};
  constexpr double z = 1.959963984540054;  // the normal's 97.5th percentile
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double denom = 1 + z * z / nn;
  const double centre = (p + z * z / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
  // At 0 or n successes the bound is exactly 0 or 1; the formula gets it only up to rounding.
  return {p, successes == 0 ? 0.0 : std::max(0.0, centre - half),
          successes == n ? 1.0 : std::min(1.0, centre + half)};
}

}  // namespace sg::detectors
