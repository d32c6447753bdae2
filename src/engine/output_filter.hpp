// Generation-time filters that judge the token actually chosen, rather than reshaping the
// whole distribution as a logits processor does: a filter may veto the chosen token (it is
// masked, the rest renormalized, and the next token drawn again under the same rules) or end
// the generation. Each action is an event a reviewer can audit (the store's filter_events),
// which a processor that silently pre-masks every offending token could not give: the
// verbatim-leakage filter blocks only what would really have been emitted, and a loop stop
// names the loop it stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/logits_processor.hpp"

namespace sg::engine {

struct FilterEvent {
  std::string filter;         // e.g. "memorization.leakage", "repetition.loop_stop"
  std::string action;         // "block" or "stop"
  std::int64_t position = 0;  // index in the output of the token acted on
  std::string detail_json = "{}";
};

struct FilterStop {
  std::string finish_reason;  // the generation's finish reason, e.g. "loop"
  FilterEvent event;
};

// One sequence's filter (it may keep incremental state across calls).
class OutputFilter {
 public:
  virtual ~OutputFilter() = default;
  // `token` is about to follow state.generated; an event when it must not.
  virtual std::optional<FilterEvent> veto(const GenerationState& state, std::int32_t token) = 0;
  // state.generated has just grown by an accepted token; a stop when generation must end.
  virtual std::optional<FilterStop> stop(const GenerationState&) { return std::nullopt; }
};

// Makes a fresh filter for every sequence; shared by the requests that use it.
class OutputFilterFactory {
 public:
  virtual ~OutputFilterFactory() = default;
  virtual std::unique_ptr<OutputFilter> make() const = 0;
};

}  // namespace sg::engine
