#include "audit/sample_writer.hpp"

#include <chrono>
#include <stdexcept>

namespace sg::audit {

SampleWriter::SampleWriter(db::Store& store, const Plan& plan, std::int64_t run_id,
                           std::size_t batch, std::function<void()> on_stored,
                           double& store_seconds)
    : store_(store),
      plan_(plan),
      run_id_(run_id),
      batch_(std::max<std::size_t>(1, batch)),
      on_stored_(std::move(on_stored)),
      store_seconds_(store_seconds) {}

void SampleWriter::add(const Job& job, std::vector<std::int32_t> prompt_tokens,
                       db::SampleRecord sample) {
  sample.run_id = run_id_;
  pending_.push_back({&job, std::move(prompt_tokens), std::move(sample)});
  if (pending_.size() >= batch_) flush();
}

void SampleWriter::flush() {
  if (pending_.empty()) return;
  std::vector<detectors::Sample> views;
  for (const auto& p : pending_) {
    const auto& s = p.sample;
    views.push_back({p.job->source, p.job->local_id, s.key.strategy, s.key.sample_index,
                     *p.job->text, p.prompt_tokens, s.text, s.token_ids, s.logprobs,
                     s.finish_reason});
  }
  for (const auto& d : plan_.detectors) {
    std::vector<detectors::Findings> found(pending_.size());
    d.detector->measure(views, found);
    for (std::size_t i = 0; i < found.size(); ++i) {
      auto& sample = pending_[i].sample;
      for (auto& m : found[i].metrics) {
        // Metric names are the detector's own: policies and reports rely on the prefix.
        if (!m.name.starts_with(d.name + "."))
          throw std::logic_error("detector '" + d.name + "' measured '" + m.name +
                                 "', outside its '" + d.name + ".' names");
        sample.metrics.push_back({std::move(m.name), m.value});
      }
      for (auto& e : found[i].evidence)
        sample.evidence.push_back({d.name, std::move(e.metric), std::move(e.kind), e.start_byte,
                                   e.end_byte, std::move(e.detail_json)});
    }
  }
  // Stored one by one, each whole: a kill between two loses the later ones only, and the
  // resumed run redoes exactly those.
  std::size_t stored = 0;
  try {
    for (; stored < pending_.size(); ++stored) {
      const auto t0 = std::chrono::steady_clock::now();
      store_.add_sample(pending_[stored].sample);
      store_seconds_ +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (on_stored_) on_stored_();
    }
  } catch (...) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(stored));
    throw;
  }
  pending_.clear();
}

}  // namespace sg::audit
