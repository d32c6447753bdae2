// Verbatim overlap of generated text with the training corpus, from the index's longest
// matches (l_i = the longest corpus span starting at token i): the longest verbatim span
// of a sample, and the novelty curve (the share of its n-grams absent from the corpus).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sg::detectors::memorization {

struct VerbatimSpan {
  std::size_t start = 0;     // token position of the first longest span
  std::uint32_t length = 0;  // 0 when not even one token occurs
};

VerbatimSpan longest_span(std::span<const std::uint32_t> longest);

// n-grams (n = 1..max_n) of texts, and how many of them are absent from the corpus: the
// n-gram at i is absent exactly when l_i < n.
struct NoveltyCounts {
  explicit NoveltyCounts(int max_n)
      : absent(static_cast<std::size_t>(max_n), 0), total(static_cast<std::size_t>(max_n), 0) {}
  std::vector<std::uint64_t> absent;  // [n - 1]
  std::vector<std::uint64_t> total;   // [n - 1]
  void add(std::span<const std::uint32_t> longest);
};

// The n at which the audit stores the novelty curve: every n from 1 to 100 (the run summary
// prints it as one row per strategy; see cli/run_report.hpp).
inline constexpr int kNoveltyMaxN = 100;
std::vector<int> novelty_points();

}  // namespace sg::detectors::memorization
