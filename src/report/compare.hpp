// Stages side by side (`stagegate compare`): every aggregate their audits stored, with its
// interval, each stage's difference from the first, and whether the two intervals separate.
// Read from the store only (db::Store), so the numbers are exactly the store's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "db/store.hpp"

namespace sg::report {

// One compared model: a stage name, or a checkpoint by its weights' SHA-256.
struct CompareTarget {
  std::string label;   // as the user named it (stage name or model directory)
  std::string stage;   // set for --stage
  std::string sha256;  // set for --model (the weights hashed now)
};

struct CompareOptions {
  // Only runs of plans with these file names (the plan path's last component, e.g.
  // "demo.ini"); empty: every plan.
  std::vector<std::string> plans;
  // Only figures whose metric starts with one of these ("capability.", "repetition.seq_rep");
  // empty: every figure.
  std::vector<std::string> metrics;
};

struct ComparedRun {
  std::int64_t run_id = 0;
  std::string plan_path;
};

struct ComparedColumn {
  std::string label;
  std::string stage;
  std::string checkpoint_sha256;
  std::vector<ComparedRun> runs;  // the latest completed run of each plan, newest first
};

struct ComparedValue {
  double value = 0;
  std::optional<double> ci_low;
  std::optional<double> ci_high;
  std::int64_t n = 0;
  std::int64_t run_id = 0;
};

// A column's value against the first column's.
struct Difference {
  double difference = 0;  // value - the first column's value
  // Both have intervals and they do not overlap: the data support a difference.
  bool separated = false;
  bool intervals = false;  // both have intervals (else `separated` says nothing)
};

struct ComparedRow {
  std::string group;  // "capability", "risk" or "samples"
  std::string metric;
  std::string strategy;
  std::string slice;
  // The plan's file name, when some column has this metric from two plans (e.g. an audit with
  // output filters on beside one without): each plan's figure is then its own row.
  std::string plan;
  std::vector<std::optional<ComparedValue>> values;    // one per column
  std::vector<std::optional<Difference>> differences;  // one per column; none for the first

  std::size_t present() const;  // columns that have this figure
};

// Among the rows of one figure from several plans, the value `column` has in the row most
// columns have (the plan every stage was audited with); null when none has one for it.
const ComparedValue* main_plan_value(std::span<const ComparedRow* const> rows, std::size_t column);

struct Comparison {
  std::vector<ComparedColumn> columns;
  std::vector<ComparedRow> rows;  // by group (capability, risk, samples), metric, strategy, slice
};

// The group a metric belongs to: "capability" (capability.*, perplexity.*), "samples"
// (sample.*: what was generated) or "risk" (memorization, repetition, toxicity, ...).
std::string metric_group(const std::string& metric);

// InputError when a target has no completed run (naming it and what the store has), or when
// none is given (one is a table of one column; the command line asks for two).
Comparison compare(db::Store& store, const std::vector<CompareTarget>& targets,
                   const CompareOptions& options = {});

}  // namespace sg::report
