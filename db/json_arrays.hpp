// Token ids and log-probs are stored as JSON arrays: readable in the sqlite3 shell and
// queryable with json_each(), at a size that does not matter next to the text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sg::db {

std::string to_json_array(std::span<const std::int32_t> values);
// Shortest text that reads back as the same double.
std::string to_json_array(std::span<const double> values);

// Throw RuntimeError naming `what` when the text is not such an array.
std::vector<std::int32_t> int_array_from_json(std::string_view text, std::string_view what);
std::vector<double> double_array_from_json(std::string_view text, std::string_view what);

}  // namespace sg::db
