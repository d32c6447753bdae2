// What a decision rests on, stored as the decision row's evidence_json (and so covered by its
// hash): the checkpoint hash found on disk, each requirement's aggregate with the run it came
// from, and why a stage is pending. `verify` re-reads each aggregate by run id, metric,
// strategy and slice and compares it with what is recorded here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::release {

struct RequirementEvidence {
  std::string requirement;  // its [requirement.NAME]
  std::string metric;
  std::string strategy;
  std::string slice;
  std::string plan;                    // the plan file as the policy names it
  std::string plan_hash;               // for this stage
  std::optional<std::int64_t> run_id;  // the latest completed run of that plan; none: missing
  // The aggregate as the run stored it; none when the run has no such aggregate.
  std::optional<double> value;
  std::optional<double> ci_low;
  std::optional<double> ci_high;
  std::int64_t n = 0;
  std::optional<double> compared;  // the number held against the threshold
  std::string comparison;          // "<", "<=", ">", ">="
  double threshold = 0;
  std::string estimate;  // "point", "conservative"
  std::string outcome;   // "passed", "failed", "missing"
  std::string note;      // why it failed or is missing, in words
  bool operator==(const RequirementEvidence&) const = default;
};

struct Evidence {
  std::string checkpoint_sha256_found;  // what the stage's files hash to now ("" if unreadable)
  std::vector<RequirementEvidence> requirements;
  std::vector<std::string> pending;           // why the stage waits (date, previous stage, no run)
  std::optional<std::int64_t> revocation_id;  // the revoked row a decision carries forward
  bool operator==(const Evidence&) const = default;
};

// Canonical JSON (sorted keys, doubles written to round-trip exactly).
std::string to_json(const Evidence& evidence);
// InputError naming the field when `json` is not evidence as to_json writes it.
Evidence evidence_from_json(std::string_view json);

}  // namespace sg::release
