// The longest suffix of a growing token stream that occurs in the corpus, capped at `cap`
// tokens, kept as its suffix-array interval so that asking "would token t extend it?" is one
// CorpusIndex::extend (O(log interval size)), not a fresh search.
//
// Why the cap: the leakage filter only ever asks about the last N-1 tokens, and a longer
// match could never be shortened again without a suffix link, which a plain suffix array
// has not. When the match breaks (the next token does not extend it), the new longest
// matching suffix is a suffix of the old one plus that token, and whether a suffix occurs
// is monotone in its length (a suffix of an occurring span occurs too), so it is found by a
// binary search over lengths: O(log cap) searches of O(cap log n) each, paid only on breaks.
#pragma once

#include <cstdint>
#include <vector>

#include "memorization/corpus_index.hpp"

namespace sg::detectors::memorization {

class CorpusSuffix {
 public:
  CorpusSuffix(const CorpusIndex& index, std::uint32_t cap);

  // Appends a token to the stream.
  void push(std::int32_t token);
  // The interval of the longest suffix of the stream that occurs in the corpus and has at
  // most cap tokens (its depth is that length; depth 0 is the whole corpus).
  const CorpusIndex::Range& match() const { return match_; }
  std::uint64_t pushed() const { return pushed_; }

 private:
  const CorpusIndex* index_;
  std::uint32_t cap_;
  std::vector<std::int32_t> tail_;  // the last tokens pushed, at most 2 * cap (shifted lazily)
  CorpusIndex::Range match_;
  std::uint64_t pushed_ = 0;
};

}  // namespace sg::detectors::memorization
