// The per-sample and corpus-level repetition figures (issue 13), on token ids: Welleck et
// al. 2020's seq-rep-n and rep-l, the zlib compression ratio of the text, the terminal loop
// (loop.hpp) and Li et al. 2016's distinct-n across samples. Pure functions: the detector,
// the `stagegate repetition` command and tools/repetition_reference.py agree on them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "repetition/loop.hpp"

namespace sg::detectors::repetition {

// The loop definition's bounds (issue 13): periods 1..256, runs of at least 16 tokens.
inline constexpr int kMaxLoopPeriod = 256;
inline constexpr int kMinLoopLength = 16;

// 1 - |unique n-grams| / |n-grams| of one sequence; 0 when it has fewer than n tokens.
double seq_rep(std::span<const std::int32_t> tokens, int n);

// The share of positions t >= 1 whose token occurs among the `window` tokens before it;
// 0 when there is no such position.
double rep_window(std::span<const std::int32_t> tokens, int window);

// zlib-compressed size (level 9) / raw size of `text`; nullopt for an empty text.
std::optional<double> zlib_ratio(std::string_view text);

struct SampleFigures {
  double seq_rep_2 = 0, seq_rep_3 = 0, seq_rep_4 = 0;
  double rep_16 = 0, rep_32 = 0, rep_128 = 0;
  std::optional<double> zlib_ratio;
  std::optional<Loop> loop;  // the terminal loop, if the sample ends in one
  int loop_start = 0;        // token index where the loop begins (with `loop`)
  double loop_fraction = 0;  // share of the tokens inside the loop; 0 without one
};

// Every per-sample figure of a sample's tokens and its text.
SampleFigures sample_figures(std::span<const std::int32_t> tokens, std::string_view text);

// Unique n-grams / all n-grams over every sequence together (n-grams never cross from one
// sequence into the next); 0 when there are none. A corpus figure with no bootstrap
// interval: resampling sequences with replacement repeats their n-grams and biases it low.
double distinct_n(std::span<const std::vector<std::int32_t>> sequences, int n);

}  // namespace sg::detectors::repetition
