#include "cli/run_report.hpp"

#include <cstdio>
#include <string>

namespace sg::cli {

nlohmann::json aggregates_json(const std::vector<db::Aggregate>& aggregates) {
  auto out = nlohmann::json::array();
  for (const auto& a : aggregates) {
    nlohmann::json j{{"metric", a.metric},
                     {"strategy", a.strategy},
                     {"slice", a.slice},
                     {"value", a.value},
                     {"n", a.n}};
    j["ci_low"] = a.ci_low ? nlohmann::json(*a.ci_low) : nlohmann::json(nullptr);
    j["ci_high"] = a.ci_high ? nlohmann::json(*a.ci_high) : nlohmann::json(nullptr);
    out.push_back(std::move(j));
  }
  return out;
}

void print_aggregates(std::ostream& out, const std::vector<db::Aggregate>& aggregates) {
  if (aggregates.empty()) return;
  std::size_t w_metric = 6, w_strategy = 8;
  for (const auto& a : aggregates) {
    w_metric = std::max(w_metric, a.metric.size() + (a.slice.empty() ? 0 : a.slice.size() + 3));
    w_strategy = std::max(w_strategy, a.strategy.size());
  }
  auto pad = [](std::string s, std::size_t w) { return s + std::string(w - s.size() + 2, ' '); };
  out << pad("metric", w_metric) << pad("strategy", w_strategy) << "value  [95% interval]  n\n";
  for (const auto& a : aggregates) {
    std::string name = a.metric + (a.slice.empty() ? "" : " [" + a.slice + "]");
    char value[96];
    if (a.ci_low && a.ci_high)
      std::snprintf(value, sizeof value, "%.4g  [%.4g, %.4g]", a.value, *a.ci_low, *a.ci_high);
    else
      std::snprintf(value, sizeof value, "%.4g", a.value);
    out << pad(name, w_metric) << pad(a.strategy.empty() ? "-" : a.strategy, w_strategy) << value
        << "  " << a.n << "\n";
  }
}

}  // namespace sg::cli
