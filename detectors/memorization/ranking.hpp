// Carlini et al. 2021 ("Extracting Training Data from Large Language Models"): samples
// ranked by how much more likely the model finds them than a reference does (zlib, the
// lower-cased text, a smaller model of the family); a good ranking puts memorized samples
// on top.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sg::detectors::memorization {

// zlib entropy: the text's zlib-compressed size (default level), in bits.
double zlib_entropy_bits(std::string_view text);

struct RankedSample {
  double score = 0;  // lower = more likely memorized
  bool memorized = false;
};

// Memorized samples among the `top` lowest scores (ties keep the samples' order).
std::int64_t memorized_in_top(std::span<const RankedSample> samples, std::size_t top);

}  // namespace sg::detectors::memorization
