// model.safetensors.index.json read from text: what an accepted index promises, and each
// way a hostile one is refused by name.
#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "expect_refused.hpp"
#include "model/weight_index.hpp"

namespace sg::model {
namespace {

using testing::expect_message;

void expect_index_refused(const std::string& text, const std::vector<std::string>& fragments) {
  try {
    parse_weight_index(text, "ckpt/model.safetensors.index.json");
    ADD_FAILURE() << "accepted " << text;
  } catch (const InputError& e) {
    expect_message(e.what(), fragments);
  }
}

TEST(WeightIndex, ListsEachShardOnce) {
  auto index = parse_weight_index(R"({"metadata": {"total_size": 96},
      "weight_map": {"a": "s2.safetensors", "b": "s1.safetensors", "c": "s2.safetensors"}})",
                                  "index.json");
  EXPECT_EQ(index.shards, (std::vector<std::string>{"s1.safetensors", "s2.safetensors"}));
  EXPECT_EQ(index.weight_map.at("a"), "s2.safetensors");
  EXPECT_EQ(index.weight_map.size(), 3u);
}

TEST(WeightIndex, RepeatedTensorIsRefused) {
  expect_index_refused(R"({"weight_map": {"wte.weight": "a.safetensors",
                                           "wte.weight": "b.safetensors"}})",
                       {"model.safetensors.index.json", "\"wte.weight\"", "twice"});
}

TEST(WeightIndex, ShardMustBeAPlainFileName) {
  for (const char* shard : {"", ".", "..", "../x.safetensors", "sub/x.safetensors"})
    expect_index_refused(std::string(R"({"weight_map": {"t": ")") + shard + "\"}}",
                         {"model.safetensors.index.json", "weight_map['t']", "not a file"});
  // A NUL would cut the name short when the file is opened.
  expect_index_refused(R"({"weight_map": {"t": "a.safetensors\u0000.txt"}})",
                       {"weight_map['t']", "not a file"});
}

TEST(WeightIndex, EmptyOrMissingMapIsRefused) {
  expect_index_refused(R"({"weight_map": {}})", {"names no tensors"});
  expect_index_refused(R"({"metadata": {}})", {"'weight_map' is missing"});
  expect_index_refused(R"({"weight_map": {"t": 3}})", {"weight_map['t']", "not a file name"});
  expect_index_refused(R"([1])", {"not a JSON object"});
}

}  // namespace
}  // namespace sg::model
