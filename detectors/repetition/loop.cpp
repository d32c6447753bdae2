#include "repetition/loop.hpp"

#include <algorithm>

namespace sg::detectors::repetition {

std::optional<Loop> loop_with_period(std::span<const std::int32_t> tokens, int p, int min_length) {
  const auto n = static_cast<std::ptrdiff_t>(tokens.size());
  if (p < 1 || 3 * static_cast<std::ptrdiff_t>(p) > n) return std::nullopt;
  // Walk back from the last comparable pair while the period holds.
  std::ptrdiff_t start = n - p;
  while (start > 0 && tokens[static_cast<std::size_t>(start - 1)] ==
                          tokens[static_cast<std::size_t>(start - 1 + p)])
    --start;
  const std::ptrdiff_t length = n - start;
  if (length >= std::max<std::ptrdiff_t>(3 * static_cast<std::ptrdiff_t>(p), min_length))
    return Loop{p, static_cast<int>(length)};
  return std::nullopt;
}

std::optional<Loop> terminal_loop(std::span<const std::int32_t> tokens, int max_period,
                                  int min_length) {
  const auto n = static_cast<std::ptrdiff_t>(tokens.size());
  for (int p = 1; p <= max_period && 3 * static_cast<std::ptrdiff_t>(p) <= n; ++p)
    if (auto loop = loop_with_period(tokens, p, min_length)) return loop;
  return std::nullopt;
}

}  // namespace sg::detectors::repetition
