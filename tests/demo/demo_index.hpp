// A corpus index of the slices one demo stage was trained on (family.json), built once per
// test executable into a scratch file: the leakage tests need the demo's own corpus.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "memorization/index_builder.hpp"
#include "memorization/tokenizer_hash.hpp"
#include "model/checkpoint.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::testing {

inline const std::filesystem::path kDemoFamily =
    std::filesystem::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";

// Builds `out` from the stage's slices and returns it.
inline std::filesystem::path build_demo_index(const std::string& stage,
                                              const std::filesystem::path& out) {
  namespace mem = detectors::memorization;
  std::ifstream in(kDemoFamily / "family.json");
  const auto family = nlohmann::json::parse(in);
  std::vector<std::filesystem::path> files;
  for (const auto& s : family["stages"])
    if (s["name"] == stage)
      for (const auto& slice : s["slices"])
        files.push_back(kDemoFamily / "corpus" / (slice.get<std::string>() + ".jsonl.zst"));
  if (files.empty()) throw std::runtime_error("family.json lists no slices for " + stage);
  const auto model_dir = kDemoFamily / stage;
  const auto ckpt = model::Checkpoint::open(model_dir);
  const auto tok = tokenizer::load(model_dir, std::string(model::to_string(ckpt.config().arch)));
  mem::build_index(files, *tok, mem::tokenizer_hash(model_dir), out,
                   {.threads = 2, .progress = false});
  return out;
}

}  // namespace sg::testing
