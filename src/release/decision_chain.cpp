#include "release/decision_chain.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "release/evidence.hpp"

namespace sg::release {

namespace {

std::string short_hash(const std::string& hash) {
  return hash.substr(0, 12) + "...";
}

std::string row_name(std::int64_t id) {
  return "decision " + std::to_string(id);
}

// Equal as stored: the same bits, NaN equal to NaN.
bool same(const std::optional<double>& a, const std::optional<double>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return (std::isnan(*a) && std::isnan(*b)) || *a == *b;
}

std::string number_text(const std::optional<double>& v) {
  if (!v) return "none";
  return nlohmann::json(*v).dump();
}

// Compares what each requirement of a decision used with what the store holds now.
class EvidenceCheck {
 public:
  EvidenceCheck(db::Store& store, std::vector<ChainProblem>& problems)
      : store_(store), problems_(problems) {}

  void check(const db::DecisionRecord& row, const std::string& checkpoint_sha256) {
    Evidence evidence;
    try {
      evidence = evidence_from_json(row.evidence_json);
    } catch (const InputError& e) {
      add(row.id, "altered", std::string("its evidence cannot be read: ") + e.what());
      return;
    }
    for (const auto& r : evidence.requirements) {
      if (!r.run_id) continue;  // nothing was read: nothing can have changed under it
      const std::string what = "requirement " + r.requirement + " (" + r.metric + ") used run " +
                               std::to_string(*r.run_id);
      const auto run = store_.run(*r.run_id);
      if (!run) {
        add(row.id, "metric changed", what + ", which no longer exists");
        continue;
      }
      if (run->plan_hash != r.plan_hash)
        add(row.id, "metric changed",
            what + " of plan " + short_hash(r.plan_hash) + "; that run's plan is now " +
                short_hash(run->plan_hash));
      if (!checkpoint_sha256.empty() && run->checkpoint_sha256 != checkpoint_sha256)
        add(row.id, "metric changed",
            what + ", which is now a run of checkpoint " + short_hash(run->checkpoint_sha256));
      if (run->status != db::RunStatus::kCompleted)
        add(row.id, "metric changed",
            what + ", which is now '" + std::string(db::to_string(run->status)) + "'");
      compare_aggregate(row.id, what, r);
    }
  }

 private:
  void compare_aggregate(std::int64_t row_id, const std::string& what,
                         const RequirementEvidence& r) {
    const auto& aggregates = aggregates_of(*r.run_id);
    const auto it = aggregates.find({r.metric, r.strategy, r.slice});
    const std::string key = r.metric + " [strategy '" + r.strategy + "', slice '" + r.slice + "']";
    if (!r.value) {
      if (it != aggregates.end())
        add(row_id, "metric changed",
            what + ", which had no " + key + " when decided and has one now (" +
                number_text(it->second.value) + ")");
      return;
    }
    if (it == aggregates.end()) {
      add(row_id, "metric changed", what + ", whose " + key + " is gone");
      return;
    }
    const db::Aggregate& now = it->second;
    if (!same(r.value, now.value) || !same(r.ci_low, now.ci_low) || !same(r.ci_high, now.ci_high) ||
        r.n != now.n)
      add(row_id, "metric changed",
          what + ": " + key + " was " + number_text(r.value) + " [" + number_text(r.ci_low) + ", " +
              number_text(r.ci_high) + "] n=" + std::to_string(r.n) + " and is now " +
              number_text(now.value) + " [" + number_text(now.ci_low) + ", " +
              number_text(now.ci_high) + "] n=" + std::to_string(now.n));
  }

  using Key = std::tuple<std::string, std::string, std::string>;
  const std::map<Key, db::Aggregate>& aggregates_of(std::int64_t run_id) {
    auto [it, inserted] = cache_.try_emplace(run_id);
    if (inserted)
      for (auto& a : store_.aggregates(run_id))
        it->second.emplace(Key{a.metric, a.strategy, a.slice}, a);
    return it->second;
  }

  void add(std::int64_t row_id, std::string kind, std::string message) {
    problems_.push_back({row_id, std::move(kind), row_name(row_id) + ": " + std::move(message)});
  }

