// Decoding settings of one sequence and the sampler that picks its next token.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "engine/completion_filter.hpp"
#include "engine/dry.hpp"
#include "engine/logits_processor.hpp"
#include "engine/output_filter.hpp"
#include "engine/rng.hpp"

namespace sg::engine {

// Defaults follow the OpenAI API: temperature 1, top-p 1, top-k off.
struct SamplingParams {
  float temperature = 1.0f;  // 0: greedy
  int top_k = 0;             // 0: off
  float top_p = 1.0f;
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;   // OpenAI's, in [-2, 2]
  float frequency_penalty = 0.0f;  // OpenAI's, in [-2, 2]
  DryParams dry;                   // multiplier 0: off
  int no_repeat_ngram = 0;
  std::uint64_t seed = 0;
  int max_tokens = 64;
  bool ignore_eos = false;
  int top_logprobs = 0;  // >0: report this many alternatives per token (GenerationResult)
  // Judge each chosen token, in order (output_filter.hpp); each sequence gets its own.
  std::vector<std::shared_ptr<const OutputFilterFactory>> filters;
  // Judge the finished completion, in order; the first verdict other than accept acts
  // (completion_filter.hpp). A request with any is not streamed: its tokens are not final
  // until judged.
  std::vector<std::shared_ptr<CompletionFilter>> completion_filters;
};

// The processors the settings ask for, in this order: the penalties on the raw logits
// (repetition penalty, presence/frequency, DRY; llama.cpp runs its penalties sampler, then
// DRY), the n-gram ban, then the warpers as Hugging Face orders them: temperature, top-k,
// top-p. Greedy decoding (temperature 0) keeps the penalties and drops the warpers.
ProcessorChain make_chain(const SamplingParams& params);

// Index of the largest logit (the lowest index among ties).
std::int32_t argmax(std::span<const float> logits);

// softmax(logits)'s normalizer as sample and log_prob compute it, in double: the largest
// logit and sum_j exp(l_j - max), j in id order.
struct Normalizer {
  double max = 0;
  double total = 0;
};

// Draws from softmax(logits) by inverse CDF over the token ids in order; masked (-inf)
// logits are never drawn.
std::int32_t sample(std::span<const float> logits, Rng& rng);
// The same draw, each exp computed once into `exps` (scratch), and the row's normalizer
// written to `normalizer`.
std::int32_t sample(std::span<const float> logits, Rng& rng, std::vector<double>& exps,
                    Normalizer& normalizer);

// log softmax(logits)[id], in double precision.
double log_prob(std::span<const float> logits, std::int32_t id);
// The same from the row's normalizer and the id's logit, bit for bit.
double log_prob(const Normalizer& normalizer, float logit);

// The `n` most likely ids of softmax(logits) with their log-probs (as log_prob gives them),
// most likely first; ties go to the lower id.
std::vector<std::pair<std::int32_t, double>> top_log_probs(std::span<const float> logits, int n);

// A fresh seed from the operating system, for runs that did not give one.
std::uint64_t random_seed();

}  // namespace sg::engine
