#include "engine/generator.hpp"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "common/errors.hpp"
#include "engine/model.hpp"
#include "engine/token_choice.hpp"

namespace sg::engine {

namespace {

// One request in its KV-cache slot.
struct Sequence {
  explicit Sequence(const GenerationRequest& r) : req(&r), chooser(r.params) {}

  const GenerationRequest* req;
  int pos = 0;           // tokens already in the KV cache; 0 until the prompt is prefilled
  int prefill_from = 0;  // the first prompt position its prefill computes (prefix caching)
  TokenChooser chooser;
  std::int32_t next = 0;  // chosen but not yet fed to the model
  bool done = false;
  int attempt = 0;  // regenerations so far
  GenerationResult result;
};

// Starts `s` again from its prompt (prefilled anew in its slot) with its next try's seed.
void restart(Sequence& s, const GenerationRequest& r) {
  ++s.attempt;
  SamplingParams params = r.params;
  params.seed = retry_seed(r.params.seed, s.attempt);
  s.chooser = TokenChooser(params);
  s.pos = 0;
  s.done = false;
  s.result.tokens.clear();
  s.result.logprobs.clear();
  s.result.top_logprobs.clear();
  s.result.prompt_logprobs.clear();
  s.result.prompt_top_logprobs.clear();
  s.result.finish_reason.clear();
  s.result.attempts = s.attempt + 1;
}

// Acts on one verdict; true when the completion stands and later filters may judge it.
bool apply(Verdict&& v, Sequence& s, const GenerationRequest& r) {
  auto& res = s.result;
  if (v.action == Verdict::Action::kAccept) return true;
  v.event.position = static_cast<std::int64_t>(res.tokens.size());
  res.events.push_back(std::move(v.event));
  switch (v.action) {
    case Verdict::Action::kRefuse:
      res.tokens.clear();
      res.logprobs.clear();
      res.text = std::string();
      res.finish_reason = "content_filter";
      return false;
    case Verdict::Action::kRedact:
      res.text = std::move(v.text);
      return false;
    case Verdict::Action::kRegenerate:
      restart(s, r);
      return false;
    case Verdict::Action::kAccept:
      break;
  }
  return true;
}

// Runs the after-generation filters on the sequences that finished this step, filter by
// filter: each filter judges at once every completion that reached it, then those it
// accepted go on to their next filter. A sequence asked to regenerate is no longer done.
void judge_finished(std::span<Sequence* const> finished) {
  std::vector<Sequence*> pending;
  for (Sequence* s : finished)
    if (!s->req->params.completion_filters.empty()) pending.push_back(s);
  for (std::size_t stage = 0; !pending.empty(); ++stage) {
    // Grouped by filter, in order of first appearance.
    std::vector<std::pair<CompletionFilter*, std::vector<Sequence*>>> groups;
    for (Sequence* s : pending) {
      auto* f = s->req->params.completion_filters[stage].get();
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const auto& group) { return group.first == f; });
      if (g == groups.end()) g = groups.insert(groups.end(), {f, {}});
      g->second.push_back(s);
    }
    std::vector<Sequence*> next;
    for (auto& [filter, members] : groups) {
      std::vector<Completion> completions;
      for (const Sequence* s : members)
        completions.push_back(
            {s->req->prompt, s->result.tokens, s->result.finish_reason, s->attempt});
      auto verdicts = filter->judge(completions);
      if (verdicts.size() != members.size())
        throw RuntimeError("an after-generation filter gave " + std::to_string(verdicts.size()) +
                           " verdicts for " + std::to_string(members.size()) + " completions");
      for (std::size_t k = 0; k < members.size(); ++k) {
        Sequence& s = *members[k];
        const auto& r = *s.req;
        if (apply(std::move(verdicts[k]), s, r) && stage + 1 < r.params.completion_filters.size())
          next.push_back(&s);
      }
    }
    pending = std::move(next);
  }
}

void check_prompt(const GenerationRequest& r, int context) {
  if (r.prompt.empty()) throw InputError("generation needs a prompt of at least one token");
  if (static_cast<int>(r.prompt.size()) > context)
    throw InputError("the prompt has " + std::to_string(r.prompt.size()) +
                     " tokens but the model's context is " + std::to_string(context));
}

// Hands out a fixed list of requests in order, then ends the run.
class SpanSource : public RequestSource {
 public:
  explicit SpanSource(std::span<const GenerationRequest> requests) : requests_(requests) {}
  const GenerationRequest* next() override {
    return waiting_ < requests_.size() ? &requests_[waiting_++] : nullptr;
  }
  bool cancelled(const GenerationRequest&) override { return false; }
  bool wait() override { return false; }
  std::size_t index_of(const GenerationRequest& r) const {
    return static_cast<std::size_t>(&r - requests_.data());
  }

