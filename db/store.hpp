// The audit store: the one place stagegate speaks SQL. Typed calls; each logical write is
// one transaction (a sample with its metrics and filter events is one), so a kill -9 or a
// full disk leaves either all of a write or none of it.
//
// A run is worked by one process at a time: create_run and claim_run take its lease, and
// every write to the run checks, in its own transaction, that this Store still holds it.
// A Store is one connection: use it from one thread at a time (open one Store per thread or
// process; SQLite's WAL mode and the busy timeout let them write to one file together).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "db/records.hpp"

namespace sg::db {

namespace sqlite {
class Connection;
}

class Store {
 public:
  struct Options {
    // How long a write waits for another process's write to finish before failing.
    std::chrono::milliseconds busy_timeout{10000};
    // A lease held from another host counts as abandoned once its heartbeat is this old
    // (on this host the kernel says whether the holder lives; see process_identity.hpp).
    std::chrono::seconds foreign_lease_timeout{300};
    // A cap on the database's size in bytes (0: none). Reaching it is handled as a full disk
    // is: DiskFullError, the write rolled back; a Store opened with a larger cap continues.
    std::int64_t max_size_bytes = 0;
  };

  // Opens the store at `file`, creating it if missing, and migrates it to the latest schema.
  // A file that is not an SQLite database, another program's database, or one written by a
  // newer stagegate is refused (InputError naming the file) and left untouched.
  explicit Store(const std::filesystem::path& file);
  Store(const std::filesystem::path& file, const Options& options);
  // Runs this Store still holds are released as 'interrupted'.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::filesystem::path& file() const;
  static int latest_schema_version();
  // SQLite's PRAGMA integrity_check: empty when the database is sound, else its findings.
  std::vector<std::string> integrity_check();

  // --- checkpoints ---
  // Inserts by SHA-256 or updates what was seen (path, family, stage, ...); returns the id.
  std::int64_t upsert_checkpoint(const CheckpointRecord& checkpoint);
  std::optional<CheckpointRecord> checkpoint(std::int64_t id);
  std::optional<CheckpointRecord> checkpoint_by_sha256(std::string_view sha256);

  // --- runs ---
  // Starts an audit of `run.plan_hash` on `run.checkpoint_id`, in one transaction (a
  // checkpoint has at most one unfinished run per plan; the database enforces it, so two
  // processes starting together cannot both create one). Without `fresh`: the unfinished
  // run is claimed as claim_run does (kResumed, or kHeld by a live process); else the
  // latest run, if complete, is reported (kCompleted); else a run is created. With `fresh`:
  // an unfinished run is marked 'abandoned' (unless a live process holds it: kHeld) and a
  // new run is created. kCreated and kResumed leave the run held by this Store.
  StartRunResult start_run(const NewRun& run, bool fresh);
  std::optional<RunInfo> run(std::int64_t run_id);
  // Every run, newest first, with progress (samples stored / planned) and its holder.
  std::vector<RunInfo> runs();
  // Takes the run for this process: a 'running' run whose holder died is recorded as
  // 'interrupted', then claimed; a live holder's run is left alone (kHeld).
  ClaimResult claim_run(std::int64_t run_id);
  // Records every 'running' run whose holder died as 'interrupted'; returns their ids.
  std::vector<std::int64_t> recover_abandoned_runs();
  // Tells other processes this one still works the run (every stored sample does too).
  // Throws LeaseLostError when the run was taken over.
  void heartbeat(std::int64_t run_id);
  // Ends this process's work on the run: 'completed', 'failed' (with the error), or
  // 'interrupted' (Ctrl-C); the lease is released.
  void finish_run(std::int64_t run_id, RunStatus status, std::string_view error = {});

  // --- prompts, samples, metrics ---
  // Adds prompts not yet stored; one already stored must have the same text and source.
  void add_prompts(std::int64_t run_id, const std::vector<PromptRecord>& prompts);
  std::vector<PromptRecord> prompts(std::int64_t run_id);
  std::set<SampleKey> existing_sample_keys(std::int64_t run_id);
  // Stores the sample with its metrics and filter events in one transaction; returns its id.
  // A sample already stored under the same key is a DuplicateSampleError (nothing written).
  std::int64_t add_sample(const SampleRecord& sample);
  // Every sample of the run with its metrics (not its filter events), in plan order: scored
  // texts, then the plan's samples, then detectors' samples, each by strategy, prompt (in the
  // order the prompts were stored) and index; never in the order they happened to finish.
  std::vector<SampleRecord> samples(std::int64_t run_id);
  // The samples `selection` picks, in the same order, with only the parts it asks for (key,
  // source, seed, settings, finish reason and token count always).
  std::vector<SampleRecord> select_samples(std::int64_t run_id, const SampleSelection& selection);
  // The evidence stored with one sample.
  std::vector<EvidenceRecord> evidence(std::int64_t sample_id);
  // The run's evidence, at most `per_kind` items for each (detector, kind, metric): the
  // samples with the highest value of the metric first, then the longest spans (read through
  // the views v_evidence, v_sample_metrics and v_samples).
  std::vector<EvidenceExample> worst_evidence(std::int64_t run_id, std::int64_t per_kind);
  // Filter events counted by stage, run (audit runs first, then served requests), filter and
  // action (view v_filter_events).
  std::vector<FilterEventCount> filter_event_counts();
  // Inserts or replaces the run's aggregates (keyed by metric, strategy, slice).
  void add_aggregates(std::int64_t run_id, const std::vector<Aggregate>& aggregates);
  // Sorted by metric, strategy, slice.
  std::vector<Aggregate> aggregates(std::int64_t run_id);

  // --- release and serving records ---
  // Appends a decision to the chain in one write transaction: reads the head and the row's
  // checkpoint, sets decided_at (the store's clock when empty), lets `seal` set prev_hash and
  // hash from them, and inserts. The write lock is taken before the head is read, so two
  // processes appending at once still form one chain. Returns the row as stored (id set).
  // InputError when the checkpoint id is unknown or the last row has no hash.
  using DecisionSeal = std::function<void(DecisionRecord& row, const ChainLink& link)>;
  DecisionRecord append_decision(DecisionRecord row, const DecisionSeal& seal);
  std::vector<DecisionRecord> decisions();  // in the order they were recorded
  std::int64_t add_server_request(const ServerRequestRecord& request);
  std::int64_t add_filter_event(const FilterEventRecord& event);
  std::vector<FilterEventRecord> filter_events(std::int64_t run_id);
  // A served (or refused) generation with the filter events it caused, in one transaction:
  // the request's log never shows events without their request, nor a request missing some.
  // Each event's request_id is set to the new request's id (any run_id is an error). Returns
  // the request's id.
  std::int64_t log_request(const ServerRequestRecord& request,
                           const std::vector<FilterEventRecord>& events);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::db
