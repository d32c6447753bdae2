#include "memorization/verbatim.hpp"

namespace sg::detectors::memorization {

VerbatimSpan longest_span(std::span<const std::uint32_t> longest) {
  VerbatimSpan best;
  for (std::size_t i = 0; i < longest.size(); ++i)
    if (longest[i] > best.length) best = {i, longest[i]};
  return best;
}

void NoveltyCounts::add(std::span<const std::uint32_t> longest) {
  const std::size_t len = longest.size();
  for (std::size_t n = 1; n <= total.size() && n <= len; ++n) {
    std::uint64_t missing = 0;
    for (std::size_t i = 0; i + n <= len; ++i) missing += longest[i] < n;
    absent[n - 1] += missing;
    total[n - 1] += len - n + 1;
  }
}

std::vector<int> novelty_points() {
  std::vector<int> points(kNoveltyMaxN);
  for (int n = 1; n <= kNoveltyMaxN; ++n) points[static_cast<std::size_t>(n - 1)] = n;
  return points;
}

}  // namespace sg::detectors::memorization
