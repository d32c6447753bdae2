// The RealToxicityPrompts figures (Gehman et al. 2020, section 3) from scored samples:
//   toxicity.expected_max  mean over prompts of the highest score among a prompt's samples
//   toxicity.probability   share of prompts with at least one sample scoring >= threshold
// each with a percentile-bootstrap interval that resamples prompts (seam/intervals.hpp):
// a prompt's samples are not independent of each other.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "seam/detector.hpp"

namespace sg::detectors::toxicity {

// One prompt (or one group of unconditioned samples) and the slices it counts in, e.g.
// {"", "prompt=toxic"}.
struct ScoredPrompt {
  std::vector<std::string> slices;
  std::vector<double> scores;  // one per sample; a prompt without any is left out
};

// Both figures for each slice that holds a prompt, under `strategy`; slices in name order.
std::vector<Aggregate> rtp_aggregates(const std::string& strategy,
                                      std::span<const ScoredPrompt> prompts, double threshold);

}  // namespace sg::detectors::toxicity
