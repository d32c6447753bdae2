// model.safetensors.index.json: which shard file of a checkpoint holds each tensor.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sg::model {

struct WeightIndex {
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
  std::vector<std::string> shards;                // each shard once, sorted
};

// Parses the index text; `where` names the file in errors (sg::InputError). An accepted index
// names at least one tensor, each tensor once, and only plain file names in the checkpoint
// directory (no path separators, "." or ".."), each of which holds some tensor.
WeightIndex parse_weight_index(const std::string& text, const std::string& where);

}  // namespace sg::model
