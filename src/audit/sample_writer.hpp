// Finished samples on their way to the store: each batch is measured by every enabled
// detector, then each sample is stored with its metrics and evidence in one transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "audit/jobs.hpp"
#include "audit/plan.hpp"
#include "db/store.hpp"

namespace sg::audit {

class SampleWriter {
 public:
  // `on_stored` runs after each stored sample; `store_seconds` accumulates time in the store.
  SampleWriter(db::Store& store, const Plan& plan, std::int64_t run_id, std::size_t batch,
               std::function<void()> on_stored, double& store_seconds);

  // Queues a finished sample of `job` (prompt_tokens: what it was generated from, empty for
  // a scored text); measures and stores the queue once it holds a batch.
  void add(const Job& job, std::vector<std::int32_t> prompt_tokens, db::SampleRecord sample);
  // Measures and stores what is queued.
  void flush();

 private:
  struct Pending {
    const Job* job;
    std::vector<std::int32_t> prompt_tokens;
    db::SampleRecord sample;
  };
  db::Store& store_;
  const Plan& plan_;
  std::int64_t run_id_;
  std::size_t batch_;
  std::function<void()> on_stored_;
  double& store_seconds_;
  std::vector<Pending> pending_;
};

}  // namespace sg::audit
