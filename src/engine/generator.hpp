// The generation loop: prefill a batch of prompts, then decode one token per sequence per
// step (one submission each), every sequence with its own settings and seed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/model.hpp"
#include "engine/sampling.hpp"

namespace sg::engine {

struct GenerationRequest {
  std::vector<std::int32_t> prompt;  // at least one token
  SamplingParams params;
};

struct GenerationResult {
  std::vector<std::int32_t> tokens;  // new tokens; the end-of-text token is not included
  std::vector<double> logprobs;      // raw model log-prob of each, before any processor
  std::string finish_reason;         // "stop" (end of text) or "length"
};

struct GenerationTimings {
  double prefill_seconds = 0;
  std::size_t prefill_tokens = 0;
  std::vector<double> step_seconds;  // one per decode step
  std::size_t decode_tokens = 0;
};

class Generator {
 public:
  Generator(Model& model, std::optional<std::int32_t> eos_id) : model_(model), eos_(eos_id) {}

  // (request index, new token) as each token is chosen, for streaming.
  using TokenCallback = std::function<void(std::size_t, std::int32_t)>;

  // Runs the requests in groups of up to the model's sequence slots.
  std::vector<GenerationResult> run(std::span<const GenerationRequest> requests,
                                    const TokenCallback& on_token = {});

  // Placeholder until continuous batching lands: runs in groups, reporting each result.
  void run_continuous(std::span<const GenerationRequest> requests,
                      const std::function<void(std::size_t, GenerationResult&&)>& on_finished,
                      const std::function<bool()>& should_stop = {});

  const GenerationTimings& timings() const { return timings_; }

 private:
  void run_group(std::span<const GenerationRequest> requests, std::span<GenerationResult> results,
                 std::size_t first_index, const TokenCallback& on_token);

  Model& model_;
  std::optional<std::int32_t> eos_;
  GenerationTimings timings_;
};

}  // namespace sg::engine
