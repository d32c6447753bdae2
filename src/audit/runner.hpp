// Runs an audit plan on one checkpoint into the store: every text the detectors score, and
// every (strategy, prompt, sample) job, through the engine's sequence slots with
// continuous batching (a finished sequence's slot takes the next job at the next step);
// each finished sample is measured by every enabled detector and stored with its metrics
// and evidence in one transaction; then each detector summarizes the run. Resumable: jobs
// already stored are skipped, and each sample's seed depends only on the plan and the job,
// so with the engine's batch invariance a resumed run, or one with any number of slots,
// stores exactly what an uninterrupted one would have.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/plan.hpp"
#include "db/records.hpp"
#include "db/store.hpp"
#include "model/checkpoint.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::engine {
class Model;  // engine/model.hpp; referenced only, so the Vulkan headers stay out
}  // namespace sg::engine

namespace sg::audit {

struct RunnerOptions {
  bool new_run = false;                     // supersede an unfinished or completed run
  const std::atomic<bool>* stop = nullptr;  // set by Ctrl-C: stop after the current step
  // Called after each stored sample with (done, planned), for the progress bar.
  std::function<void(std::int64_t, std::int64_t)> on_progress;
};

struct RunSummary {
  std::int64_t run_id = 0;
  std::string outcome;  // "completed", "interrupted", "already completed"
  bool resumed = false;
  bool recovered = false;  // the run's previous process had died and the run was recovered
  std::optional<std::int64_t> abandoned_run;  // --new-run superseded this unfinished run
  std::int64_t planned = 0;
  std::int64_t done = 0;              // stored in all, this session included
  std::int64_t new_samples = 0;       // stored by this session
  int slots = 0;                      // sequences the engine ran at once
  std::int64_t generated_tokens = 0;  // new tokens sampled by this session
  double seconds = 0;
  double store_seconds = 0;  // of `seconds`, spent in the store (for the store-cost benchmark)
  std::vector<db::Aggregate> aggregates;
};

// The checkpoint an audit measures, as the store records it.
struct AuditTarget {
  db::CheckpointRecord checkpoint;  // sha256, path, family, stage, architecture, ...
  std::string device;
};

// The target for `checkpoint` (its weights hashed now: model::checkpoint_facts) audited as
// `stage` of `family` on `device`.
AuditTarget audit_target(const model::Checkpoint& checkpoint, std::string family, std::string stage,
                         std::string device);

class Runner {
 public:
  Runner(engine::Model& model, const tokenizer::Tokenizer& tokenizer, db::Store& store,
         const Plan& plan, AuditTarget target);
  RunSummary run(const RunnerOptions& options);

 private:
  engine::Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  db::Store& store_;
  const Plan& plan_;
  AuditTarget target_;
  std::string plan_hash_;
};

}  // namespace sg::audit
