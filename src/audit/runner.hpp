// Runs an audit plan on one checkpoint into the store: every (strategy, prompt, sample) job
// and every held-out text, in batches on the engine, each sample stored with its metrics in
// one transaction; then the run's aggregates. Resumable: jobs already stored are skipped,
// and each sample's seed depends only on the plan and the job, so with the engine's batch
// invariance a resumed run stores exactly what an uninterrupted one would have.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "audit/plan.hpp"
#include "db/records.hpp"
#include "db/store.hpp"
#include "engine/model.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::audit {

// The strategy name under which held-out texts are scored (a plan's strategy names are
// plain identifiers, so it cannot clash with one).
inline constexpr const char* kHeldoutStrategy = "perplexity.heldout";

struct RunnerOptions {
  bool new_run = false;                     // start a fresh run even when an unfinished one exists
  const std::atomic<bool>* stop = nullptr;  // set by Ctrl-C: stop after the current sample
  // Called after each stored sample with (done, planned), for the progress bar.
  std::function<void(std::int64_t, std::int64_t)> on_progress;
};

struct RunSummary {
  std::int64_t run_id = 0;
  std::string outcome;  // "completed", "interrupted", "already completed"
  bool resumed = false;
  bool recovered = false;  // the run's previous process had died and the run was recovered
  std::int64_t planned = 0;
  std::int64_t done = 0;         // stored in all, this session included
  std::int64_t new_samples = 0;  // stored by this session
  double seconds = 0;
  double store_seconds = 0;  // of `seconds`, spent in the store (for the store-cost benchmark)
  std::vector<db::Aggregate> aggregates;
};

struct AuditTarget {
  db::CheckpointRecord checkpoint;  // sha256, path, family, stage, architecture, ...
  std::string device;
};

class Runner {
 public:
  Runner(engine::Model& model, const tokenizer::Tokenizer& tokenizer, db::Store& store,
         const Plan& plan, AuditTarget target);
  RunSummary run(const RunnerOptions& options);

 private:
  struct Job;
  std::vector<Job> jobs() const;
  std::vector<db::PromptRecord> prompt_records() const;
  db::SampleRecord generate_one(const Job& job, const std::vector<std::int32_t>& tokens,
                                const std::vector<double>& logprobs,
                                const std::string& finish_reason) const;
  db::SampleRecord score_one(const Job& job) const;
  std::vector<db::Aggregate> aggregate(std::int64_t run_id);

  engine::Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  db::Store& store_;
  const Plan& plan_;
  AuditTarget target_;
  std::string plan_hash_;
};

}  // namespace sg::audit
