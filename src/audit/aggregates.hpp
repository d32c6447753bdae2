// A run's figures from its stored samples: computed from the store, not from what one
// process saw, so a run resumed five times has the same aggregates as one that ran once.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "db/records.hpp"

namespace sg::audit {

struct Interval {
  double value = 0;
  double low = 0;
  double high = 0;
};

// Mean with a 95 % percentile-bootstrap interval (2,000 resamples, fixed seed: the same
// values always give the same interval).
Interval bootstrap_mean(std::span<const double> values);

// Corpus perplexity exp(-sum(logprobs) / count) over texts, with a 95 % bootstrap interval
// resampling whole texts (their tokens are not independent).
Interval bootstrap_perplexity(std::span<const std::vector<double>> text_logprobs);

// perplexity.heldout over the held-out texts; per generation strategy,
// perplexity.sample (the model's perplexity of its own samples) and sample.tokens.
std::vector<db::Aggregate> run_aggregates(const std::vector<db::SampleRecord>& samples,
                                          const char* heldout_strategy);

}  // namespace sg::audit
