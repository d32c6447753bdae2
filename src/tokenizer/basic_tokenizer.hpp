// The text normalisation Hugging Face's OpenAIGPTTokenizer applies when ftfy and spaCy are
// absent (BERT's BasicTokenizer, lower-casing on): drop NUL, U+FFFD and control characters,
// turn whitespace into spaces, space out CJK ideographs, split on whitespace, lower-case,
// strip accents (NFD, drop Mn) and split off punctuation. Unicode data from utf8proc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sg::tokenizer {

std::vector<std::string> basic_tokenize(std::string_view text);

}  // namespace sg::tokenizer
