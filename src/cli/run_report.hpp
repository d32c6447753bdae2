// How `audit`, `runs` and `show` print a run's aggregates: an aligned table, or JSON. In the
// table a curve (a metric at ten or more n, as `memorization.novelty@1..100`) is one row with
// its values at n = 1, 2, 4, 8, ... and the last n; JSON has every point.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "db/records.hpp"

namespace sg::cli {

nlohmann::json aggregates_json(const std::vector<db::Aggregate>& aggregates);
void print_aggregates(std::ostream& out, const std::vector<db::Aggregate>& aggregates);

}  // namespace sg::cli