  db::Store& store_;
  std::vector<ChainProblem>& problems_;
  std::map<std::int64_t, std::map<Key, db::Aggregate>> cache_;
};

}  // namespace

std::string canonical_decision(const db::DecisionRecord& row, std::int64_t sequence,
                               const std::string& checkpoint_sha256) {
  // The evidence goes in as the exact text stored, so that no byte of it can change unseen.
  const nlohmann::json canonical = {
      {"sequence", sequence},
      {"stage", row.stage},
      {"checkpoint_sha256", checkpoint_sha256},
      {"policy_path", row.policy_path},
      {"policy_hash", row.policy_hash},
      {"decision", row.decision},
      {"reason", row.reason},
      {"evidence_json", row.evidence_json},
      {"decided_by", row.decided_by},
      {"decided_at", row.decided_at},
      {"prev_hash", row.prev_hash ? nlohmann::json(*row.prev_hash) : nlohmann::json()}};
  try {
    return canonical.dump();  // keys sorted, no spaces
  } catch (const nlohmann::json::exception& e) {
    throw InputError(row_name(row.id) +
                     ": cannot be serialized (a field is not valid UTF-8): " + e.what());
  }
}

std::string decision_hash(const db::DecisionRecord& row, std::int64_t sequence,
                          const std::string& checkpoint_sha256) {
  return sha256_hex(canonical_decision(row, sequence, checkpoint_sha256));
}

db::DecisionRecord append_decision(db::Store& store, db::DecisionRecord row) {
  return store.append_decision(std::move(row),
                               [](db::DecisionRecord& r, const db::ChainLink& link) {
                                 r.prev_hash = link.head_hash.value_or(kGenesisHash);
                                 r.hash = decision_hash(r, link.sequence, link.checkpoint_sha256);
                               });
}

ChainReport verify_chain(db::Store& store, const std::optional<std::string>& head) {
  ChainReport report;
  const auto rows = store.decisions();
  report.rows = static_cast<std::int64_t>(rows.size());
  std::map<std::string, std::int64_t> row_of_hash;
  for (const auto& row : rows)
    if (row.hash) row_of_hash.emplace(*row.hash, row.id);

  EvidenceCheck evidence(store, report.problems);
  auto problem = [&](std::int64_t id, std::string kind, const std::string& message) {
    report.problems.push_back({id, std::move(kind), row_name(id) + ": " + message});
  };
  // Past the first broken link every later row looks wrong too (its position moved); only
  // the first is reported, while each row's evidence is still checked on its own.
  bool broken = false;
  std::string expected_prev = kGenesisHash;
  std::optional<std::int64_t> previous_id;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const auto checkpoint = store.checkpoint(row.checkpoint_id);
    const std::string checkpoint_sha256 = checkpoint ? checkpoint->sha256 : "";
    if (!broken) {
      broken = true;
      const std::string before =
          previous_id ? "the hash of " + row_name(*previous_id) + " before it" : "the genesis hash";
      if (!row.hash || !row.prev_hash) {
        problem(row.id, "altered", "has no hash: it was not recorded through the chain");
      } else if (*row.prev_hash != expected_prev) {
        const auto found = row_of_hash.find(*row.prev_hash);
        if (found != row_of_hash.end())
          problem(row.id, "reordered",
                  "its previous hash is that of " + row_name(found->second) + ", not " + before +
                      ": rows were reordered, or this one was inserted");
        else
          problem(row.id, "deleted",
                  "its previous hash " + short_hash(*row.prev_hash) + " is no row's, not " +
                      before + ": the decision recorded before it was deleted");
      } else if (!checkpoint) {
        problem(row.id, "altered",
                "names checkpoint id " + std::to_string(row.checkpoint_id) + ", which is not in " +
                    "the store");
      } else if (decision_hash(row, static_cast<std::int64_t>(i) + 1, checkpoint_sha256) !=
                 *row.hash) {
        problem(row.id, "altered",
                "its fields no longer hash to its stored hash " + short_hash(*row.hash) +
                    ": it was changed after it was recorded");
      } else {
        broken = false;
      }
    }
    evidence.check(row, checkpoint_sha256);
    expected_prev = row.hash.value_or("");
    previous_id = row.id;
  }
  report.head = rows.empty() ? kGenesisHash : rows.back().hash.value_or("");

  if (head && *head != report.head) {
    const auto found = row_of_hash.find(*head);
    if (found != row_of_hash.end() && found->second != rows.back().id)
      report.problems.push_back(
          {0, "head",
           "the chain goes on past the given head (" + row_name(found->second) +
               "): decisions were recorded after it; the chain ends at " + report.head});
    else
      report.problems.push_back(
          {0, "head",
           "the chain ends at " + report.head + ", not at the given head " + *head +
               ": decisions recorded up to that head were deleted, or the chain was rewritten"});
  }
  // The first row at fault first; the head, a property of the whole chain, last.
  std::stable_sort(report.problems.begin(), report.problems.end(),
                   [](const ChainProblem& a, const ChainProblem& b) {
                     const auto key = [](const ChainProblem& p) {
                       return p.row_id == 0 ? std::numeric_limits<std::int64_t>::max() : p.row_id;
                     };
                     return key(a) < key(b);
                   });
  return report;
}

}  // namespace sg::release
