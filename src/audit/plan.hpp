// An audit plan: which prompts, sampled with which decoding strategies, measured by which
// detectors. Read from an INI file (policies/plans/*.ini):
//
//   [prompts]
//   file = prompts.jsonl          # {"id": ..., "text": ...} per line; relative to the plan
//   [strategy.NAME]               # one per decoding setting
//   samples = 4                   # per prompt (required)
//   max_tokens = 64               # and every other key of decoding.hpp:
//   temperature = 1               # 0: greedy
//   top_k = 0                     # 0: off
//   top_p = 1
//   presence_penalty = 0.5        # ... the repetition controls, the loop stop
//   stop_on_loop = true
//   filters = toxicity            # ... the toxicity output filter (toxicity_scorer, _action...)
//   leakage_index = corpus.sgidx  # verbatim-leakage filter over this corpus index (relative
//   leakage_n = 32                #   to the plan); blocks spans of leakage_n tokens
//   [detectors]
//   enabled = perplexity          # comma-separated names from the detector registry
//   [perplexity]                  # each detector's settings, in a section of its name
//   heldout = heldout.jsonl
//   [memorization]
//   index = ../index/{stage}.sgidx  # `{stage}`: the audited stage (`audit --stage` or family.json)
//
// The sections a detector may have come from its registration (detectors/seam/registry.hpp):
// this reader knows no detector by name.
//
// The plan's identity is the hash of its canonical text: the parsed values (defaults filled
// in) and the SHA-256 of the files it names, so reordering, comments, spacing or moving the
// files keep it, and any changed value or file content changes it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/decoding.hpp"
#include "memorization/leakage_filter.hpp"
#include "seam/detector.hpp"
#include "seam/registry.hpp"
#include "seam/text_jsonl.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::audit {

// Decoding settings with a name and a number of samples per prompt.
struct Strategy : Decoding {
  std::string name;
  std::int64_t samples = 1;
  // The verbatim-leakage filter over an opened corpus index; null when off. It enters the
  // plan's hash by the index's corpus and tokenizer hashes, not its path.
  std::shared_ptr<const detectors::memorization::LeakageFilterFactory> leakage;
};

struct EnabledDetector {
  std::string name;
  std::unique_ptr<detectors::Detector> detector;
  detectors::Jobs jobs;  // what it contributes to every run of the plan
};

struct Plan {
  std::filesystem::path file;
  std::filesystem::path prompts_file;
  detectors::TextFile prompts;
  std::vector<Strategy> strategies;        // sorted by name
  std::vector<EnabledDetector> detectors;  // sorted by name

  // Throws InputError "FILE:LINE: KEY: message" for any unknown, repeated or bad setting,
  // and "FILE:LINE: ..." for a bad prompt or held-out line. `variables` replace their
  // `{name}` in string values before detectors read them (the audit passes `stage`).
  static Plan load(const std::filesystem::path& file,
                   const detectors::Registry& registry = detectors::builtin_registry(),
                   const std::map<std::string, std::string>& variables = {});

  // Every text the plan feeds the model, checked before any weight is uploaded: a prompt
  // must encode to at least one token, a text to score to at least two, and each must fit
  // the context. InputError "FILE:LINE: ..." naming the first that does not.
  void check_texts(const tokenizer::Tokenizer& tokenizer, int context) const;
  // InputError naming the index when a strategy's leakage index was built with another
  // tokenizer than the model's in `model_dir`.
  void check_indexes(const std::filesystem::path& model_dir) const;

  // The strategy named `name`; std::out_of_range when the plan has none.
  const Strategy& strategy(std::string_view name) const;

  std::string canonical_text() const;
  std::string hash() const;  // hex SHA-256 of canonical_text()
  // Samples the plan's strategies draw: prompts x samples, summed over strategies.
  std::int64_t samples_planned() const;
  // Every job of a run of the plan: those samples, and the detectors' texts and samples.
  std::int64_t jobs_planned() const;
};

}  // namespace sg::audit
