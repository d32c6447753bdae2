// A LAMBADA-style zero-shot task (Paperno et al. 2016; the GPT-2 paper's test of zero-shot
// ability): each passage's final word is predicted from the rest by greedy decoding, and a
// prediction counts when it is that whole word.
//
// The task file is JSON Lines with a "text" per line, as the real LAMBADA's jsonl (OpenAI's
// lambada_test.jsonl): the last whitespace-separated word of the text is the target, the text
// before it the context. An "id" is optional (the line number otherwise).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seam/text_jsonl.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::detectors::capability {

struct ZeroShotItem {
  std::string id;
  std::string context;  // the passage up to its last word, without the space before it
  std::string target;   // the last word, as the file writes it
  int line = 0;
};

// The passages of a task file already read; a passage of one word, or whose last "word" has
// no letter or digit, is an InputError "FILE:LINE: ...".
std::vector<ZeroShotItem> zero_shot_items(const std::filesystem::path& file, const TextFile& texts);

// `word` without the punctuation around it ("hungered." -> "hungered"): a prediction followed
// by a full stop is still the word.
std::string_view bare_word(std::string_view word);

// The word the model wrote after `context`, in `full` = the decoded context followed by the
// decoded continuation, `context_size` bytes of it being the context: the first word that
// starts at or after the context's end; when the continuation does not begin a new word
// (it glues onto the context's last word), that glued word, which is then no match.
struct PredictedWord {
  std::size_t start = 0;  // bytes into `full`
  std::string_view word;  // bare
};
std::optional<PredictedWord> predicted_word(std::string_view full, std::size_t context_size);

// The target as the model's tokenizer can write it: the text of encode(" " + target), bare.
// GPT-1's lower-cases it ("Jordan" -> "jordan"), GPT-2's keeps it.
std::string expressible_target(const tokenizer::Tokenizer& tokenizer, std::string_view target);

}  // namespace sg::detectors::capability
