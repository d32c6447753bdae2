// The detector seam (shared/DESIGN.md, "Detector"): what every detector gives the audit
// runner, and what the runner gives it. A detector
//   - is registered by name with its INI section's keys (registry.hpp), and built from the
//     plan's section of that name;
//   - states its settings canonically, so they and the hashes of the files they name enter
//     the plan's hash;
//   - may contribute jobs: texts to score, prompts to sample from with its own settings;
//   - measures finished samples (a batch at a time) into named metrics and the evidence
//     behind them, stored with each sample in one transaction, so a resumed run is exact;
//   - summarizes a run into named aggregates with intervals, reading from the store only
//     what it asks for;
//   - may load a second model once per run.
// Detectors see the engine through its public interface and nothing of the store or SQL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sampling.hpp"
#include "model/checkpoint.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::engine {
class Model;  // engine/model.hpp; referenced only, so the Vulkan headers stay out
}  // namespace sg::engine

namespace sg::detectors {

// The source of the plan's own prompts; a detector's jobs have the detector's name.
inline constexpr std::string_view kPlanSource = "prompts";

struct Metric {
  std::string name;  // stable dotted name: "<detector>.<figure>", e.g. "repetition.seq_rep_4"
  double value = 0;
};

// Why a sample got its figures, for a reviewer (db/README.md, view v_evidence): a span of
// the sample's text, a corpus document, a loop, a matched term.
struct Evidence {
  std::string kind;    // e.g. "verbatim_span", "loop", "matched_term"
  std::string metric;  // the metric it explains; "" when several
  // [start_byte, end_byte) in the sample's text, when the evidence is a span of it.
  std::optional<std::int64_t> start_byte;
  std::optional<std::int64_t> end_byte;
  std::string detail_json = "{}";  // kind-specific facts: {"document": 17}, {"period": 4}
};

// A finished sample, as a detector measures it. Views: valid during the call only.
struct Sample {
  std::string_view source;     // kPlanSource, or the detector whose job it is
  std::string_view prompt_id;  // the id within its source
  std::string_view strategy;   // the plan's [strategy.NAME], or a detector's "<name>.<label>"
  std::int64_t index = 0;
  std::string_view prompt_text;
  std::span<const std::int32_t> prompt_tokens;  // empty for a scored text
  std::string_view text;                        // the continuation, or the scored text
  std::span<const std::int32_t> tokens;
  // Raw model log-prob of each token (a scored text's first token has none).
  std::span<const double> logprobs;
  std::string_view finish_reason;  // "stop", "length", or "scored"
};

struct Findings {
  std::vector<Metric> metrics;
  std::vector<Evidence> evidence;
};

// A text the runner scores (log-prob of every token after the first), e.g. held-out text.
struct ScoreJob {
  std::string id;        // unique among the detector's jobs
  std::string text;      // needs at least two tokens
  std::string origin;    // "FILE:LINE", for errors
  std::string strategy;  // "<detector>.<label>": its strategy value in the store
  int stride = 0;        // sliding-window stride for texts longer than the context; 0: half
  // Conditions the text's first token on the tokenizer's end-of-text token where it has one
  // (GPT-2's <|endoftext|>, as Hugging Face and lm-evaluation-harness score a document), so
  // that every token of the text gets a log-prob; the stored tokens then begin with it.
  bool after_end_of_text = false;
};

// A prompt the runner samples from with the detector's own settings.
struct GenerateJob {
  std::string id;
  std::string prompt;  // needs at least one token
  // When not empty, the prompt as token ids, fed exactly: a corpus sequence, whose decoded
  // text need not encode back to the same ids. `prompt` is then ignored; the store gets
  // the ids' decoding.
  std::vector<std::int32_t> prompt_tokens;
  std::string origin;
  std::string strategy;           // "<detector>.<label>": its own strategy value in the store
  engine::SamplingParams params;  // the seed is set by the runner, per sample
  std::int64_t samples = 1;
  // When not empty, the name of a plan [strategy.NAME] whose decoding (its filters
  // included) the samples are drawn with instead of `params`, but for `params.max_tokens`:
  // a detector's protocol fixes the length it measures, while the plan says how to decode
  // (e.g. with an output filter on, to compare with it off). Stored with those settings.
  std::string plan_strategy;
};

struct Jobs {
  std::vector<ScoreJob> score;
  std::vector<GenerateJob> generate;
};

// What a summary reads from the run's stored samples: only the parts it asks for.
struct SampleQuery {
  std::optional<std::string> source;    // only samples of this source
  std::optional<std::string> strategy;  // only samples of this strategy
  bool tokens = false;
  bool text = false;
  bool logprobs = false;
  // Metrics whose name starts with this ("" reads none); samples without one are still read.
  std::string metric_prefix;
};

struct StoredSample {
  std::string source;
  std::string prompt_id;  // within its source
  std::string strategy;
  std::int64_t index = 0;
  std::string finish_reason;
  std::int64_t token_count = 0;  // always read
  std::vector<std::int32_t> tokens;
  std::string text;
  std::vector<double> logprobs;
  std::vector<Metric> metrics;
};

class RunReader {
 public:
  virtual ~RunReader() = default;
  // In plan order (scored texts, the plan's samples, detectors' samples; each by strategy,
  // prompt and index), never in the order they finished: summaries do not depend on
  // batching or resumption.
  virtual std::vector<StoredSample> samples(const SampleQuery& query) = 0;
};

// A run's summary of one metric for one strategy ("" = all) and slice ("" = none, else
// `key=value` such as "dup=17-64"), with a 95 % interval when it has one.
struct Aggregate {
  std::string metric;
  std::string strategy;
  std::string slice;
  double value = 0;
  std::optional<double> ci_low;
  std::optional<double> ci_high;
  std::int64_t n = 0;
};

// A second model a detector uses (a smaller stage, a classifier), on the audit's device.
struct AuxiliaryModel {
  const model::Checkpoint& checkpoint;
  engine::Model& engine;
  const tokenizer::Tokenizer* tokenizer;  // null when the directory has none
};

class ModelLoader {
 public:
  virtual ~ModelLoader() = default;
  // Loads the checkpoint in `dir` once per run; later calls return the same model.
  virtual AuxiliaryModel load(const std::filesystem::path& dir) = 0;
};

// What the runner lends a detector for a run.
struct RunContext {
  engine::Model& model;
  const tokenizer::Tokenizer& tokenizer;
  ModelLoader& models;
  // The audited checkpoint's directory (its tokenizer files: an index built with another
  // tokenizer must be refused).
  std::filesystem::path model_dir;
};

class Detector {
 public:
  virtual ~Detector() = default;

  // Its section as it enters the plan's hash: "[name]\nkey = value\n...", values with
  // defaults filled in, files by SHA-256 and never by path.
  virtual std::string canonical_settings() const = 0;
  // Its own jobs (fixed by the plan: called once when the plan is read).
  virtual Jobs jobs() const { return {}; }
  // Once per run, before any job runs.
  virtual void prepare(RunContext&) {}
  // Appends to out[i] what it finds in samples[i]; may ignore samples it has nothing to say
  // about (every finished sample of the run is offered, whatever its source).
  virtual void measure(std::span<const Sample> samples, std::span<Findings> out) = 0;
  // The run's figures, from the stored samples.
  virtual std::vector<Aggregate> summarize(RunReader& run) = 0;
};

}  // namespace sg::detectors
