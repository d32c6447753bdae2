// After-generation filters: a policy's judge of a whole finished completion (e.g. a toxicity
// scorer on its text), where the output filters of output_filter.hpp judge one token at a
// time. A verdict accepts the completion, refuses it (finish reason "content_filter", as the
// OpenAI API names it), asks for it to be generated again with a new seed, or redacts it
// (the text a user receives is rewritten). Every verdict other than accept is a FilterEvent
// in GenerationResult::events, so a reviewer sees each intervention and what it judged.
//
// What a result then carries (generator.hpp):
//   - refuse: no tokens, no log-probs, text "" — what a user would receive; the event's
//     detail keeps what was refused (the filter says what: score, matches, the text);
//   - redact: the model's tokens and log-probs as generated, and `text` the redacted text —
//     tokens cannot spell "[redacted]" with the model's own log-probs, and a reviewer keeps
//     the model's real output; whoever delivers text (generate, the audit store, the
//     server) delivers `text`;
//   - regenerate: the sequence starts again from its prompt in its slot, with the seed
//     retry_seed(seed, try); the events of the discarded try stay in the result, before its
//     "regenerate" event (their positions index that try's tokens).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/output_filter.hpp"

namespace sg::engine {

// A finished completion, as a filter judges it.
struct Completion {
  std::span<const std::int32_t> prompt;
  std::span<const std::int32_t> tokens;  // the new tokens; no end-of-text token
  std::string_view finish_reason;        // "stop", "length", "loop", ...
  int attempt = 0;                       // 0 for the first try, then 1, 2, ... per regeneration
};

struct Verdict {
  enum class Action { kAccept, kRefuse, kRegenerate, kRedact };
  Action action = Action::kAccept;
  FilterEvent event;  // unless kAccept: what it did and why
  std::string text;   // kRedact: the text delivered instead of the completion's
};

// Judges completions; shared by every request whose settings name it, so it must not keep
// per-sequence state. A filter that answers kRegenerate must answer otherwise once the
// attempt reaches its own bound: the generator retries as long as it is asked to.
class CompletionFilter {
 public:
  virtual ~CompletionFilter() = default;
  // One verdict per completion, in order. Completions finishing at the same step come in
  // one call, so a scorer that runs a model batches them; a verdict must not depend on
  // which completions share the call (the results stay batch invariant).
  virtual std::vector<Verdict> judge(std::span<const Completion> completions) = 0;
};

// The seed of a sequence's `attempt`-th try: the request's own seed for the first, so an
// accepted first try equals the unfiltered sample; a fixed mix of seed and attempt after.
std::uint64_t retry_seed(std::uint64_t seed, int attempt);

}  // namespace sg::engine
