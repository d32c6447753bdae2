// An audit plan: which prompts, sampled with which decoding strategies, measured by which
// detectors. Read from an INI file (policies/plans/*.ini):
//
//   [prompts]
//   file = prompts.jsonl          # {"id": ..., "text": ...} per line; relative to the plan
//   [strategy.NAME]               # one per decoding setting
//   samples = 4                   # per prompt (required)
//   max_tokens = 64
//   temperature = 1               # 0: greedy
//   top_k = 0                     # 0: off
//   top_p = 1
//   repetition_penalty = 1
//   no_repeat_ngram_size = 0
//   [detectors]
//   enabled = perplexity          # comma-separated
//   [perplexity]                  # one section per enabled detector, for its settings
//   heldout = heldout.jsonl
//   stride = 0                    # 0: half the context
//
// The plan's identity is the hash of its canonical text: the parsed values (defaults filled
// in) and the SHA-256 of the files it names, so reordering, comments, spacing or moving the
// files keep it, and any changed value or file content changes it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "audit/text_jsonl.hpp"

namespace sg::audit {

struct Strategy {
  std::string name;
  std::int64_t samples = 1;
  std::int64_t max_tokens = 64;
  double temperature = 1.0;
  std::int64_t top_k = 0;
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  std::int64_t no_repeat_ngram_size = 0;
};

struct PerplexitySettings {
  std::filesystem::path heldout;
  TextFile heldout_texts;
  std::int64_t stride = 0;  // 0: half the context
};

struct Plan {
  std::filesystem::path file;
  std::filesystem::path prompts_file;
  TextFile prompts;
  std::vector<Strategy> strategies;    // sorted by name
  std::vector<std::string> detectors;  // enabled, sorted
  std::optional<PerplexitySettings> perplexity;

  // Throws InputError "FILE:LINE: KEY: message" for any unknown, repeated or bad setting, and
  // "FILE:LINE: ..." for a bad prompt or held-out line.
  static Plan load(const std::filesystem::path& file);

  std::string canonical_text() const;
  std::string hash() const;  // hex SHA-256 of canonical_text()
  // Samples the plan's strategies draw: prompts x samples, summed over strategies.
  std::int64_t samples_planned() const;
};

// Detectors a plan may enable (each may have a section of the same name).
const std::vector<std::string>& known_detectors();

}  // namespace sg::audit
