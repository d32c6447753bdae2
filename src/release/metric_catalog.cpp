#include "release/metric_catalog.hpp"

#include <algorithm>

#include "audit/aggregates.hpp"
#include "seam/registry.hpp"

namespace sg::release {

namespace {

// `{x}` in a pattern stands for one or more digits.
bool matches(std::string_view pattern, std::string_view metric) {
  while (!pattern.empty()) {
    if (pattern.front() == '{') {
      const auto close = pattern.find('}');
      if (close == std::string_view::npos) return false;
      pattern.remove_prefix(close + 1);
      std::size_t digits = 0;
      while (digits < metric.size() && metric[digits] >= '0' && metric[digits] <= '9') ++digits;
      if (digits == 0) return false;
      metric.remove_prefix(digits);
      continue;
    }
    if (metric.empty() || metric.front() != pattern.front()) return false;
    pattern.remove_prefix(1);
    metric.remove_prefix(1);
  }
  return metric.empty();
}

std::vector<std::string> collect() {
  std::vector<std::string> out{audit::kSampleTokensMetric};
  for (const auto& spec : detectors::builtin_registry().specs())
    out.insert(out.end(), spec.metrics.begin(), spec.metrics.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

const std::vector<std::string>& known_metrics() {
  static const std::vector<std::string> metrics = collect();
  return metrics;
}

bool is_known_metric(std::string_view metric) {
  const auto& known = known_metrics();
  return std::any_of(known.begin(), known.end(),
                     [&](const std::string& pattern) { return matches(pattern, metric); });
}

}  // namespace sg::release
