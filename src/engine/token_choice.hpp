// How one sequence picks its next token from the model's raw logits: the processor chain
// reshapes them, the sampler (or argmax) picks, and output filters may veto the pick (masked,
// drawn again) — the one place the generator and the tests share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/logit_summary.hpp"
#include "engine/logits_processor.hpp"
#include "engine/output_filter.hpp"
#include "engine/rng.hpp"
#include "engine/sampling.hpp"

namespace sg::engine {

struct TokenChoice {
  // Null when the filters vetoed every token the processors left (finish "content_filter").
  std::optional<std::int32_t> token;
  std::vector<FilterEvent> events;  // one per veto, in order
  bool from_summary = false;        // decided by the device summary, the full row unread
  // The raw row's normalizer, when the draw computed it on the way (sampling with no
  // processor and no veto): log_prob from it is bit for bit log_prob over the row.
  std::optional<Normalizer> raw_normalizer;
};

// Space choose() overwrites, kept by the caller so that a step allocates nothing.
struct ChoiceScratch {
  std::vector<float> logits;  // the processed row
  std::vector<double> exps;   // the draw's terms
};

class TokenChooser {
 public:
  explicit TokenChooser(const SamplingParams& params);

  // Whether a device summary of the logits (logit_summary.hpp) can decide this sequence's
  // picks: greedy, or sampling cut by top-k or top-p, with no processor that needs every
  // logit. Then choose() reads the full row only when the summary cannot tell.
  bool wants_summary() const { return wants_summary_; }
  // The temperature the summary's normalizer must be computed at.
  float summary_temperature() const { return temperature_; }

  // `summary`, when given, summarizes `logits` at summary_temperature(); the choice is the
  // same with or without it.
  TokenChoice choose(const GenerationState& state, std::span<const float> logits,
                     ChoiceScratch& scratch, const LogitSummary* summary = nullptr);
  // After the chosen token was appended to state.generated: a filter's stop, if any.
  std::optional<FilterStop> after_accept(const GenerationState& state);

 private:
  bool greedy_;
  float temperature_;
  bool wants_summary_;
  Rng rng_;
  ProcessorChain chain_;
  std::vector<std::unique_ptr<OutputFilter>> filters_;
};

}  // namespace sg::engine