 private:
  std::span<const GenerationRequest> requests_;
  std::size_t waiting_ = 0;
};

// Where the prompt of the newcomer in slot `i` starts being computed (prefix caching): after
// the longest prefix that its own slot holds, or another slot that no newcomer rewrites this
// step (a copy from there). Never the prompt's last token, whose logits pick the first new
// one; never for a request that wants every prompt row's log-probs. Null when a prompt being
// prefilled this step shares more: the newcomer then waits one step and copies from it.
std::optional<KvCopy> plan_prefix(const Model& model,
                                  std::span<const std::optional<Sequence>> slots, std::size_t i,
                                  std::span<const std::span<const std::int32_t>> prefilling) {
  const auto& req = *slots[i]->req;
  const int self = static_cast<int>(i);
  KvCopy best{self, self, 0};
  if (req.prompt_logprobs) return best;
  const std::size_t cap = req.prompt.size() - 1;
  auto shared = [&](std::size_t j) {
    return shared_prefix(model.cached_tokens(static_cast<int>(j)), req.prompt, cap);
  };
  best.positions = static_cast<int>(shared(i));  // its own slot needs no copy
  for (std::size_t j = 0; j < slots.size(); ++j) {
    if (j == i || (slots[j] && slots[j]->pos == 0)) continue;
    if (const auto n = shared(j); n > static_cast<std::size_t>(best.positions))
      best = {static_cast<int>(j), self, static_cast<int>(n)};
  }
  for (const auto prompt : prefilling)
    if (shared_prefix(prompt, req.prompt, cap) > static_cast<std::size_t>(best.positions))
      return std::nullopt;
  return best;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::string delivered_text(const GenerationResult& result, const tokenizer::Tokenizer& tokenizer) {
  return result.text ? *result.text : tokenizer.decode(result.tokens);
}

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
  const int context = model_.context();
  for (const auto& r : requests) check_prompt(r, context);
  SpanSource source(requests);
  SourceTokenCallback token_by_index;
  if (on_token)
    token_by_index = [&](const GenerationRequest& r, std::int32_t t) {
      on_token(source.index_of(r), t);
    };
  run_loop(
      source,
      [&](const GenerationRequest& r, GenerationResult&& result) {
        on_finished(source.index_of(r), std::move(result));
      },
      token_by_index, should_stop);
}

void Generator::run_source(RequestSource& source, const SourceFinishedCallback& on_finished,
                           const SourceTokenCallback& on_token) {
  run_loop(source, on_finished, on_token, {});
}

