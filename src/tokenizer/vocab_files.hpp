// Reading vocab.json (token string -> id) and merges.txt ("left right" per line, by rank).
#pragma once

#include <filesystem>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sg::tokenizer {

struct VocabFiles {
  std::unordered_map<std::string, std::int32_t> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  int vocab_size = 0;                                       // 1 + the largest id
};

// Throws sg::InputError naming the file and line.
VocabFiles read_vocab_files(const std::filesystem::path& dir);

}  // namespace sg::tokenizer
