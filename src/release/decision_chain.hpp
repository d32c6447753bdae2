// Release decisions as a hash chain in the store's `decisions` table. Each row stores the
// previous row's hash and the SHA-256 of its own canonical serialization (its sequence
// number, stage, checkpoint SHA-256, policy path and SHA-256, decision, reason, evidence
// (the metric values and run ids it used), reviewer, time and previous hash), so that
// `verify` finds the first row that was altered, deleted or reordered. An unkeyed chain in
// the same file can be rewritten whole by anyone who can write the file: `decide` prints the
// new head, and `verify --head` checks the chain against a head kept elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/records.hpp"
#include "db/store.hpp"

namespace sg::release {

// The hash of an empty chain: the first row's prev_hash.
inline constexpr const char* kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// What a row's hash covers, as text (canonical JSON: sorted keys, no spaces). `sequence` is
// the row's position in the chain (1-based); `checkpoint_sha256` the checkpoint its
// checkpoint_id names.
std::string canonical_decision(const db::DecisionRecord& row, std::int64_t sequence,
                               const std::string& checkpoint_sha256);
std::string decision_hash(const db::DecisionRecord& row, std::int64_t sequence,
                          const std::string& checkpoint_sha256);

// Appends `row` (its id, prev_hash and hash are set here) in one transaction that reads the
// current head, so two processes deciding at once still form one chain. Returns the row as
// stored.
db::DecisionRecord append_decision(db::Store& store, db::DecisionRecord row);

struct ChainProblem {
  std::int64_t row_id = 0;  // the first row at fault (0: the chain as a whole, e.g. the head)
  std::string kind;         // "altered", "deleted", "reordered", "metric changed", "head"
  std::string message;      // says what differs
};

struct ChainReport {
  std::int64_t rows = 0;
  std::string head;                    // the last row's hash (kGenesisHash when empty)
  std::vector<ChainProblem> problems;  // empty: the chain and its evidence hold
  bool ok() const { return problems.empty(); }
};

// Recomputes every row's hash and link and, for each decision's evidence, re-reads the
// aggregates it used (run id, metric, strategy, slice) and compares their values; with
// `head`, the chain must end at that hash.
ChainReport verify_chain(db::Store& store, const std::optional<std::string>& head = std::nullopt);

}  // namespace sg::release
