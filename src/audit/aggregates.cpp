#include "audit/aggregates.hpp"

#include <map>
#include <stdexcept>

#include "seam/intervals.hpp"

namespace sg::audit {

namespace {

std::vector<detectors::Aggregate> sample_lengths(detectors::RunReader& run) {
  std::map<std::string, std::vector<double>> lengths;
  for (const auto& s : run.samples({}))
    if (s.finish_reason != "scored")
      lengths[s.strategy].push_back(static_cast<double>(s.token_count));
  std::vector<detectors::Aggregate> out;
  for (const auto& [strategy, v] : lengths) {
    const auto iv = detectors::bootstrap_mean(v);
    out.push_back({kSampleTokensMetric, strategy, "", iv.value, iv.low, iv.high,
                   static_cast<std::int64_t>(v.size())});
  }
  return out;
}

void append(std::vector<db::Aggregate>& out, std::vector<detectors::Aggregate> from,
            const std::string& owner) {
  for (auto& a : from) {
    if (!a.metric.starts_with(owner + "."))
      throw std::logic_error("'" + owner + "' summarized '" + a.metric + "', outside its '" +
                             owner + ".' names");
    out.push_back({std::move(a.metric), std::move(a.strategy), std::move(a.slice), a.value,
                   a.ci_low, a.ci_high, a.n});
  }
}

}  // namespace

std::vector<db::Aggregate> run_aggregates(detectors::RunReader& run, const Plan& plan) {
  std::vector<db::Aggregate> out;
  for (const auto& d : plan.detectors) append(out, d.detector->summarize(run), d.name);
  append(out, sample_lengths(run), "sample");
  return out;
}

}  // namespace sg::audit
