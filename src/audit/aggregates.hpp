// A run's figures, computed from the store (not from what one process saw), so a run
// resumed five times has the same aggregates as one that ran once: each enabled detector's
// summary, and the runner's own `sample.tokens` (mean continuation length per strategy).
#pragma once

#include <vector>

#include "audit/plan.hpp"
#include "db/records.hpp"
#include "seam/detector.hpp"

namespace sg::audit {

// The runner's own aggregate: the mean continuation length of a strategy's samples.
inline constexpr const char* kSampleTokensMetric = "sample.tokens";

std::vector<db::Aggregate> run_aggregates(detectors::RunReader& run, const Plan& plan);

}  // namespace sg::audit
