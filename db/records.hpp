// What the store holds, as C++ values. Times are ISO-8601 UTC text ("2024-05-01T12:00:00.000Z").
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::db {

struct CheckpointRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string sha256;   // identity: hex SHA-256 of the weight file(s)
  std::string path;
  std::string family;
  std::string stage;
  std::string architecture;  // "gpt2", "openai-gpt"
  std::int64_t parameters = 0;
  std::string config_json = "{}";
  std::string first_seen_at;  // set by the store
  std::string last_seen_at;   // set by the store
};

// kAbandoned: superseded by a newer run of the same plan on the same checkpoint (--new-run);
// never resumed.
enum class RunStatus { kRunning, kInterrupted, kCompleted, kFailed, kAbandoned };
std::string_view to_string(RunStatus status);

struct NewRun {
  std::int64_t checkpoint_id = 0;
  std::string plan_path;
  std::string plan_hash;
  std::string plan_text;  // the canonical plan the hash covers
  std::string tool_version;
  std::string tool_commit;
  std::string device;
  std::int64_t samples_planned = 0;
};

// The process that works a run now.
struct Lease {
  std::string host;
  std::int64_t pid = 0;
  std::string acquired_at;
  std::string heartbeat_at;
};

struct RunInfo {
  std::int64_t id = 0;
  std::int64_t checkpoint_id = 0;
  std::string checkpoint_sha256;
  std::string stage;
  std::string plan_path;
  std::string plan_hash;
  std::string tool_version;
  std::string tool_commit;
  std::string device;
  RunStatus status = RunStatus::kRunning;
  std::string started_at;
  std::optional<std::string> ended_at;
  std::string error;  // why a run failed or was interrupted
  std::int64_t samples_planned = 0;
  std::int64_t samples_done = 0;
  std::optional<Lease> lease;
};

struct ClaimResult {
  enum class Outcome {
    kClaimed,    // this process now works the run
    kHeld,       // a live process works it: `holder`
    kCompleted,  // nothing left to do; a fresh run is a new run
  };
  Outcome outcome = Outcome::kClaimed;
  // The previous holder had died (kill -9, crash, reboot): the run had been left 'running'
  // and was recorded as interrupted before this claim.
  bool recovered = false;
  std::optional<Lease> holder;  // kHeld: who; kClaimed with `recovered`: the dead holder
};

// How an audit starts on one (checkpoint, plan): see Store::start_run.
struct StartRunResult {
  enum class Outcome {
    kCreated,    // a new run, held by this process
    kResumed,    // the unfinished run, now held by this process
    kCompleted,  // the latest run is complete: nothing to do
    kHeld,       // a live process works the unfinished run: `holder`
  };
  Outcome outcome = Outcome::kCreated;
  std::int64_t run_id = 0;
  bool recovered = false;  // kResumed: its previous holder had died
  std::optional<Lease> holder;
  std::optional<std::int64_t> abandoned_run;  // kCreated with `fresh`: the run it superseded
};

struct PromptRecord {
  std::string id;      // unique in the run: "<source>:<id in the source>"
  std::string source;  // the set it came from: "prompts", or a detector's name
  std::string text;
};

struct DecodingSettings {
  double temperature = 1.0;
  std::int64_t top_k = 0;
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  std::int64_t no_repeat_ngram_size = 0;
  std::int64_t max_tokens = 64;
  // The other settings that are not at their defaults, as a JSON object keyed by their plan
  // names (src/audit/decoding.hpp): {"presence_penalty": 0.5, "stop_on_loop": true}.
  std::string decoding_json = "{}";
};

// What makes a sample unique in its run.
struct SampleKey {
  std::string strategy;
  std::string prompt_id;
  std::int64_t sample_index = 0;
  auto operator<=>(const SampleKey&) const = default;
};

struct MetricValue {
  std::string metric;  // stable dotted name, e.g. "repetition.seq_rep_4"
  double value = 0;
};

struct FilterEventRecord {
  std::int64_t id = 0;      // assigned by the store
  std::string occurred_at;  // the store's clock when empty
  std::string filter;       // e.g. "memorization.verbatim_block"
  std::string action;       // e.g. "blocked_token"
  std::optional<std::int64_t> run_id;
  std::optional<std::int64_t> sample_id;
  std::optional<std::int64_t> request_id;
  std::optional<std::int64_t> token_position;
  std::string detail_json = "{}";
};

