#include "release/decide.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include "common/errors.hpp"
#include "model/checkpoint.hpp"
#include "model/checkpoint_facts.hpp"
#include "model/identity.hpp"
#include "release/dates.hpp"
#include "release/decision_chain.hpp"
#include "release/requirement_check.hpp"

namespace sg::release {

namespace {

// The stage's files hashed now (never a cached identity: a decision must name the bytes it
// judged), with their facts for a checkpoint row; the error in words when unreadable.
struct Found {
  std::optional<model::CheckpointFacts> facts;
  std::string error;
};

Found hash_checkpoint(const Stage& stage) {
  Found found;
  try {
    const auto checkpoint = model::Checkpoint::open(stage.checkpoint);
    found.facts = model::checkpoint_facts(checkpoint);
  } catch (const Error& e) {  // unreadable or not a checkpoint: rejected, never skipped
    found.error = e.what();
  } catch (const std::filesystem::filesystem_error& e) {
    found.error = e.what();
  }
  return found;
}

// The store's id for the checkpoint the policy names (decisions are about the policy's
// SHA-256, whatever the files hash to now); recorded when the store has never seen it.
std::int64_t checkpoint_id(db::Store& store, const Policy& policy, const Stage& stage,
                           const Found& found) {
  if (const auto known = store.checkpoint_by_sha256(stage.sha256)) return known->id;
  db::CheckpointRecord c;
  c.sha256 = stage.sha256;
  c.path = stage.checkpoint.string();
  c.family = policy.family;
  c.stage = stage.name;
  c.architecture = "unknown";
  if (found.facts && found.facts->sha256 == stage.sha256) {
    c.architecture = found.facts->architecture;
    c.parameters = found.facts->parameters;
    c.config_json = found.facts->config_json;
  }
  return store.upsert_checkpoint(c);
}

// The revocation of the checkpoint, under any policy: a withdrawn file stays withdrawn
// whatever a later audit says. The first one is the act; later `revoked` rows are decisions
// carrying it forward (or repeating it), so quoting the first keeps reasons from nesting.
const db::DecisionRecord* revocation(const std::vector<db::DecisionRecord>& rows,
                                     std::int64_t checkpoint) {
  for (const auto& row : rows)
    if (row.checkpoint_id == checkpoint && row.decision == "revoked") return &row;
  return nullptr;
}

std::string joined_by_semicolons(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

db::DecisionRecord new_row(const Policy& policy, const Stage& stage, std::int64_t checkpoint,
                           const std::string& reviewer) {
  db::DecisionRecord row;
  row.stage = stage.name;
  row.checkpoint_id = checkpoint;
  row.policy_path = std::filesystem::absolute(policy.file).lexically_normal().string();
  row.policy_hash = policy.sha256;
  row.decided_by = reviewer;
  return row;
}

// What a round of decisions reads once: the runs and the decisions already recorded, and
// the decisions of the stages judged so far (release order puts a stage's `after` first).
struct Round {
  Round(const Policy& p, db::Store& s, std::string date)
      : policy(p), store(s), today(std::move(date)), runs(s.runs()), rows(s.decisions()) {}

  const Policy& policy;
  db::Store& store;
  std::string today;
  std::vector<db::RunInfo> runs;
  std::vector<db::DecisionRecord> rows;
  std::map<std::string, std::string> decided;
  PlanHashes plans;

  StageDecision judge(const Stage& stage, const Found& found);
};

// One stage's decision before it is recorded (its row's checkpoint id is set when it is).
StageDecision Round::judge(const Stage& stage, const Found& found) {
  StageDecision d;
  auto& row = d.row;
  auto& evidence = d.evidence;
  if (found.facts) evidence.checkpoint_sha256_found = found.facts->sha256;

  if (!found.facts) {
    row.decision = "rejected";
    row.reason = "checkpoint " + stage.checkpoint.string() + " cannot be hashed: " + found.error;
    return d;
  }
  if (found.facts->sha256 != stage.sha256) {
    row.decision = "rejected";
    row.reason = "checkpoint " + stage.checkpoint.string() + " hashes to " + found.facts->sha256 +
                 ", not the policy's " + stage.sha256 +
                 ": an approval never carries over to a modified file";
    return d;
  }
  const auto known = store.checkpoint_by_sha256(stage.sha256);
  if (const auto* revoked = known ? revocation(rows, known->id) : nullptr) {
    row.decision = "revoked";
    evidence.revocation_id = revoked->id;
    row.reason = "revoked by " + revoked->decided_by + " at " + revoked->decided_at +
                 " (decision " + std::to_string(revoked->id) + "): " + revoked->reason;
    return d;
  }

  std::vector<std::string> failed;
  std::vector<std::string>& pending = evidence.pending;
  for (const Requirement* requirement : policy.requirements_for(stage.name)) {
    auto checked = check_requirement(*requirement, stage, runs, store, plans);
    if (checked.outcome == "failed") failed.push_back(describe(checked));
    if (checked.outcome == "missing") pending.push_back(describe(checked));
    evidence.requirements.push_back(std::move(checked));
  }
  if (stage.not_before && today < *stage.not_before)
    pending.push_back("not before " + *stage.not_before + " (today is " + today + ")");
  for (const auto& previous : stage.after) {
    const auto it = decided.find(previous);
    const std::string state = it == decided.end() ? "not decided" : it->second;
    if (state != "approved") pending.push_back("after " + previous + ", which is " + state);
  }

  if (!failed.empty()) {
    row.decision = "rejected";
    row.reason = joined_by_semicolons(failed);
  } else if (!pending.empty()) {
    row.decision = "pending";
    row.reason = joined_by_semicolons(pending);
  } else {
    row.decision = "approved";
    const auto n = evidence.requirements.size();
    row.reason = n == 0   ? "no requirement applies"
                 : n == 1 ? "1 requirement passed"
                          : "all " + std::to_string(n) + " requirements passed";
  }
  return d;
}

std::string chain_head(db::Store& store) {
  const auto rows = store.decisions();
  return rows.empty() ? std::string(kGenesisHash) : rows.back().hash.value_or("");
}

}  // namespace

bool DecideResult::any_rejected() const {
  return std::any_of(stages.begin(), stages.end(),
                     [](const StageDecision& s) { return s.row.decision == "rejected"; });
}

DecideResult decide(const Policy& policy, db::Store& store, const DecideOptions& options) {
  if (options.reviewer.empty()) throw InputError("decide: a reviewer must be named");
  const std::string today = options.today.empty() ? utc_today() : options.today;
  if (!is_iso_date(today)) throw InputError("--today: '" + today + "' is not a date (YYYY-MM-DD)");

  Round round(policy, store, today);
  // Every stage is judged before anything is written, so a plan that cannot be read leaves
  // the store as it was instead of half a decision round.
  DecideResult result;
  std::vector<Found> found;
  for (const auto& stage : policy.stages) {
    found.push_back(hash_checkpoint(stage));
    auto d = round.judge(stage, found.back());
    round.decided[stage.name] = d.row.decision;
    result.stages.push_back(std::move(d));
  }
  for (std::size_t i = 0; i < result.stages.size(); ++i) {
    auto& s = result.stages[i];
    const Stage& stage = policy.stages[i];
    auto row =
        new_row(policy, stage, checkpoint_id(store, policy, stage, found[i]), options.reviewer);
    row.decision = s.row.decision;
    row.reason = s.row.reason;
    row.evidence_json = to_json(s.evidence);
    s.row = append_decision(store, std::move(row));
  }
  result.head =
      result.stages.empty() ? chain_head(store) : result.stages.back().row.hash.value_or("");
  return result;
}

db::DecisionRecord revoke(const Policy& policy, db::Store& store, const std::string& stage,
                          const std::string& reason, const std::string& reviewer) {
  const Stage& s = policy.stage(stage);
  if (reason.empty()) throw InputError("revoke: a reason must be given");
  if (reviewer.empty()) throw InputError("revoke: a reviewer must be named");
  // A revocation stands whatever the files hold now; the hash found is recorded for the
  // record's sake ("" when they cannot be read).
  const Found found = hash_checkpoint(s);
  auto row = new_row(policy, s, checkpoint_id(store, policy, s, found), reviewer);
  row.decision = "revoked";
  row.reason = reason;
  Evidence evidence;
  if (found.facts) evidence.checkpoint_sha256_found = found.facts->sha256;
  row.evidence_json = to_json(evidence);
  return append_decision(store, std::move(row));
}

}  // namespace sg::release
