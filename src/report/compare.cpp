#include "report/compare.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "common/errors.hpp"

namespace sg::report {

namespace {

using Key = std::tuple<std::string, std::string, std::string>;  // metric, strategy, slice

std::string plan_name(const std::string& plan_path) {
  return std::filesystem::path(plan_path).filename().string();
}

bool matches(const CompareTarget& target, const db::RunInfo& run) {
  return target.sha256.empty() ? run.stage == target.stage : run.checkpoint_sha256 == target.sha256;
}

std::string what_store_has(const std::vector<db::RunInfo>& runs) {
  std::set<std::string> stages;
  for (const auto& r : runs)
    if (r.status == db::RunStatus::kCompleted) stages.insert(r.stage.empty() ? "(none)" : r.stage);
  if (stages.empty()) return "the database has no completed run";
  std::string out = "stages with completed runs:";
  for (const auto& s : stages) out += " " + s;
  return out;
}

// The target's runs: the latest completed run of each plan (of the plans asked for), of the
// checkpoint its latest completed run measured (a stage name may have been retrained).
ComparedColumn column_of(const CompareTarget& target, const std::vector<db::RunInfo>& runs,
                         const CompareOptions& options) {
  ComparedColumn col;
  col.label = target.label;
  std::set<std::string> plans_seen;
  for (const auto& r : runs) {  // newest first
    if (r.status != db::RunStatus::kCompleted || !matches(target, r)) continue;
    const auto name = plan_name(r.plan_path);
    if (!options.plans.empty() &&
        std::find(options.plans.begin(), options.plans.end(), name) == options.plans.end())
      continue;
    if (col.checkpoint_sha256.empty()) {
      col.checkpoint_sha256 = r.checkpoint_sha256;
      col.stage = r.stage;
    }
    if (r.checkpoint_sha256 != col.checkpoint_sha256) continue;
    if (plans_seen.insert(r.plan_hash).second) col.runs.push_back({r.id, r.plan_path});
  }
  if (col.runs.empty()) {
    std::string what = target.sha256.empty()
                           ? "stage '" + target.stage + "'"
                           : target.label + " (weights " + target.sha256.substr(0, 12) + "...)";
    std::string plans;
    for (const auto& p : options.plans) plans += (plans.empty() ? "" : ", ") + p;
    throw InputError(what + ": no completed audit run" + (plans.empty() ? "" : " of " + plans) +
                     " in the database; " + what_store_has(runs));
  }
  return col;
}

ComparedValue value_of(const db::Aggregate& a, std::int64_t run_id) {
  return {a.value, a.ci_low, a.ci_high, a.n, run_id};
}

std::optional<Difference> difference(const std::optional<ComparedValue>& base,
                                     const std::optional<ComparedValue>& v) {
  if (!base || !v) return std::nullopt;
  Difference d;
  d.difference = v->value - base->value;
  d.intervals = base->ci_low && base->ci_high && v->ci_low && v->ci_high;
  if (d.intervals) d.separated = *v->ci_low > *base->ci_high || *v->ci_high < *base->ci_low;
  return d;
}

int group_rank(const std::string& group) {
  return group == "capability" ? 0 : group == "risk" ? 1 : 2;
}

}  // namespace

std::size_t ComparedRow::present() const {
  return static_cast<std::size_t>(
      std::count_if(values.begin(), values.end(), [](const auto& v) { return v.has_value(); }));
}

const ComparedValue* main_plan_value(std::span<const ComparedRow* const> rows, std::size_t column) {
  const ComparedRow* best = nullptr;
  for (const auto* row : rows)
    if (row->values[column] && (!best || row->present() > best->present())) best = row;
  return best ? &*best->values[column] : nullptr;
}

std::string metric_group(const std::string& metric) {
  if (metric.starts_with("capability.") || metric.starts_with("perplexity.")) return "capability";
  if (metric.starts_with("sample.")) return "samples";
  return "risk";
}

Comparison compare(db::Store& store, const std::vector<CompareTarget>& targets,
                   const CompareOptions& options) {
  if (targets.empty()) throw InputError("nothing to compare: no stage or model named");
  const auto runs = store.runs();
  Comparison out;
  for (const auto& t : targets) out.columns.push_back(column_of(t, runs, options));

  // Per column: key -> plan name -> value (a stage's newest run of each plan).
  const std::size_t n = out.columns.size();
  std::vector<std::map<Key, std::map<std::string, ComparedValue>>> by_column(n);
  std::set<Key> keys, split;
  for (std::size_t c = 0; c < n; ++c)
    for (const auto& run : out.columns[c].runs)
      for (const auto& a : store.aggregates(run.run_id)) {
        if (!options.metrics.empty() &&
            std::none_of(options.metrics.begin(), options.metrics.end(),
                         [&](const std::string& p) { return a.metric.starts_with(p); }))
          continue;
        const Key key{a.metric, a.strategy, a.slice};
        keys.insert(key);
        auto& plans = by_column[c][key];
        plans.emplace(plan_name(run.plan_path), value_of(a, run.run_id));
        if (plans.size() > 1) split.insert(key);
      }

  for (const auto& key : keys) {
    // A key some column has from two plans: one row per plan, so no figure hides another.
    std::set<std::string> row_plans = {""};
    if (split.count(key)) {
      row_plans.clear();
      for (const auto& col : by_column)
        if (auto it = col.find(key); it != col.end())
          for (const auto& [plan, v] : it->second) row_plans.insert(plan);
    }
    for (const auto& plan : row_plans) {
      ComparedRow row;
      std::tie(row.metric, row.strategy, row.slice) = key;
      row.group = metric_group(row.metric);
      row.plan = plan;
      for (const auto& col : by_column) {
        std::optional<ComparedValue> v;
        if (auto it = col.find(key); it != col.end()) {
          if (plan.empty())
            v = it->second.begin()->second;
          else if (auto p = it->second.find(plan); p != it->second.end())
            v = p->second;
        }
        row.values.push_back(v);
      }
      for (std::size_t c = 0; c < n; ++c)
        row.differences.push_back(c == 0 ? std::nullopt : difference(row.values[0], row.values[c]));
      out.rows.push_back(std::move(row));
    }
  }
  std::stable_sort(out.rows.begin(), out.rows.end(),
                   [](const ComparedRow& a, const ComparedRow& b) {
                     return group_rank(a.group) < group_rank(b.group);
                   });
  return out;
}

}  // namespace sg::report
