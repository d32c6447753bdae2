// Bits per byte of a scored text: the model's negative log-likelihood of the text in bits,
// divided by the UTF-8 bytes it covers. Unlike perplexity (per token) it does not depend on
// how a tokenizer cuts text, so models with different vocabularies (GPT-1 and GPT-2) compare
// on the same text (the measure of Gao et al. 2020, The Pile, and lm-evaluation-harness).
#pragma once

#include <cstdint>
#include <optional>

#include "seam/detector.hpp"

namespace sg::detectors::capability {

struct ByteScore {
  double bits = 0;         // -sum(log-probs) / ln 2
  std::int64_t bytes = 0;  // of the text the log-probs cover
  double bits_per_byte() const { return bytes > 0 ? bits / static_cast<double>(bytes) : 0; }
};

// A text scored after the end-of-text token (its first stored token is `eos`) covers all its
// bytes. A tokenizer with no such token (GPT-1) leaves the first token unscored: its bytes
// (as the tokenizer writes them, trailing space dropped) are left out of the count. Nothing
// when the sample has no log-probs.
std::optional<ByteScore> byte_score(const Sample& scored, const tokenizer::Tokenizer& tokenizer);

}  // namespace sg::detectors::capability
