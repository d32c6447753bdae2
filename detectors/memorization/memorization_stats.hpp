// The arithmetic behind the memorization figures, apart from any model or index so that it
// can be checked against exact answers: binomial intervals for extraction and verbatim
// rates, duplication buckets, and canary exposure (Carlini et al. 2019) by exact rank or by
// the paper's sampling and distribution fit for spaces too large to enumerate.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "seam/intervals.hpp"

namespace sg::detectors::memorization {

// The duplication bucket of a sequence that occurs `count` times in the corpus, as the
// slice value: "1", "2-4", "5-16", "17-64", ">64" (Carlini et al. 2022's bins). count >= 1.
std::string dup_bucket(std::uint64_t count);

// Exposure = log2 |space| - log2 rank, rank counted from 1: the true secret's place among
// all candidates ordered by log-perplexity (lower first; ties count against the secret).
double exposure_from_rank(double space, double rank);

// Exact rank of `secret` among `candidates` (the whole space, the secret excluded or not:
// equal values are counted once for the secret itself).
std::int64_t exact_rank(double secret, std::span<const double> candidates);

// The paper's estimate for a large space: the candidates are a uniform sample of it; a
// skew-normal fitted to their log-perplexities (method of moments) gives the fraction of
// the space below the secret, rank = max(1, space x that fraction). Needs >= 3 candidates.
double estimated_rank(double secret, std::span<const double> sampled_candidates, double space);

}  // namespace sg::detectors::memorization
