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
//
// The dry_* keys other than dry_multiplier need DRY on, the loop_* keys need stop_on_loop:
// a setting that would change nothing is refused rather than silently kept (and hashed).
// The keys after no_repeat_ngram_size enter the canonical text and the stored settings only
// when they differ from their defaults, so plans and samples from before they existed keep
// their hashes and rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ini.hpp"
#include "db/records.hpp"
#include "engine/sampling.hpp"
#include "tokenizer/tokenizer.hpp"

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
// message" for a problem.
Decoding read_decoding(const ini::Document& doc, const std::string& section);

// "key = value\n" lines: the first six keys always, the others only when not at their default.
std::string canonical_decoding(const Decoding& d);

// As a sample stores them: the columns, and the other non-default keys as JSON.
db::DecodingSettings stored_decoding(const Decoding& d);

// The engine's settings (the seed left 0). The DRY breakers are spelled in the tokenizer's
// vocabulary; without a tokenizer, breakers are an InputError (token ids alone cannot say
// which tokens hold "\n").
engine::SamplingParams sampling_params(const Decoding& d, const tokenizer::Tokenizer* tokenizer);

}  // namespace sg::audit
