#include "cli/run_report.hpp"

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace sg::cli {

namespace {

// A curve is a metric measured at many n (`memorization.novelty@1` ... `@100`): its points
// share the name before '@', the strategy and the slice, and carry no interval.
constexpr std::size_t kCurveMinPoints = 10;

struct CurveKey {
  std::string base, strategy, slice;
  auto operator<=>(const CurveKey&) const = default;
};

std::optional<std::pair<CurveKey, long>> curve_point(const db::Aggregate& a) {
  const auto at = a.metric.rfind('@');
  if (at == std::string::npos || at + 1 == a.metric.size() || a.ci_low || a.ci_high)
    return std::nullopt;
  long n = 0;
  for (char c : a.metric.substr(at + 1)) {
    if (c < '0' || c > '9' || n > 1000000) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return std::pair{CurveKey{a.metric.substr(0, at), a.strategy, a.slice}, n};
}

// One row per curve instead of one per point: "@1..100" and the values at the doublings and
// the last n (every point stays in the store and in --json).
struct Row {
  std::string name, strategy, value;
  std::int64_t n = 0;
};

std::vector<Row> rows_of(const std::vector<db::Aggregate>& aggregates) {
  std::map<CurveKey, std::map<long, const db::Aggregate*>> curves;
  for (const auto& a : aggregates)
    if (auto p = curve_point(a)) curves[p->first][p->second] = &a;
  std::vector<Row> rows;
  for (const auto& a : aggregates) {
    const auto p = curve_point(a);
    const auto curve = p ? curves.find(p->first) : curves.end();
    if (curve != curves.end() && curve->second.size() >= kCurveMinPoints) {
      const auto& points = curve->second;
      if (points.begin()->second != &a) continue;  // printed once, at its first point
      std::string value;
      long next = 1;
      for (const auto& [n, point] : points) {
        if (n < next && n != points.rbegin()->first) continue;
        char v[48];
        std::snprintf(v, sizeof v, "%s%ld: %.3g", value.empty() ? "" : ", ", n, point->value);
        value += v;
        while (next <= n) next *= 2;
      }
      rows.push_back({p->first.base + "@" + std::to_string(points.begin()->first) + ".." +
                          std::to_string(points.rbegin()->first) +
                          (a.slice.empty() ? "" : " [" + a.slice + "]"),
                      a.strategy, value, a.n});
      continue;
    }
    char value[96];
    if (a.ci_low && a.ci_high)
      std::snprintf(value, sizeof value, "%.4g  [%.4g, %.4g]", a.value, *a.ci_low, *a.ci_high);
    else
      std::snprintf(value, sizeof value, "%.4g", a.value);
    rows.push_back(
        {a.metric + (a.slice.empty() ? "" : " [" + a.slice + "]"), a.strategy, value, a.n});
  }
  return rows;
}

}  // namespace

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
  const auto rows = rows_of(aggregates);
  std::size_t w_metric = 6, w_strategy = 8;
  for (const auto& r : rows) {
    w_metric = std::max(w_metric, r.name.size());
    w_strategy = std::max(w_strategy, r.strategy.size());
  }
  auto pad = [](std::string s, std::size_t w) { return s + std::string(w - s.size() + 2, ' '); };
  out << pad("metric", w_metric) << pad("strategy", w_strategy) << "value  [95% interval]  n\n";
  for (const auto& r : rows)
    out << pad(r.name, w_metric) << pad(r.strategy.empty() ? "-" : r.strategy, w_strategy)
        << r.value << "  " << r.n << "\n";
}

}  // namespace sg::cli
