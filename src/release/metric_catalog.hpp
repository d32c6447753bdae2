// The metric names the detectors write as aggregates (v_metrics.metric), so a policy naming a
// metric no detector produces is refused when it is read, not when a decision finds nothing.
// Names with a parameter are patterns: `memorization.extractable_rate@{k}` matches
// `memorization.extractable_rate@50` (digits).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sg::release {

// Every registered detector's metric names and patterns (detectors/seam/registry.hpp), sorted.
const std::vector<std::string>& known_metrics();

// Whether `metric` is a known name or matches a known pattern.
bool is_known_metric(std::string_view metric);

}  // namespace sg::release
