// Reading vocab.json (token string -> id) and merges.txt ("left right" per line, by rank).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sg::tokenizer {

// What an accepted pair of files promises: ids are unique and number the tokens 0..n-1
// (vocab_size == vocab.size()), so every id in range stands for exactly one token; merges
// are pairs of non-empty symbols without spaces (they need not name tokens in the vocabulary:
// the tokenizers skip those that do not).
struct VocabFiles {
  std::unordered_map<std::string, std::int32_t> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  int vocab_size = 0;                                       // 1 + the largest id
};

// Throws sg::InputError naming the file and line.
VocabFiles read_vocab_files(const std::filesystem::path& dir);

// The same from the files' contents (what read_vocab_files reads); `dir` only names the
// files in errors.
VocabFiles parse_vocab_files(std::string_view vocab_json, std::string_view merges_txt,
                             const std::filesystem::path& dir);

}  // namespace sg::tokenizer
