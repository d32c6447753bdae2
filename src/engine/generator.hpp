// The generation loop with continuous batching: every KV-cache slot runs one sequence, and a
// slot freed by a finished sequence takes the next waiting request at the next step, its
// prompt prefilled in the same forward pass as the other sequences' decode tokens. Each
// sequence has its own settings, seed and processor chain, and the engine is batch
// invariant, so a result never depends on which requests shared its steps.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/sampling.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::engine {

class Model;  // engine/model.hpp; referenced only, so the Vulkan headers stay out

struct GenerationRequest {
  std::vector<std::int32_t> prompt;  // at least one token, at most the model's context
  SamplingParams params;
  // Also report the log-prob of each prompt token after the first (the OpenAI API's echo
  // with logprobs: what evaluation harnesses read a text's log-likelihood from).
  bool prompt_logprobs = false;
};

struct GenerationResult {
  std::vector<std::int32_t> tokens;  // new tokens; the end-of-text token is not included
  std::vector<double> logprobs;      // raw model log-prob of each, before any processor
  // "stop" (end of text), "length" (max_tokens or the context), a filter's own reason (e.g.
  // "loop"), or "content_filter" (the output filters vetoed every remaining token, or an
  // after-generation filter refused the completion: then no tokens).
  std::string finish_reason;
  std::vector<FilterEvent> events;  // what the output filters did, in order
  // The text to deliver when an after-generation filter decided it ("" when refused, the
  // redacted text when redacted; completion_filter.hpp); unset: the decoding of `tokens`.
  std::optional<std::string> text;
  int attempts = 1;  // tries generated: 1 + the regenerations an after-generation filter asked
  // With SamplingParams::top_logprobs > 0: for each token, the most likely ids of the raw
  // distribution it was drawn from and their log-probs, most likely first.
  std::vector<std::vector<std::pair<std::int32_t, double>>> top_logprobs;
  // With GenerationRequest::prompt_logprobs: for prompt[1], prompt[2], ..., the raw log-prob
  // given the tokens before it, and (with top_logprobs > 0) the alternatives there.
  std::vector<double> prompt_logprobs;
  std::vector<std::vector<std::pair<std::int32_t, double>>> prompt_top_logprobs;
};

// What a user receives of `result`: its filter-decided text, else its tokens decoded.
std::string delivered_text(const GenerationResult& result, const tokenizer::Tokenizer& tokenizer);

// Summed over the steps of the last call. A step that both prefills newcomers and decodes
// others splits its time between the two in proportion to their token counts.
struct GenerationTimings {
  double prefill_seconds = 0;
  std::size_t prefill_tokens = 0;
  double decode_seconds = 0;
  std::size_t decode_tokens = 0;
  // Wall time of each step that decodes: the latency its decoding sequences saw per token.
  std::vector<double> step_seconds;
  // Tokens picked from the device's summary of the logits, and from the full row.
  std::size_t summary_picks = 0;
  std::size_t full_row_picks = 0;
  // Prompt tokens taken from the KV cache instead of computed (prefix caching); prefill_tokens
  // counts the rest.
  std::size_t reused_tokens = 0;
};

// Requests that arrive while the generator runs (a server's queue): the generator asks for
// the next one whenever a slot is free, and asks before every step whether a running one
// was cancelled. Called from the generating thread only; an implementation shared with other
// threads does its own locking.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // The next request to start, or null when none waits now. It must stay valid, unchanged,
  // until its result is handed to the finished callback.
  virtual const GenerationRequest* next() = 0;
  // True when the running `request` is to end now (its client went away, or a stop sequence
  // was seen): it finishes with reason "cancelled" and the tokens it has.
  virtual bool cancelled(const GenerationRequest& request) = 0;
  // Called when nothing runs and nothing waits: blocks until a request may be waiting; false
  // ends the run.
  virtual bool wait() = 0;
};

class Generator {
 public:
  Generator(Model& model, std::optional<std::int32_t> eos_id) : model_(model), eos_(eos_id) {}

  // (request index, new token) as each token is chosen, for streaming; never for a request
  // with after-generation filters (its tokens are not final until judged).
  using TokenCallback = std::function<void(std::size_t, std::int32_t)>;
  // (request index, its result), once per request, as soon as that request finishes.
  using FinishedCallback = std::function<void(std::size_t, GenerationResult&&)>;
  // Asked before each step; true: start no new request and return.
  using StopCheck = std::function<bool()>;

  // Runs the requests through the model's slots, starting them in order as slots free up,
  // and hands each result to `on_finished` the step it finishes (so in finishing order, not
  // request order). When `should_stop` returns true the call returns at once: requests
  // still running or waiting are not reported. Every prompt is checked before any work.
  void run_continuous(std::span<const GenerationRequest> requests,
                      const FinishedCallback& on_finished, const StopCheck& should_stop = {},
                      const TokenCallback& on_token = {});

  // Runs what `source` hands out until its wait() says to end. Callbacks name a request by
  // its address. A prompt that is empty or longer than the context is an InputError thrown
  // when it is taken: a caller that wants to go on must check prompts before queueing.
  using SourceFinishedCallback = std::function<void(const GenerationRequest&, GenerationResult&&)>;
  using SourceTokenCallback = std::function<void(const GenerationRequest&, std::int32_t)>;
  void run_source(RequestSource& source, const SourceFinishedCallback& on_finished,
                  const SourceTokenCallback& on_token = {});

  // All results, in request order (run_continuous to completion).
  std::vector<GenerationResult> run(std::span<const GenerationRequest> requests,
                                    const TokenCallback& on_token = {});

  const GenerationTimings& timings() const { return timings_; }
  // Sampling from the device's summary of each row where the settings allow (on by
  // default); off, every pick reads the full row. The tokens are the same either way.
  void set_device_sampling(bool on) { device_sampling_ = on; }
  // Prefix caching (on by default): a prompt that starts like tokens already in a KV-cache
  // slot, a finished sequence's or a running one's, takes that prefix from there instead of
  // computing it again (Model::cached_tokens). The results are the same either way, bit for
  // bit; off, every prompt is computed whole.
  void set_prefix_reuse(bool on) { prefix_reuse_ = on; }

 private:
  void run_loop(RequestSource& source, const SourceFinishedCallback& on_finished,
                const SourceTokenCallback& on_token, const StopCheck& should_stop);

  Model& model_;
  std::optional<std::int32_t> eos_;
  GenerationTimings timings_;
  bool device_sampling_ = true;
  bool prefix_reuse_ = true;
};

}  // namespace sg::engine
