// `stagegate compare`'s two outputs: JSON for programs, a table for a terminal.
#pragma once

#include <string>

#include "report/compare.hpp"

namespace sg::report {

// {"columns": [{label, stage, checkpoint_sha256, runs: [{run_id, plan}]}],
//  "rows": [{group, metric, strategy, slice, plan, values: [{value, ci_low, ci_high, n, run_id}
//  or null], differences: [null, {difference, separated, intervals} or null, ...]}]}
std::string comparison_json(const Comparison& comparison);

// Grouped (capability, risk, samples); each value with its interval, then each column's
// difference from the first, starred where the intervals separate.
std::string comparison_table(const Comparison& comparison);

}  // namespace sg::report
