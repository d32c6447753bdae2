#include "memorization/ranking.hpp"

#include <zlib.h>
#include <algorithm>
#include <stdexcept>
#include <vector>

namespace sg::detectors::memorization {

double zlib_entropy_bits(std::string_view text) {
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::vector<Bytef> out(size);
  if (compress(out.data(), &size, reinterpret_cast<const Bytef*>(text.data()),
               static_cast<uLong>(text.size())) != Z_OK)
    throw std::runtime_error("zlib could not compress a sample");
  return 8.0 * static_cast<double>(size);
}

std::int64_t memorized_in_top(std::span<const RankedSample> samples, std::size_t top) {
  std::vector<std::size_t> order(samples.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return samples[a].score < samples[b].score;
  });
  std::int64_t hits = 0;
  for (std::size_t i = 0; i < std::min(top, order.size()); ++i) hits += samples[order[i]].memorized;
  return hits;
}

}  // namespace sg::detectors::memorization
