// The toxicity output filter, after generation (engine/completion_filter.hpp): the policy's
// scorer on the whole completion's text, and above its threshold the policy's action —
// refuse (finish reason "content_filter"), regenerate (up to `retries` more tries with new
// seeds, then refuse) or redact (each matched span replaced by "[redacted]"). Every
// intervention is a filter event "toxicity.output" with action "refuse", "regenerate" or
// "redact" and the detail
//   {"score": 0.93, "threshold": 0.5, "try": 0,
//    "matches": [{"term": "...", "severity": 2, "start": 4, "end": 9, "text": "f.u.c"}],
//    "scorer": {...the scorer's own detail...}}
// ("text" is the span as written; "try" counts from 0). The event keeps the evidence, not
// the whole refused text, so that a served request's log holds no more of a refused
// completion than its offending spans.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/completion_filter.hpp"
#include "tokenizer/tokenizer.hpp"
#include "toxicity/scorer.hpp"

namespace sg::detectors::toxicity {

inline constexpr std::string_view kOutputFilterName = "toxicity.output";

enum class OutputAction { kRefuse, kRegenerate, kRedact };

// "refuse", "regenerate", "redact"; throws std::invalid_argument naming the accepted ones.
OutputAction parse_output_action(std::string_view text);
std::string_view to_string(OutputAction action);

struct OutputFilterSettings {
  double threshold = 0.5;  // a completion scoring at least this is acted on
  OutputAction action = OutputAction::kRefuse;
  int retries = 3;  // regenerate: tries after the first before refusing
  std::string replacement = "[redacted]";
};

// The text with each [start, end) span of `matches` (merged where they overlap) replaced by
// `replacement`; throws std::out_of_range for a span outside the text.
std::string redact(std::string_view text, std::span<const Match> matches,
                   std::string_view replacement);

// `tokenizer` decodes the completions and must outlive the filter. Redacting needs a scorer
// that reports spans (the lexicon): a toxic completion without one is refused instead, its
// event saying so.
std::shared_ptr<engine::CompletionFilter> make_output_filter(std::unique_ptr<Scorer> scorer,
                                                             const tokenizer::Tokenizer& tokenizer,
                                                             OutputFilterSettings settings);

}  // namespace sg::detectors::toxicity
