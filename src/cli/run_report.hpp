// How `audit`, `runs` and `show` print a run's aggregates: an aligned table, or JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "db/records.hpp"

namespace sg::cli {

nlohmann::json aggregates_json(const std::vector<db::Aggregate>& aggregates);
void print_aggregates(std::ostream& out, const std::vector<db::Aggregate>& aggregates);

}  // namespace sg::cli
