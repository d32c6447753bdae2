// Reading a BERT tokenizer directory: vocab.txt (one token a line, id = line number - 1) and,
// when present, tokenizer_config.json (do_lower_case, strip_accents, special-token names).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/basic_tokenizer.hpp"

namespace sg::tokenizer {

struct WordPieceFiles {
  std::vector<std::string> tokens;  // by id
  BasicOptions basic;               // do_lower_case defaults to true, as BertTokenizer's
  std::string unk = "[UNK]", cls = "[CLS]", sep = "[SEP]", pad = "[PAD]", mask = "[MASK]";
};

// Throws sg::InputError naming the file and line (or field).
WordPieceFiles read_wordpiece_files(const std::filesystem::path& dir);

// The same from the files' contents (tokenizer_config.json's when there is one); `dir` only
// names the files in errors. Accepted tokens are non-empty, unique, valid UTF-8 and free of
// whitespace.
WordPieceFiles parse_wordpiece_files(std::string_view vocab_txt,
                                     std::optional<std::string_view> tokenizer_config,
                                     const std::filesystem::path& dir);

}  // namespace sg::tokenizer
