#include "model/weight_index.hpp"

#include <set>

#include "common/errors.hpp"
#include "model/strict_json.hpp"

namespace sg::model {

WeightIndex parse_weight_index(const std::string& text, const std::string& where) {
  const auto j = parse_strict_json_object(text, where);
  if (!j.contains("weight_map") || !j["weight_map"].is_object())
    throw InputError(where + ": 'weight_map' is missing or not an object");
  WeightIndex out;
  std::set<std::string> shards;
  for (const auto& [name, file] : j["weight_map"].items()) {
    if (!file.is_string())
      throw InputError(where + ": weight_map['" + name + "'] is not a file name");
    auto f = file.get<std::string>();
    // A shard is a file beside the index: never a path that leads elsewhere.
    if (f.empty() || f.find('/') != std::string::npos || f.find('\0') != std::string::npos ||
        f == "." || f == "..")
      throw InputError(where + ": weight_map['" + name + "'] = " + nlohmann::json(f).dump() +
                       " is not a file in the checkpoint directory");
    shards.insert(f);
    out.weight_map.emplace(name, std::move(f));
  }
  if (shards.empty()) throw InputError(where + ": 'weight_map' names no tensors");
  out.shards.assign(shards.begin(), shards.end());
  return out;
}

}  // namespace sg::model