void Generator::run_loop(RequestSource& source, const SourceFinishedCallback& on_finished,
                         const SourceTokenCallback& on_token, const StopCheck& should_stop) {
  timings_ = {};
  const int context = model_.context();

  // Picks the next token of `s` from its raw logits; marks it done when finished.
  ChoiceScratch work;
  auto choose = [&](Sequence& s, std::span<const float> logits, const LogitSummary* summary) {
    const auto& req = *s.req;
    auto& res = s.result;
    if (static_cast<int>(res.tokens.size()) >= req.params.max_tokens) {
      res.finish_reason = "length";
      s.done = true;
      return;
    }
    GenerationState state{req.prompt, res.tokens};
    auto choice = s.chooser.choose(state, logits, work, summary);
    if (choice.token) ++(choice.from_summary ? timings_.summary_picks : timings_.full_row_picks);
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
    const float logit = logits[static_cast<std::size_t>(token)];
    res.logprobs.push_back(summary                 ? log_prob(*summary, logit)
                           : choice.raw_normalizer ? log_prob(*choice.raw_normalizer, logit)
                                                   : log_prob(logits, token));
    if (req.params.top_logprobs > 0) {
      auto top = summary ? top_log_probs(*summary, req.params.top_logprobs) : std::nullopt;
      res.top_logprobs.push_back(top ? std::move(*top)
                                     : top_log_probs(logits, req.params.top_logprobs));
    }
    if (on_token && req.params.completion_filters.empty()) on_token(req, token);
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
  std::vector<SequenceChunk> chunks;
  std::vector<KvCopy> copies;
  std::vector<std::span<const std::int32_t>> prefilling;  // prompts prefilled this step
  std::vector<std::size_t> chunk_slot;
  std::vector<Sequence*> finished;
  for (;;) {
    if (should_stop && should_stop()) return;
    for (auto& slot : slots) {
      if (!slot || !source.cancelled(*slot->req)) continue;
      const GenerationRequest& req = *slot->req;
      GenerationResult result = std::move(slot->result);
      result.finish_reason = "cancelled";
      slot.reset();
      on_finished(req, std::move(result));
    }
    for (std::size_t free = 0;; ++free) {
      while (free < slots.size() && slots[free]) ++free;
      if (free == slots.size()) break;
      const GenerationRequest* next = source.next();
      if (!next) break;
      check_prompt(*next, context);
      // The free slot whose cache already starts like this prompt, if any.
      std::size_t best = free, best_shared = 0;
      for (std::size_t i = free; prefix_reuse_ && i < slots.size(); ++i) {
        if (slots[i]) continue;
        const auto shared = shared_prefix(model_.cached_tokens(static_cast<int>(i)), next->prompt,
                                          next->prompt.size());
        if (shared > best_shared) std::tie(best, best_shared) = std::pair(i, shared);
      }
      slots[best].emplace(*next);
      if (best != free) --free;  // `free` is still free
    }

    // Newcomers' prompts and everyone else's last token go into one forward call.
    chunks.clear();
    chunk_slot.clear();
    copies.clear();
    prefilling.clear();
    std::size_t prefill_tokens = 0;
    std::size_t decode_tokens = 0;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i]) continue;
      auto& s = *slots[i];
      const int slot = static_cast<int>(i);
      std::optional<float> summarize;
      if (device_sampling_ && s.chooser.wants_summary())
        summarize = s.chooser.summary_temperature();
      if (s.pos == 0) {
        const auto& prompt = s.req->prompt;
        const auto reuse =
            prefix_reuse_ ? plan_prefix(model_, slots, i, prefilling) : KvCopy{slot, slot, 0};
        if (!reuse) continue;  // waits a step for a prompt that starts like it
        s.prefill_from = reuse->positions;
        if (reuse->from_slot != slot && reuse->positions > 0) copies.push_back(*reuse);
        prefilling.push_back(prompt);
        chunks.push_back({slot, s.prefill_from,
                          std::span(prompt).subspan(static_cast<std::size_t>(s.prefill_from)),
                          s.req->prompt_logprobs, summarize});
        prefill_tokens += prompt.size() - static_cast<std::size_t>(s.prefill_from);
        timings_.reused_tokens += static_cast<std::size_t>(s.prefill_from);
      } else {
        chunks.push_back({slot, s.pos, std::span(&s.next, 1), false, summarize});
        decode_tokens += 1;
      }
      chunk_slot.push_back(i);
    }
    if (chunks.empty()) {
      if (!source.wait()) return;
      continue;
    }

    const auto start = std::chrono::steady_clock::now();
    model_.copy_kv(copies);
    model_.forward(chunks, [&](std::size_t c, int token, std::span<const float> logits,
                               const LogitSummary* summary) {
      auto& s = *slots[chunk_slot[c]];
      const auto& prompt = s.req->prompt;
      const auto position = static_cast<std::size_t>(s.prefill_from + token);
      if (s.pos == 0 && position + 1 < prompt.size()) {
        // A prompt row (asked for with prompt_logprobs): the next prompt token's log-prob.
        const auto next = prompt[position + 1];
        s.result.prompt_logprobs.push_back(log_prob(logits, next));
        if (s.req->params.top_logprobs > 0)
          s.result.prompt_top_logprobs.push_back(top_log_probs(logits, s.req->params.top_logprobs));
        return;
      }
      s.pos = s.pos == 0 ? static_cast<int>(s.req->prompt.size()) : s.pos + 1;
      choose(s, logits, summary);
    });
    const double seconds = seconds_since(start);
    const double total = static_cast<double>(prefill_tokens + decode_tokens);
    timings_.prefill_seconds += seconds * static_cast<double>(prefill_tokens) / total;
    timings_.prefill_tokens += prefill_tokens;
    timings_.decode_seconds += seconds * static_cast<double>(decode_tokens) / total;
    timings_.decode_tokens += decode_tokens;
    if (decode_tokens > 0) timings_.step_seconds.push_back(seconds);

    finished.clear();
    for (std::size_t i : chunk_slot)
      if (slots[i]->done) finished.push_back(&*slots[i]);
    judge_finished(finished);

    for (std::size_t i : chunk_slot) {
      auto& s = slots[i];
      if (!s->done) continue;
      const GenerationRequest& req = *s->req;
      GenerationResult result = std::move(s->result);
      s.reset();  // free before the callback, which may throw or stop the run
      on_finished(req, std::move(result));
    }
  }
}

}  // namespace sg::engine
