// `stagegate decide` and `stagegate revoke`: audit results turned into recorded decisions.
//
// For each stage in release order: the checkpoint's files are hashed again (an approval never
// carries over to a modified file: a mismatch with the policy's SHA-256 is `rejected`); a
// revocation in force is carried forward as `revoked`; each requirement is checked against
// the latest completed run of its plan (by plan hash, so a run of a weaker plan never counts)
// on that checkpoint. Any failed requirement: `rejected`, naming each (metric, value,
// interval, threshold). Otherwise, a missing run, a `not_before` date not reached or an
// `after` stage not approved: `pending`. Otherwise `approved`. One row per stage is appended
// to the decision chain.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "db/store.hpp"
#include "release/evidence.hpp"
#include "release/policy.hpp"

namespace sg::release {

struct DecideOptions {
  std::string reviewer;  // recorded with each decision (required by the CLI)
  std::string today;     // "YYYY-MM-DD" for not_before; empty: today's UTC date
};

struct StageDecision {
  db::DecisionRecord row;  // as appended (id, hash set)
  Evidence evidence;
};

struct DecideResult {
  std::vector<StageDecision> stages;  // in release order
  std::string head;                   // the chain's head after these rows
  bool any_rejected() const;
};

DecideResult decide(const Policy& policy, db::Store& store, const DecideOptions& options);

// Appends a `revoked` row for the stage's checkpoint; InputError when the stage is unknown.
db::DecisionRecord revoke(const Policy& policy, db::Store& store, const std::string& stage,
                          const std::string& reason, const std::string& reviewer);

}  // namespace sg::release
