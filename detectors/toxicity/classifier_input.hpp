// A sequence classifier's input for one text: the text's tokens framed by the special tokens
// its layout was trained with, cut to the model's positions.
//   BERT:    [CLS] text [SEP]   (ids from the checkpoint's vocab.txt)
//   RoBERTa: <s> text </s>      (ids from the checkpoint's vocab.json)
//   GPT-2:   text               (GPT2ForSequenceClassification adds nothing)
// A text longer than the model's positions keeps its first tokens (Hugging Face's
// truncation=True for a single text, as Detoxify runs toxic-bert): the classifier judges the
// beginning, and the score's detail says how many tokens it did not see.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "model/config.hpp"

namespace sg::detectors::toxicity {

struct ClassifierFraming {
  std::vector<std::int32_t> prefix;
  std::vector<std::int32_t> suffix;
};

// The layout's special tokens, looked up in `dir`'s vocabulary. Throws sg::InputError
// naming the file and the token when the vocabulary lacks one.
ClassifierFraming framing_for(const model::Config& config, const std::filesystem::path& dir);

struct FramedInput {
  std::vector<std::int32_t> ids;
  std::size_t dropped = 0;  // text tokens cut off at the end
};

// prefix + the first (max_tokens - specials) text tokens + suffix. Throws sg::InputError
// when the special tokens alone do not fit.
FramedInput frame(const ClassifierFraming& framing, std::span<const std::int32_t> text_ids,
                  int max_tokens);

}  // namespace sg::detectors::toxicity
