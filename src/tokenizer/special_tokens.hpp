// Special-token text in an input ("<|endoftext|>", "[CLS]", "<mask>") stands for the special
// token, as Hugging Face's tokenizers treat it by default: the text is cut at each one and
// the pieces between are tokenized on their own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::tokenizer {

struct SpecialToken {
  std::string text;
  std::int32_t id = 0;
  bool strip_left = false;  // swallows the whitespace before it (RoBERTa's <mask>)
};

// Calls on_text for each stretch between matches (possibly empty ones are skipped) and
// on_special for each match: leftmost first, the longest where several start together.
void split_on_specials(std::string_view text, const std::vector<SpecialToken>& specials,
                       const std::function<void(std::string_view)>& on_text,
                       const std::function<void(const SpecialToken&)>& on_special);

}  // namespace sg::tokenizer
