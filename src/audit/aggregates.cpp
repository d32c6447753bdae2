#include "audit/aggregates.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>

namespace sg::audit {

namespace {

constexpr int kResamples = 2000;
constexpr std::uint64_t kSeed = 0x5eed5eedULL;

// Percentile interval of `stat` over bootstrap resamples of n items.
template <typename Stat>
Interval bootstrap(std::size_t n, Stat stat) {
  Interval out;
  out.value = out.low = out.high = stat(std::vector<std::size_t>{});
  if (n < 2) return out;
  std::mt19937_64 rng(kSeed);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::vector<double> stats(kResamples);
  std::vector<std::size_t> idx(n);
  for (auto& s : stats) {
    for (auto& i : idx) i = pick(rng);
    s = stat(idx);
  }
  std::sort(stats.begin(), stats.end());
  out.low = stats[static_cast<std::size_t>(0.025 * (kResamples - 1))];
  out.high = stats[static_cast<std::size_t>(0.975 * (kResamples - 1))];
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

std::vector<db::Aggregate> run_aggregates(const std::vector<db::SampleRecord>& samples,
                                          const char* heldout_strategy) {
  std::vector<std::vector<double>> heldout;
  std::map<std::string, std::vector<double>> self_ppl, lengths;
  for (const auto& s : samples) {
    if (s.key.strategy == heldout_strategy) {
      heldout.push_back(s.logprobs);
      continue;
    }
    lengths[s.key.strategy].push_back(static_cast<double>(s.token_ids.size()));
    for (const auto& m : s.metrics)
      if (m.metric == "perplexity.sample" && std::isfinite(m.value))
        self_ppl[s.key.strategy].push_back(m.value);
  }
  std::vector<db::Aggregate> out;
  auto add = [&](std::string metric, std::string strategy, const Interval& iv, std::size_t n) {
    out.push_back({std::move(metric), std::move(strategy), "", iv.value, iv.low, iv.high,
                   static_cast<std::int64_t>(n)});
  };
  if (!heldout.empty())
    add("perplexity.heldout", "", bootstrap_perplexity(heldout), heldout.size());
  for (const auto& [strategy, v] : self_ppl)
    add("perplexity.sample", strategy, bootstrap_mean(v), v.size());
  for (const auto& [strategy, v] : lengths)
    add("sample.tokens", strategy, bootstrap_mean(v), v.size());
  return out;
}

}  // namespace sg::audit
