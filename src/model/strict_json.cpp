#include "model/strict_json.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "common/errors.hpp"

namespace sg::model {

using nlohmann::json;

json parse_strict_json_object(std::string_view text, const std::string& where) {
  // The keys seen so far in each object still open, innermost last (keys only ever belong
  // to the innermost open container, which is then an object).
  std::vector<std::set<std::string>> open_objects;
  auto check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth)
          throw InputError(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                           " levels");
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case json::parse_event_t::key: {
        auto key = parsed.get<std::string>();
        if (!open_objects.back().insert(key).second)
          throw InputError(where + ": key \"" + key +
                           "\" appears twice in one object (readers disagree on which counts)");
        break;
      }
      case json::parse_event_t::object_end:
        open_objects.pop_back();
        break;
      case json::parse_event_t::array_end:
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number beyond double's range (1e999).
    throw InputError(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw InputError(where + ": not a JSON object");
  return j;
}

std::string read_metadata_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(path.string() + ": cannot be read (" + ec.message() + ")");
  if (size > kMaxJsonBytes)
    throw InputError(path.string() + ": " + std::to_string(size) + " bytes, beyond the " +
                     std::to_string(kMaxJsonBytes) +
                     "-byte limit for a checkpoint's JSON metadata");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sg::model
