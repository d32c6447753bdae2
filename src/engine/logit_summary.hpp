// What the sampler needs of one row of logits, computed on the device
// (shaders/logit_summary.comp) so that a decode step reads back a few kilobytes per
// sequence instead of the whole vocabulary: the maximum and its id, the softmax normalizer,
// and every logit above a bound with its id. Lanes of the shader each keep the best few of
// their share of the vocabulary; merged, they list exactly the ids whose logit is above the
// best unlisted one (`rest_max`), which is what lets greedy, top-k and top-p decide from
// the list alone (sparse_logits.hpp) or say that they cannot.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace sg::engine {

// The shader's shape: lanes per row, best logits kept per lane, words per lane record.
inline constexpr int kSummaryLanes = 256;
inline constexpr int kSummaryKeep = 8;
inline constexpr int kSummaryWords = 4 + 2 * kSummaryKeep;

struct LogitSummary {
  float max = 0;              // the largest logit
  std::int32_t argmax = 0;    // its lowest id
  double log_total = 0;       // log sum_j exp(l_j - max): log-prob of j = l_j - max - log_total
  float temperature = 1;      // the temperature `tempered_total` was computed at
  double tempered_total = 0;  // sum_j exp((l_j - max) / temperature)
  // Every id whose logit is above rest_max, by logit (largest first), then id.
  std::vector<std::pair<std::int32_t, float>> top;
  float rest_max = 0;  // no id missing from `top` has a larger logit; -inf: none is missing
  int vocab = 0;
};

// The order of a summary's list: the larger logit first, then the lower id (argmax's and
// top_log_probs's tie rule).
// A function object rather than a function, so that std::sort inlines it.
inline constexpr auto ranks_above = [](const std::pair<std::int32_t, float>& a,
                                       const std::pair<std::int32_t, float>& b) {
  return a.second > b.second || (a.second == b.second && a.first < b.first);
};

// Merges one row's lane records (kSummaryLanes of kSummaryWords words each), lane by lane in
// order, so the result does not depend on the batch. Null when the row holds a NaN or an
// infinity (the host path then decides what they mean).
std::optional<LogitSummary> merge_lanes(std::span<const std::uint32_t> records, int vocab,
                                        float temperature);

// log softmax(row)[id] as log_prob (sampling.hpp) gives it, from the summary and the id's
// logit; the normalizer is the device's float sum (within ~1e-5 relative).
double log_prob(const LogitSummary& summary, float logit);

// top_log_probs (sampling.hpp) from the summary: null when it lists fewer than `n` ids.
std::optional<std::vector<std::pair<std::int32_t, double>>> top_log_probs(
    const LogitSummary& summary, int n);

// The shader's records for one row, computed on the CPU: the reference its test compares
// against.
std::vector<std::uint32_t> lane_records_reference(std::span<const float> logits, float temperature);

}  // namespace sg::engine
