// model.safetensors.index.json: it must accept or refuse with sg::InputError, and an accepted
// index maps every tensor, each named once as written, to a listed shard that is a plain file
// beside the index; every listed shard holds some tensor.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/errors.hpp"
#include "model/weight_index.hpp"

namespace {

using nlohmann::json;

void check(bool ok) {
  if (!ok) std::abort();
}

// The weight_map entries as written, counted by an independent pass (the reader's map would
// hide a name written twice).
std::size_t written_entries(const std::string& text) {
  std::size_t n = 0;
  std::string top;
  json::parser_callback_t count = [&](int depth, json::parse_event_t event, json& value) {
    if (event == json::parse_event_t::key && depth == 1) top = value.get<std::string>();
    if (event == json::parse_event_t::key && depth == 2 && top == "weight_map") ++n;
    return true;
  };
  (void)json::parse(text, count, false);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto index = sg::model::parse_weight_index(text, "fuzz/model.safetensors.index.json");
    check(!index.weight_map.empty() && !index.shards.empty());
    check(std::is_sorted(index.shards.begin(), index.shards.end()));
    check(std::adjacent_find(index.shards.begin(), index.shards.end()) == index.shards.end());
    check(written_entries(text) == index.weight_map.size());
    std::set<std::string> used;
    for (const auto& [name, shard] : index.weight_map) {
      check(std::binary_search(index.shards.begin(), index.shards.end(), shard));
      used.insert(shard);
    }
    check(used.size() == index.shards.size());
    const std::filesystem::path dir = "/ckpt";
    for (const auto& shard : index.shards) {
      check(shard.find('\0') == std::string::npos);
      const auto path = dir / shard;
      check(path.parent_path() == dir && path.filename() == shard);
      check(shard != "." && shard != "..");
    }
  } catch (const sg::InputError&) {
    // A refusal is a correct answer to bad input.
  }
  return 0;
}
