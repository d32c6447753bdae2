#include "release/requirement_check.hpp"

#include <cmath>
#include <cstdio>

#include "audit/plan.hpp"

namespace sg::release {

namespace {

std::string six_digits(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string what(const Requirement& r) {
  std::string s = r.metric;
  if (!r.strategy.empty()) s += " strategy " + r.strategy;
  if (!r.slice.empty()) s += " slice " + r.slice;
  return s;
}

// A run still under way (or stopped) is not evidence, but saying it exists tells the reviewer
// what to wait for.
std::string unfinished_note(const std::vector<db::RunInfo>& runs, const std::string& sha256,
                            const std::string& plan_hash) {
  for (const auto& run : runs)
    if (run.checkpoint_sha256 == sha256 && run.plan_hash == plan_hash)
      return " (run " + std::to_string(run.id) + " is " + std::string(db::to_string(run.status)) +
             ", " + std::to_string(run.samples_done) + "/" + std::to_string(run.samples_planned) +
             " samples)";
  return "";
}

}  // namespace

const std::string& PlanHashes::of(const std::filesystem::path& plan, const std::string& stage) {
  const auto key = std::make_pair(plan.string(), stage);
  const auto found = hashes_.find(key);
  if (found != hashes_.end()) return found->second;
  const auto loaded = audit::Plan::load(plan, detectors::builtin_registry(), {{"stage", stage}});
  return hashes_.emplace(key, loaded.hash()).first->second;
}

std::optional<double> compared_value(const db::Aggregate& aggregate, Comparison comparison,
                                     Estimate estimate, std::string& note) {
  if (estimate == Estimate::kPoint) return aggregate.value;
  // The end of the interval on the failing side: an upper bound must hold for ci_high, a
  // lower bound for ci_low.
  const bool upper = comparison == Comparison::kLess || comparison == Comparison::kLessEqual;
  const auto end = upper ? aggregate.ci_high : aggregate.ci_low;
  if (!end)
    note = std::string("no interval to compare conservatively (") + (upper ? "ci_high" : "ci_low") +
           " missing): fails closed";
  return end;
}

bool satisfies(double value, Comparison comparison, double threshold) {
  if (std::isnan(value)) return false;
  switch (comparison) {
    case Comparison::kLess:
      return value < threshold;
    case Comparison::kLessEqual:
      return value <= threshold;
    case Comparison::kGreater:
      return value > threshold;
    case Comparison::kGreaterEqual:
      return value >= threshold;
  }
  return false;
}

std::string describe(const RequirementEvidence& e) {
  std::string s = e.requirement + ": " + e.metric;
  if (!e.strategy.empty()) s += " [" + e.strategy + "]";
  if (!e.slice.empty()) s += " {" + e.slice + "}";
  if (e.value) {
    s += " = " + six_digits(*e.value);
    if (e.ci_low || e.ci_high)
      s += " [" + (e.ci_low ? six_digits(*e.ci_low) : "?") + ", " +
           (e.ci_high ? six_digits(*e.ci_high) : "?") + "]";
    if (e.compared) s += ", compared " + six_digits(*e.compared) + " (" + e.estimate + ")";
  }
  s += ", required " + e.comparison + " " + six_digits(e.threshold);
  if (e.run_id) s += " (run " + std::to_string(*e.run_id) + ")";
  if (!e.note.empty()) s += ": " + e.note;
  return s;
}

RequirementEvidence check_requirement(const Requirement& requirement, const Stage& stage,
                                      const std::vector<db::RunInfo>& runs, db::Store& store,
                                      PlanHashes& plans) {
  RequirementEvidence e;
  e.requirement = requirement.name;
  e.metric = requirement.metric;
  e.strategy = requirement.strategy;
  e.slice = requirement.slice;
  e.plan = requirement.plan.string();
  e.plan_hash = plans.of(requirement.plan, stage.name);
  e.comparison = std::string(to_string(requirement.comparison));
  e.threshold = requirement.threshold;
  e.estimate = std::string(to_string(requirement.estimate));

  const db::RunInfo* run = nullptr;
  for (const auto& r : runs)  // newest first
    if (r.checkpoint_sha256 == stage.sha256 && r.plan_hash == e.plan_hash &&
        r.status == db::RunStatus::kCompleted) {
      run = &r;
      break;
    }
  if (!run) {
    e.outcome = "missing";
    e.note = "no completed run of plan " + e.plan + " on this checkpoint" +
             unfinished_note(runs, stage.sha256, e.plan_hash);
    return e;
  }
  e.run_id = run->id;

  const auto aggregates = store.aggregates(run->id);
  const db::Aggregate* found = nullptr;
  for (const auto& a : aggregates)
    if (a.metric == e.metric && a.strategy == e.strategy && a.slice == e.slice) found = &a;
  if (!found) {
    // A completed run of the named plan that lacks the metric will never have it: waiting
    // cannot help, so the requirement fails rather than stays pending.
    e.outcome = "failed";
    e.note = "run " + std::to_string(run->id) + " has no aggregate " + what(requirement);
    return e;
  }
  e.value = found->value;
  e.ci_low = found->ci_low;
  e.ci_high = found->ci_high;
  e.n = found->n;
  std::string note;
  e.compared = compared_value(*found, requirement.comparison, requirement.estimate, note);
  if (!e.compared) {
    e.outcome = "failed";
    e.note = note;
    return e;
  }
  if (satisfies(*e.compared, requirement.comparison, requirement.threshold)) {
    e.outcome = "passed";
    return e;
  }
  e.outcome = "failed";
  const bool upper = requirement.comparison == Comparison::kLess ||
                     requirement.comparison == Comparison::kLessEqual;
  e.note = std::isnan(*e.compared) ? "not a number"
           : upper                 ? "above the threshold"
                                   : "below the threshold";
  return e;
}

}  // namespace sg::release
