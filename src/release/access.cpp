#include "release/access.hpp"

#include <algorithm>
#include <string>

#include "common/errors.hpp"
#include "model/checkpoint.hpp"
#include "model/identity.hpp"
#include "release/decision_chain.hpp"

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

namespace {

std::string in_quotes(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string joined_or_none(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

// "decision #7 (rejected: toxicity.expected_max ...)" for messages.
std::string describe(const db::DecisionRecord& d) {
  return "decision #" + std::to_string(d.id) + " (" + d.decision +
         (d.reason.empty() ? "" : ": " + d.reason) + ")";
}

// The stage's weight files hashed now, never from a cache: what is uploaded next must be what
// was decided on.
std::string weights_sha256(const Stage& stage, std::string_view denied) {
  try {
    return model::checkpoint_sha256(model::Checkpoint::open(stage.checkpoint).weight_files());
  } catch (const Error& e) {
    throw AccessDenied(std::string(denied) + ": its checkpoint cannot be read (" + e.what() + ")");
  }
}

// `hashed`: what this pass over several pairs hashed already (a checkpoint that cannot be
// read is not kept, so each pair says so).
void require_unmodified(const Stage& stage, std::string_view denied, HashedCheckpoints* hashed) {
  const std::string found = !hashed ? weights_sha256(stage, denied)
                            : hashed->count(stage.checkpoint) > 0
                                ? hashed->at(stage.checkpoint)
                                : ((*hashed)[stage.checkpoint] = weights_sha256(stage, denied));
  if (found != stage.sha256)
    throw AccessDenied(std::string(denied) + ": its checkpoint " + stage.checkpoint.string() +
                       " hashes to " + found + ", not the policy's " + stage.sha256 +
                       " (a modified checkpoint is never served)");
}

}  // namespace

Grant grant_access(const Policy& policy, db::Store& store, std::string_view stage_name,
                   std::string_view audience_name, HashedCheckpoints* hashed) {
  Grant grant;
  grant.stage = &policy.stage(stage_name);
  grant.audience = &policy.audience(audience_name);
  const Stage& stage = *grant.stage;
  const Audience& audience = *grant.audience;
  const std::string denied = "stage " + in_quotes(stage.name) + " is not available to audience " +
                             in_quotes(audience.name);
  if (std::find(stage.audiences.begin(), stage.audiences.end(), audience.name) ==
      stage.audiences.end())
    throw AccessDenied(denied + ": the policy lists it for " + joined_or_none(stage.audiences) +
                       " only");

  // Checked before a decision is read from it: a chain that does not verify may hold a
  // forged approval.
  const auto chain = verify_chain(store);
  if (!chain.ok())
    throw AccessDenied(denied + ": the decision chain in " + store.file().string() +
                       " does not verify (" + chain.problems.front().message + ")");

  grant.decision = decision_in_force(store, policy, stage);
  const auto& decision = grant.decision;
  if (decision && (decision->decision == "rejected" || decision->decision == "revoked"))
    throw AccessDenied(denied + ": it was " + decision->decision + ", " + describe(*decision) +
                       "; a " + decision->decision + " stage is served to no one");
  const bool approved = decision && decision->decision == "approved";
  if (!approved && !audience.unreleased)
    throw AccessDenied(denied + ": it is not approved under this policy (" +
                       (decision ? describe(*decision)
                                 : "no decision recorded for its checkpoint under policy " +
                                       policy.sha256 + "; run `stagegate decide`") +
                       ") and audience " + in_quotes(audience.name) +
                       " may use approved stages only");

  // Last, as it reads every weight.
  require_unmodified(stage, denied, hashed);
  grant.filters = policy.filters_for(stage.name, audience.name);
  return grant;
}

}  // namespace sg::release
