#include "seam/intervals.hpp"

#include <algorithm>
#include <cmath>
#include <random>

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
  return bootstrap(texts.size(), [&](const std::vector<std::size_t>& idx) {
    double s = 0, c = 0;
    if (idx.empty()) {
      for (std::size_t i = 0; i < sums.size(); ++i) s += sums[i], c += counts[i];
    } else {
      for (auto i : idx) s += sums[i], c += counts[i];
    }
    return c > 0 ? std::exp(-s / c) : 0.0;
  });
}

}  // namespace sg::detectors
