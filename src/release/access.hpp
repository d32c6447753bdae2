// Who may generate from which stage, and with which filters: the gate `stagegate generate
// --policy` and `stagegate serve` pass before any weight is uploaded.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/store.hpp"
#include "release/policy.hpp"

namespace sg::release {

// The decision in force for `stage` under `policy`: the latest row recorded for the stage's
// checkpoint SHA-256 under the policy's SHA-256, except that a revocation of that checkpoint
// recorded later under any policy wins. nullopt when none was recorded.
std::optional<db::DecisionRecord> decision_in_force(db::Store& store, const Policy& policy,
                                                    const Stage& stage);

struct Grant {
  const Stage* stage = nullptr;
  const Audience* audience = nullptr;
  std::optional<db::DecisionRecord> decision;  // none only for an audience allowed unreleased
  std::vector<const FilterSpec*> filters;      // exactly the policy's for this pair
};

// Throws AccessDenied (exit code kDenied) saying why: the audience is not listed for the stage,
// the stage is not approved (its decision and reason), it was rejected or revoked (never
// served to anyone), its checkpoint no longer hashes to the policy's SHA-256, or the decision
// chain does not verify.
//
// `hashed`: the weights already hashed in this pass over several pairs (a server deciding
// every pair at start or on reload), by checkpoint folder, so that each is read once per
// pass rather than once per audience; null: hash now.
using HashedCheckpoints = std::map<std::filesystem::path, std::string>;
Grant grant_access(const Policy& policy, db::Store& store, std::string_view stage,
                   std::string_view audience, HashedCheckpoints* hashed = nullptr);

}  // namespace sg::release
