// Decoding settings as people write them: the keys of an audit plan's [strategy.NAME]
// section (and of a policy's, later), the flags of `stagegate generate`, their canonical
// text (for the plan hash), their stored form, and the engine's SamplingParams they become.
// One table of keys and ranges serves all of them, so a setting means the same everywhere.
//
//   max_tokens = 64             # new tokens at most
//   temperature = 1             # 0: greedy
//   top_k = 0                   # 0: off
//   top_p = 1
//   repetition_penalty = 1      # CTRL's, as Hugging Face applies it; 1: off
//   no_repeat_ngram_size = 0    # 0: off
//   presence_penalty = 0        # OpenAI's, in [-2, 2]; counts the output only
//   frequency_penalty = 0       # OpenAI's, in [-2, 2]
//   dry_multiplier = 0          # DRY (llama.cpp's definition, engine/dry.hpp); 0: off
//   dry_base = 1.75
//   dry_allowed_length = 2
//   dry_penalty_last_n = -1     # tokens of prompt + output looked at; -1: all, 0: off
//   dry_sequence_breakers = ["\n", ":", "\"", "*"]   # a JSON array of strings
//   stop_on_loop = false        # end with finish reason "loop" once the output loops
//   loop_min_period = 1         # ... with a period in [loop_min_period, loop_max_period]
//   loop_max_period = 256
//   loop_min_repeats = 3        # ... over at least loop_min_repeats periods
//   loop_min_length = 16        # ... and at least this many tokens
//   filters =                   # after-generation filters, a list: "toxicity"
//   toxicity_scorer = lexicon   # toxicity.output's scorer: lexicon, classifier:DIR, self,
//                               #   self:DIR (a plan's DIR is relative to the plan)
//   toxicity_threshold = 0.5    # a completion scoring at least this is acted on
//   toxicity_action = refuse    # refuse | regenerate | redact (redact needs the lexicon)
//   toxicity_retries = 3        # regenerate: tries after the first, then refuse
//   toxicity_block_severity = 0 # in-loop lexicon block of terms this severe or worse; 0: off
//
// The dry_* keys other than dry_multiplier need DRY on, the loop_* keys need stop_on_loop,
// the toxicity_* keys but the block severity need `filters` to name toxicity, the retries
// need regenerate: a setting that would change nothing is refused rather than silently kept
// (and hashed).
// The keys after no_repeat_ngram_size enter the canonical text and the stored settings only
// when they differ from their defaults, so plans and samples from before they existed keep
// their hashes and rows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ini.hpp"
#include "db/records.hpp"
#include "engine/sampling.hpp"
#include "tokenizer/tokenizer.hpp"
#include "toxicity/scorer.hpp"

namespace sg::audit {

struct Decoding {
  std::int64_t max_tokens = 64;
  double temperature = 1.0;
  std::int64_t top_k = 0;
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  std::int64_t no_repeat_ngram_size = 0;
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  double dry_multiplier = 0.0;
  double dry_base = 1.75;
  std::int64_t dry_allowed_length = 2;
  std::int64_t dry_penalty_last_n = -1;
  std::vector<std::string> dry_sequence_breakers = {"\n", ":", "\"", "*"};  // llama.cpp's
  bool stop_on_loop = false;
  std::int64_t loop_min_period = 1;
  std::int64_t loop_max_period = 256;
  std::int64_t loop_min_repeats = 3;
  std::int64_t loop_min_length = 16;
  std::vector<std::string> filters;  // after-generation filters, in order
  std::string toxicity_scorer = "lexicon";
  double toxicity_threshold = 0.5;
  std::string toxicity_action = "refuse";
  std::int64_t toxicity_retries = 3;
  std::int64_t toxicity_block_severity = 0;
  // What the plan hash states for toxicity_scorer when it names files: their SHA-256, never
  // the path (read_decoding sets it); empty: the spec as written.
  std::string toxicity_scorer_identity;
};

// The keys above with their types and ranges, for a section's ini::Schema.
std::vector<ini::Key> decoding_keys();

// A setting that is out of range or contradicts another: the key and what is wrong.
struct DecodingProblem {
  std::string key;
  std::string message;
};
// The first problem of `d` (ranges as decoding_keys() states them, then the rules between
// keys), or nullopt; `set` names the keys the user gave (a rule may refuse a key given to no
// effect).
std::optional<DecodingProblem> check_decoding(const Decoding& d,
                                              const std::vector<std::string>& set);

// "["\n", ":"]" -> {"\n", ":"}; throws std::invalid_argument saying what is wrong.
std::vector<std::string> parse_breakers(std::string_view json_array);

// Reads the keys of `section` (defaults for those absent); an InputError "FILE:LINE: KEY:
// message" for a problem. A scorer's DIR is taken relative to the plan's folder.
Decoding read_decoding(const ini::Document& doc, const std::string& section);
// The values alone (defaults for keys absent), before any rule or range check and with a
// scorer's DIR as written: for readers that check them their own way (a policy's filters).
// A bad dry_sequence_breakers is still an InputError at its key.
Decoding read_decoding_values(const ini::Document& doc, const std::string& section);

// "key = value\n" lines: the first six keys always, the others only when not at their default.
std::string canonical_decoding(const Decoding& d);

// As a sample stores them: the columns, and the other non-default keys as JSON.
db::DecodingSettings stored_decoding(const Decoding& d);

// What the toxicity filters' scorer may need besides the tokenizer.
struct ScorerResources {
  detectors::ModelLoader* models = nullptr;  // loads classifier:DIR and self:DIR checkpoints
  // "self": the audited checkpoint, loaded a second time through `models` (the generator
  // holds the audited model's KV-cache slots, which a scorer must not overwrite).
  std::filesystem::path audited_dir;
  // Makes the scorer; null: detectors::toxicity::make_scorer.
  std::function<std::unique_ptr<detectors::toxicity::Scorer>(
      const detectors::toxicity::ScorerSpec&, const detectors::toxicity::ScorerContext&)>
      make_scorer;
};

// The engine's settings (the seed left 0). The DRY breakers are spelled in the tokenizer's
// vocabulary, and the toxicity filters decode and match with it; without a tokenizer, either
// is an InputError (token ids alone cannot say which tokens hold "\n").
engine::SamplingParams sampling_params(const Decoding& d, const tokenizer::Tokenizer* tokenizer,
                                       const ScorerResources& scorers = {});

}  // namespace sg::audit
