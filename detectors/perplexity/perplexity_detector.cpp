#include "perplexity/perplexity_detector.hpp"

#include <cmath>
#include <map>

#include "seam/intervals.hpp"
#include "seam/text_jsonl.hpp"

namespace sg::detectors {

namespace {

namespace fs = std::filesystem;

constexpr const char* kName = "perplexity";
// The strategy value of a scored held-out text in the store.
constexpr const char* kHeldoutStrategy = "perplexity.heldout";

class Perplexity : public Detector {
 public:
  Perplexity(fs::path heldout, TextFile texts, std::int64_t stride)
      : heldout_(std::move(heldout)), texts_(std::move(texts)), stride_(stride) {}

  std::string canonical_settings() const override {
    return std::string("[") + kName + "]\nheldout_sha256 = " + texts_.sha256 +
           "\nstride = " + std::to_string(stride_) + "\n";
  }

  Jobs jobs() const override {
    Jobs jobs;
    for (const auto& r : texts_.records)
      jobs.score.push_back({r.id, r.text, heldout_.string() + ":" + std::to_string(r.line),
                            kHeldoutStrategy, static_cast<int>(stride_)});
    return jobs;
  }

  void measure(std::span<const Sample> samples, std::span<Findings> out) override {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      if (s.logprobs.empty()) continue;
      const bool heldout = s.finish_reason == "scored" && s.source == kName;
      if (s.finish_reason == "scored" && !heldout) continue;  // another detector's text
      double sum = 0;
      for (double lp : s.logprobs) sum += lp;
      out[i].metrics.push_back({heldout ? "perplexity.heldout" : "perplexity.sample",
                                std::exp(-sum / static_cast<double>(s.logprobs.size()))});
    }
  }

  std::vector<Aggregate> summarize(RunReader& run) override {
    std::vector<Aggregate> out;
    auto add = [&](std::string metric, std::string strategy, const Interval& iv, std::size_t n) {
      out.push_back({std::move(metric), std::move(strategy), "", iv.value, iv.low, iv.high,
                     static_cast<std::int64_t>(n)});
    };
    SampleQuery heldout;
    heldout.source = kName;
    heldout.strategy = kHeldoutStrategy;
    heldout.logprobs = true;
    std::vector<std::vector<double>> texts;
    for (auto& s : run.samples(heldout)) texts.push_back(std::move(s.logprobs));
    if (!texts.empty()) add("perplexity.heldout", "", bootstrap_perplexity(texts), texts.size());

    SampleQuery generated;
    generated.metric_prefix = "perplexity.sample";
    std::map<std::string, std::vector<double>> by_strategy;
    for (const auto& s : run.samples(generated))
      for (const auto& m : s.metrics)
        if (m.name == "perplexity.sample") by_strategy[s.strategy].push_back(m.value);
    for (const auto& [strategy, v] : by_strategy)
      add("perplexity.sample", strategy, bootstrap_mean(v), v.size());
    return out;
  }

 private:
  fs::path heldout_;
  TextFile texts_;
  std::int64_t stride_;
};

}  // namespace

DetectorSpec perplexity_detector() {
  DetectorSpec spec;
  spec.name = kName;
  spec.section_required = true;
  spec.metrics = {"perplexity.heldout", "perplexity.sample"};
  spec.keys = {{"heldout", ini::Type::kString, true},
               {"stride", ini::Type::kInteger, false, ini::Range{0, 1 << 20}}};
  spec.make = [](const ini::Document& plan) -> std::unique_ptr<Detector> {
    const fs::path file = plan_relative(plan, *plan.string(kName, "heldout"));
    auto texts = read_named_text_file(plan, kName, "heldout", file);
    return std::make_unique<Perplexity>(file, std::move(texts),
                                        plan.integer(kName, "stride").value_or(0));
  };
  return spec;
}

}  // namespace sg::detectors
