#include "memorization/corpus_suffix.hpp"

#include <algorithm>
#include <span>

namespace sg::detectors::memorization {

CorpusSuffix::CorpusSuffix(const CorpusIndex& index, std::uint32_t cap)
    : index_(&index), cap_(cap), match_(index.all()) {
  tail_.reserve(2 * static_cast<std::size_t>(cap) + 1);
}

void CorpusSuffix::push(std::int32_t token) {
  ++pushed_;
  if (cap_ == 0) return;  // the empty suffix always occurs
  if (tail_.size() == 2 * static_cast<std::size_t>(cap_))
    tail_.erase(tail_.begin(), tail_.end() - static_cast<std::ptrdiff_t>(cap_) + 1);
  tail_.push_back(token);

  if (match_.depth < cap_) {
    const auto longer = index_->extend(match_, token);
    if (!longer.empty()) {
      match_ = longer;
      return;
    }
  }
  // The new match is a suffix of (old match + token) with at most min(old depth, cap)
  // tokens: a longer one would have extended above. Length 0 always occurs.
  const std::span<const std::int32_t> tail(tail_);
  std::uint32_t lo = 0, hi = std::min(match_.depth, cap_);
  CorpusIndex::Range best = index_->all();
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo + 1) / 2;
    const auto r = index_->find(tail.last(mid));
    if (r.empty()) {
      hi = mid - 1;
    } else {
      lo = mid;
      best = r;
    }
  }
  match_ = best;
}

}  // namespace sg::detectors::memorization