// Why a detector gave a sample its figures (view v_evidence).
struct EvidenceRecord {
  std::string detector;
  std::string metric;  // "" when it explains several
  std::string kind;
  std::optional<std::int64_t> start_byte;  // [start, end) in the sample's text
  std::optional<std::int64_t> end_byte;
  std::string detail_json = "{}";
};

// A sample's evidence as a report shows it (views v_evidence, v_sample_metrics, v_samples).
struct EvidenceExample {
  std::int64_t run_id = 0;
  std::string stage;
  std::string strategy;
  std::string prompt_id;
  std::int64_t sample_index = 0;
  std::string detector;
  std::string metric;
  std::string kind;
  std::optional<double> value;  // the sample's figure for `metric`, when it has one
  std::optional<std::int64_t> start_byte;
  std::optional<std::int64_t> end_byte;
  std::string detail_json;
  std::string text;  // the sample's whole text
};

// How often one filter took one action, in one audit run or in served requests of a stage
// (view v_filter_events).
struct FilterEventCount {
  std::string stage;
  std::optional<std::int64_t> run_id;  // none: served requests (serve, generate --policy)
  std::string filter;
  std::string action;
  std::int64_t count = 0;
};

struct SampleRecord {
  std::int64_t id = 0;  // assigned by the store
  std::int64_t run_id = 0;
  SampleKey key;
  std::uint64_t seed = 0;
  DecodingSettings settings;
  std::vector<std::int32_t> token_ids;
  std::string text;
  std::vector<double> logprobs;  // raw model log-prob of each token; "scored": from the second
                                 // (the first token of a scored text is context only)
  std::string finish_reason;     // "stop", "length"; "scored" for a text scored, not generated
  std::vector<MetricValue> metrics;
  // Filters that acted while it was generated; stored with it (run and sample ids filled in).
  std::vector<FilterEventRecord> filter_events;
  std::vector<EvidenceRecord> evidence;  // stored with it; not read back by samples()
  std::string created_at;                // set by the store
  // Read back by the store, not written: the source of its prompt, and its token count.
  std::string source;
  std::int64_t token_count = 0;
};

// Which samples of a run to read, and which of their parts (select_samples).
struct SampleSelection {
  std::optional<std::string> source;
  std::optional<std::string> strategy;
  bool tokens = false;
  bool text = false;
  bool logprobs = false;
  // Metrics whose name starts with it ("" reads every metric); none when absent.
  std::optional<std::string> metric_prefix;
};

// A run's summary of one metric for one strategy ("" = all) and slice ("" = none, or e.g.
// "dup=5-16", "prompt=toxic"), with its interval when it has one.
struct Aggregate {
  std::string metric;
  std::string strategy;
  std::string slice;
  double value = 0;
  std::optional<double> ci_low;
  std::optional<double> ci_high;
  std::int64_t n = 0;
  auto operator<=>(const Aggregate&) const = default;
};

struct DecisionRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string stage;
  std::int64_t checkpoint_id = 0;
  std::string decision;  // "approved", "rejected", "pending", "revoked"
  std::string reason;
  std::string policy_path;
  std::string policy_hash;
  std::string evidence_json = "{}";
  std::string decided_by;
  std::string decided_at;  // the store's clock when empty
  std::optional<std::string> prev_hash;
  std::optional<std::string> hash;
};

// Where a new decision joins the chain, as Store::append_decision reads it inside its
// transaction.
struct ChainLink {
  std::int64_t sequence = 0;             // the new row's position: 1 for the first row
  std::optional<std::string> head_hash;  // the last row's hash; none when there is no row
  std::string checkpoint_sha256;         // of the checkpoint the row's checkpoint_id names
};

struct ServerRequestRecord {
  std::int64_t id = 0;      // assigned by the store
  std::string received_at;  // the store's clock when empty
  std::optional<std::string> finished_at;
  std::optional<std::int64_t> checkpoint_id;
  std::string stage;
  std::string client;
  std::string endpoint;
  std::string prompt_sha256;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t status_code = 0;
  std::string outcome;  // "ok", "filtered", "refused", "error"
  std::string settings_json = "{}";
  // Migration 0005; unset columns are stored NULL.
  std::optional<std::string> key_id;               // serve: the API key's id
  std::optional<std::string> finish_reasons_json;  // ["stop", "loop", ...], one per choice
  std::optional<double> latency_ms;                // received to answered
  std::optional<std::string> completion_sha256;    // of the completions as a JSON array
  std::optional<std::string> prompt_text;          // only where the audience logs text
  std::optional<std::string> completion_text;      // ditto: the completions as a JSON array
};

}  // namespace sg::db
