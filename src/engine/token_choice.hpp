// How one sequence picks its next token from the model's raw logits: the processor chain
// reshapes them, the sampler (or argmax) picks, and output filters may veto the pick (masked,
// drawn again) — the one place the generator and the tests share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/logits_processor.hpp"
#include "engine/output_filter.hpp"
#include "engine/rng.hpp"
#include "engine/sampling.hpp"

namespace sg::engine {

struct TokenChoice {
  // Null when the filters vetoed every token the processors left (finish "content_filter").
  std::optional<std::int32_t> token;
  std::vector<FilterEvent> events;  // one per veto, in order
};

class TokenChooser {
 public:
  explicit TokenChooser(const SamplingParams& params);

  // `work` is scratch space, overwritten.
  TokenChoice choose(const GenerationState& state, std::span<const float> logits,
                     std::vector<float>& work);
  // After the chosen token was appended to state.generated: a filter's stop, if any.
  std::optional<FilterStop> after_accept(const GenerationState& state);

 private:
  bool greedy_;
  Rng rng_;
  ProcessorChain chain_;
  std::vector<std::unique_ptr<OutputFilter>> filters_;
};

}  // namespace sg::engine
