#include "release/access.hpp"

#include <stdexcept>

namespace sg::release {

std::optional<db::DecisionRecord> decision_in_force(db::Store& store, const Policy& policy,
                                                    const Stage& stage) {
  const auto checkpoint = store.checkpoint_by_sha256(stage.sha256);
  if (!checkpoint) return std::nullopt;
  std::optional<db::DecisionRecord> in_force;
  for (auto& row : store.decisions()) {  // in the order recorded
    if (row.checkpoint_id != checkpoint->id) continue;
    // A revocation stops a checkpoint under every policy: a policy edited afterwards must not
    // bring a withdrawn file back quietly.
    const bool revocation = row.decision == "revoked";
    if (revocation || (row.policy_hash == policy.sha256 && row.stage == stage.name))
      in_force = std::move(row);
  }
  return in_force;
}

Grant grant_access(const Policy&, db::Store&, std::string_view, std::string_view) {
  throw std::logic_error("grant_access: not implemented yet");
}

}  // namespace sg::release
