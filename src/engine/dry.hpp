// DRY, "don't repeat yourself" (p-e-w, text-generation-webui PR #5677), as llama.cpp's
// sampler defines it (src/llama-sampling.cpp, llama_sampler_dry): a token that would extend
// a repeat of the text's ending gets a penalty growing exponentially with the repeat's length.
//
// Over the last `penalty_last_n` tokens of prompt + output (-1: all of them):
//   - a sequence breaker cuts repeats: a repeat may not reach back past the most recent
//     breaker, so matches are capped at the number of tokens after it;
//   - for every earlier position i, n(i) is the length of the longest suffix of the text that
//     also ends at i (capped as above); when n(i) >= allowed_length, the token after i would
//     extend that repeat;
//   - each such token t, with n the largest n(i) among the positions it follows, gets
//       logit[t] -= multiplier * base^(n - allowed_length),
//     the exponent capped so the power stays a finite float; a single-token breaker is never
//     penalised.
// Nothing happens when the window holds no more than allowed_length tokens, or the text
// after the last breaker is shorter than allowed_length.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/logits_processor.hpp"

namespace sg::tokenizer {
class Tokenizer;
}

namespace sg::engine {

// Breakers as token sequences: a head token and the tokens that must follow it (an empty
// tail: the head alone is a breaker).
struct DryBreakers {
  std::unordered_map<std::int32_t, std::vector<std::vector<std::int32_t>>> tails_by_head;
};

// The token sequences that spell each breaker string, as llama.cpp derives them from the
// vocabulary: every token whose text contains the breaker is a breaker by itself; a token
// whose text ends with the breaker's first bytes is a head, followed by the encoding of the
// rest. Empty strings are left out.
DryBreakers dry_breakers(const tokenizer::Tokenizer& tokenizer,
                         std::span<const std::string> breakers);

struct DryParams {
  float multiplier = 0.0f;  // 0: off
  float base = 1.75f;       // below 1: off
  int allowed_length = 2;
  int penalty_last_n = -1;  // tokens looked at: -1 all of prompt + output, 0 off
  std::shared_ptr<const DryBreakers> breakers;  // null: none

  bool enabled() const { return multiplier != 0.0f && base >= 1.0f && penalty_last_n != 0; }
};

class Dry : public LogitsProcessor {
 public:
  explicit Dry(DryParams params) : p_(std::move(params)) {}
  void apply(const GenerationState& state, std::span<float> logits) override;

 private:
  DryParams p_;
};

}  // namespace sg::engine
