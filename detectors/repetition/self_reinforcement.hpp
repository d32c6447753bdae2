// The self-reinforcement effect (Xu et al. 2022, "Learning to Break the Loop"): the more
// often a sentence has already appeared in the context, the more probable the model makes
// it again. A sentence (one line) repeated R times is scored as one text; the curve is the
// mean probability of the sentence's tokens in its 1st, 2nd, ..., R-th copy.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sg::detectors::repetition {

// The sentence, stripped of surrounding blanks, with a line break after each of `repeats`
// copies: GPT-2's and GPT-1's pre-tokenizers split at the line break, so each copy encodes
// to the same tokens.
std::string repeated_text(std::string_view sentence, int repeats);

// For a scored repeated text (`logprobs[i]` is token i+1's; the first token has none): the
// mean probability exp(logprob) of each copy's tokens, copy 1 without its first token.
// Empty when the tokens are not `repeats` equal copies.
std::vector<double> reinforcement_curve(std::span<const std::int32_t> tokens,
                                        std::span<const double> logprobs, int repeats);

}  // namespace sg::detectors::repetition
