#include "engine/generator.hpp"

#include <chrono>

#include "common/errors.hpp"
#include "engine/token_choice.hpp"

namespace sg::engine {

namespace {

// One request in its KV-cache slot.
struct Sequence {
  Sequence(std::size_t index, const GenerationRequest& r) : request(index), chooser(r.params) {}

  std::size_t request;
  int pos = 0;  // tokens already in the KV cache; 0 until the prompt is prefilled
  TokenChooser chooser;
  std::int32_t next = 0;  // chosen but not yet fed to the model
  bool done = false;
  GenerationResult result;
};

void check_prompt(const GenerationRequest& r, int context) {
  if (r.prompt.empty()) throw InputError("generation needs a prompt of at least one token");
  if (static_cast<int>(r.prompt.size()) > context)
    throw InputError("the prompt has " + std::to_string(r.prompt.size()) +
                     " tokens but the model's context is " + std::to_string(context));
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::vector<GenerationResult> Generator::run(std::span<const GenerationRequest> requests,
                                             const TokenCallback& on_token) {
  std::vector<GenerationResult> results(requests.size());
  run_continuous(
      requests, [&](std::size_t i, GenerationResult&& r) { results[i] = std::move(r); }, {},
      on_token);
  return results;
}

void Generator::run_continuous(std::span<const GenerationRequest> requests,
                               const FinishedCallback& on_finished, const StopCheck& should_stop,
                               const TokenCallback& on_token) {
  timings_ = {};
  const int context = model_.context();
  for (const auto& r : requests) check_prompt(r, context);

  // Picks the next token of `s` from its raw logits; marks it done when finished.
  std::vector<float> work;
  auto choose = [&](Sequence& s, std::span<const float> logits) {
    const auto& req = requests[s.request];
    auto& res = s.result;
    if (static_cast<int>(res.tokens.size()) >= req.params.max_tokens) {
      res.finish_reason = "length";
      s.done = true;
      return;
    }
    GenerationState state{req.prompt, res.tokens};
    auto choice = s.chooser.choose(state, logits, work);
    for (auto& e : choice.events) res.events.push_back(std::move(e));
    if (!choice.token) {
      res.finish_reason = "content_filter";
      s.done = true;
      return;
    }
    const std::int32_t token = *choice.token;
    if (eos_ && token == *eos_ && !req.params.ignore_eos) {
      res.finish_reason = "stop";
      s.done = true;
      return;
    }
    res.tokens.push_back(token);
    res.logprobs.push_back(log_prob(logits, token));
    if (on_token) on_token(s.request, token);
    s.next = token;
    if (auto stop = s.chooser.after_accept(GenerationState{req.prompt, res.tokens})) {
      res.events.push_back(std::move(stop->event));
      res.finish_reason = std::move(stop->finish_reason);
      s.done = true;
      return;
    }
    // The chosen token would sit at position `pos`, which must be inside the context.
    if (static_cast<int>(res.tokens.size()) >= req.params.max_tokens || s.pos + 1 > context ||
        static_cast<int>(req.prompt.size() + res.tokens.size()) >= context) {
      res.finish_reason = "length";
      s.done = true;
    }
  };

  std::vector<std::optional<Sequence>> slots(static_cast<std::size_t>(model_.max_sequences()));
  std::size_t waiting = 0;  // the next request to start
  std::vector<SequenceChunk> chunks;
  std::vector<std::size_t> chunk_slot;
  for (;;) {
    if (should_stop && should_stop()) return;
    for (auto& slot : slots) {
      if (slot || waiting == requests.size()) continue;
      slot.emplace(waiting, requests[waiting]);
      ++waiting;
    }

    // Newcomers' prompts and everyone else's last token go into one forward call.
    chunks.clear();
    chunk_slot.clear();
    std::size_t prefill_tokens = 0;
    std::size_t decode_tokens = 0;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i]) continue;
      const auto& s = *slots[i];
      const int slot = static_cast<int>(i);
      if (s.pos == 0) {
        const auto& prompt = requests[s.request].prompt;
        chunks.push_back({slot, 0, prompt, false});
        prefill_tokens += prompt.size();
      } else {
        chunks.push_back({slot, s.pos, std::span(&s.next, 1), false});
        decode_tokens += 1;
      }
      chunk_slot.push_back(i);
    }
    if (chunks.empty()) return;

    const auto start = std::chrono::steady_clock::now();
    model_.forward(chunks, [&](std::size_t c, int, std::span<const float> logits) {
      auto& s = *slots[chunk_slot[c]];
      s.pos = s.pos == 0 ? static_cast<int>(requests[s.request].prompt.size()) : s.pos + 1;
      choose(s, logits);
    });
    const double seconds = seconds_since(start);
    const double total = static_cast<double>(prefill_tokens + decode_tokens);
    timings_.prefill_seconds += seconds * static_cast<double>(prefill_tokens) / total;
    timings_.prefill_tokens += prefill_tokens;
    timings_.decode_seconds += seconds * static_cast<double>(decode_tokens) / total;
    timings_.decode_tokens += decode_tokens;
    if (decode_tokens > 0) timings_.step_seconds.push_back(seconds);

    for (std::size_t i : chunk_slot) {
      auto& s = slots[i];
      if (!s->done) continue;
      const std::size_t index = s->request;
      GenerationResult result = std::move(s->result);
      s.reset();  // free before the callback, which may throw or stop the run
      on_finished(index, std::move(result));
    }
  }
}

}  // namespace sg::engine
