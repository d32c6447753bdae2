// One requirement of a stage held against the audit runs in the store: which run counts (the
// latest completed run of the requirement's plan, by plan hash, on the stage's checkpoint),
// which number of its aggregate is compared, and whether it passes.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "db/store.hpp"
#include "release/evidence.hpp"
#include "release/policy.hpp"

namespace sg::release {

// Plan hashes by (plan file, stage): a plan names `{stage}` in its paths, so its hash
// depends on the stage; loading a plan reads its prompt files, so each is loaded once.
class PlanHashes {
 public:
  // InputError (from the plan's reader) when the plan cannot be read.
  const std::string& of(const std::filesystem::path& plan, const std::string& stage);

 private:
  std::map<std::pair<std::string, std::string>, std::string> hashes_;
};

// The number compared with the threshold, or none when the estimate asks for an interval
// the aggregate lacks (fail closed). `note` says why when none.
std::optional<double> compared_value(const db::Aggregate& aggregate, Comparison comparison,
                                     Estimate estimate, std::string& note);

// Whether `value` `comparison` `threshold` holds.
bool satisfies(double value, Comparison comparison, double threshold);

// Checks `requirement` for `stage` against `runs` (Store::runs(): newest first). Outcome
// "missing" (no completed run of the plan: the stage is pending), "failed" or "passed".
RequirementEvidence check_requirement(const Requirement& requirement, const Stage& stage,
                                      const std::vector<db::RunInfo>& runs, db::Store& store,
                                      PlanHashes& plans);

// A failed or missing requirement in words, for a decision's reason: metric, strategy and
// slice, value and interval, the number compared, the threshold and the run.
std::string describe(const RequirementEvidence& evidence);

}  // namespace sg::release
