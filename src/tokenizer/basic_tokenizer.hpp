// BERT's BasicTokenizer, which Hugging Face's BertTokenizer runs before WordPiece and its
// OpenAIGPTTokenizer applies when ftfy and spaCy are absent (lower-casing on): drop NUL,
// U+FFFD and control characters, turn whitespace into spaces, space out CJK ideographs, NFC,
// split on whitespace, lower-case and strip accents (NFD, drop Mn) when asked, and split off
// punctuation. Unicode data from utf8proc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::tokenizer {

struct BasicOptions {
  bool lower_case = true;
  // Hugging Face's strip_accents: unset follows lower_case.
  std::optional<bool> strip_accents;
};

std::vector<std::string> basic_tokenize(std::string_view text, const BasicOptions& options = {});

}  // namespace sg::tokenizer
