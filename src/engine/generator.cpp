#include "engine/generator.hpp"

#include <chrono>

#include "common/errors.hpp"

namespace sg::engine {

namespace {

struct Active {
  std::size_t request;
  int slot;
  int pos;  // tokens already in the KV cache
  Rng rng;
  ProcessorChain chain;
  std::int32_t next;  // chosen but not yet fed to the model
  bool done = false;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::vector<GenerationResult> Generator::run(std::span<const GenerationRequest> requests,
                                             const TokenCallback& on_token) {
  timings_ = {};
  std::vector<GenerationResult> results(requests.size());
  const auto group = static_cast<std::size_t>(model_.max_sequences());
  for (std::size_t begin = 0; begin < requests.size(); begin += group) {
    std::size_t n = std::min(group, requests.size() - begin);
    run_group(requests.subspan(begin, n), std::span(results).subspan(begin, n), begin, on_token);
  }
  return results;
}

void Generator::run_continuous(
    std::span<const GenerationRequest> requests,
    const std::function<void(std::size_t, GenerationResult&&)>& on_finished,
    const std::function<bool()>& should_stop) {
  const auto group = static_cast<std::size_t>(model_.max_sequences());
  for (std::size_t begin = 0; begin < requests.size(); begin += group) {
    if (should_stop && should_stop()) return;
    std::size_t n = std::min(group, requests.size() - begin);
    std::vector<GenerationResult> results(n);
    run_group(requests.subspan(begin, n), results, begin, {});
    for (std::size_t i = 0; i < n; ++i) on_finished(begin + i, std::move(results[i]));
  }
}

void Generator::run_group(std::span<const GenerationRequest> requests,
                          std::span<GenerationResult> results, std::size_t first_index,
                          const TokenCallback& on_token) {
  std::vector<Active> active;
  std::vector<SequenceChunk> chunks;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (r.prompt.empty()) throw InputError("generation needs a prompt of at least one token");
    if (static_cast<int>(r.prompt.size()) > model_.context())
      throw InputError("the prompt has " + std::to_string(r.prompt.size()) +
                       " tokens but the model's context is " + std::to_string(model_.context()));
    active.push_back({i, static_cast<int>(i), 0, Rng(r.params.seed), make_chain(r.params), 0});
    chunks.push_back({static_cast<int>(i), 0, r.prompt, false});
  }

  // Picks the next token of sequence `a` from its raw logits; marks it done when finished.
  std::vector<float> work;
  auto choose = [&](Active& a, std::span<const float> logits) {
    const auto& req = requests[a.request];
    auto& res = results[a.request];
    if (static_cast<int>(res.tokens.size()) >= req.params.max_tokens) {
      res.finish_reason = "length";
      a.done = true;
      return;
    }
    work.assign(logits.begin(), logits.end());
    GenerationState state{req.prompt, res.tokens};
    a.chain.apply(state, work);
    std::int32_t token = req.params.temperature > 0.0f ? sample(work, a.rng) : argmax(work);
    if (eos_ && token == *eos_ && !req.params.ignore_eos) {
      res.finish_reason = "stop";
      a.done = true;
      return;
    }
    res.tokens.push_back(token);
    res.logprobs.push_back(log_prob(logits, token));
    if (on_token) on_token(first_index + a.request, token);
    a.next = token;
    if (static_cast<int>(res.tokens.size()) >= req.params.max_tokens ||
        a.pos + 1 > model_.context() ||
        static_cast<int>(req.prompt.size() + res.tokens.size()) >= model_.context()) {
      res.finish_reason = "length";
      a.done = true;
    }
  };

  auto start = std::chrono::steady_clock::now();
  model_.forward(chunks, [&](std::size_t c, int, std::span<const float> logits) {
    auto& a = active[c];
    a.pos = static_cast<int>(requests[a.request].prompt.size());
    choose(a, logits);
  });
  timings_.prefill_seconds += seconds_since(start);
  for (const auto& r : requests) timings_.prefill_tokens += r.prompt.size();

  std::vector<std::size_t> live;
  std::vector<std::int32_t> feed;
  for (;;) {
    live.clear();
    for (std::size_t i = 0; i < active.size(); ++i)
      if (!active[i].done) live.push_back(i);
    if (live.empty()) break;
    feed.resize(live.size());
    chunks.clear();
    for (std::size_t j = 0; j < live.size(); ++j) {
      const auto& a = active[live[j]];
      feed[j] = a.next;
      chunks.push_back({a.slot, a.pos, std::span(&feed[j], 1), false});
    }
    start = std::chrono::steady_clock::now();
    model_.forward(chunks, [&](std::size_t c, int, std::span<const float> logits) {
      auto& a = active[live[c]];
      a.pos += 1;
      choose(a, logits);
    });
    timings_.step_seconds.push_back(seconds_since(start));
    timings_.decode_tokens += live.size();
  }
}

}  // namespace sg::engine
