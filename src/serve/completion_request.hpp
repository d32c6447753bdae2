// The body of POST /v1/completions, read and checked field by field as the OpenAI API
// defines it. Unknown fields are ignored, as that API does, so clients that send newer
// fields keep working; a known field with a wrong type or value is a 400 naming it. Fields
// the server cannot honour (best_of other than n, suffix, logit_bias)
// are refused rather than silently dropped.
//
// What needs the model (the prompt's tokens against its context, the policy's filters over
// the decoding) is checked later, by the server; this reader needs nothing but the text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::serve {

inline constexpr std::int64_t kDefaultMaxTokens = 16;  // the OpenAI API's default
inline constexpr std::int64_t kMaxN = 16;              // choices per prompt
inline constexpr std::size_t kMaxChoices = 64;         // prompts x n per request
inline constexpr std::size_t kMaxStops = 4;            // as the OpenAI API allows
inline constexpr int kMaxLogprobs = 5;                 // ditto
inline constexpr std::size_t kMaxStopBytes = 256;      // per stop sequence

struct CompletionRequest {
  std::string model;
  // Either texts (a string, or an array of strings) or token-id lists (an array of integers
  // is one prompt, an array of such arrays several), as the OpenAI API accepts both.
  std::vector<std::string> prompt_texts;
  std::vector<std::vector<std::int32_t>> prompt_ids;
  bool prompt_is_ids = false;
  std::int64_t max_tokens = kDefaultMaxTokens;
  // Unset: not given, so the stage's own defaults and the policy apply.
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<double> presence_penalty;
  std::optional<double> frequency_penalty;
  std::int64_t n = 1;
  std::vector<std::string> stop;
  std::optional<std::uint64_t> seed;  // a negative seed is taken modulo 2^64
  std::optional<int> logprobs;        // top alternatives per token, 0..5; unset: none
  bool echo = false;
  std::string user;
  bool stream = false;
  bool stream_include_usage = false;  // stream_options.include_usage

  std::size_t prompt_count() const {
    return prompt_is_ids ? prompt_ids.size() : prompt_texts.size();
  }
};

// Throws ApiError (400, naming the field) for a body that is not a JSON object, a missing
// model or prompt, or a field of the wrong type or out of range.
CompletionRequest parse_completion_request(std::string_view body);

}  // namespace sg::serve
