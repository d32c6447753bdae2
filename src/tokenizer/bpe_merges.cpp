#include "tokenizer/bpe_merges.hpp"

#include <limits>

namespace sg::tokenizer {

void BpeMerges::add(std::int32_t left, std::int32_t right, std::int32_t merged) {
  table_.emplace(key(left, right), Merge{static_cast<std::int32_t>(table_.size()), merged});
}

void BpeMerges::apply(std::vector<std::int32_t>& s) const {
  constexpr Merge kNone{std::numeric_limits<std::int32_t>::max(), -1};
  if (s.size() < 2) return;
  // pair[i]: the merge of (s[i], s[i+1]), if any; kept up to date around each merge.
  std::vector<Merge> pair(s.size() - 1);
  auto merge_at = [&](std::size_t i) {
    const Merge* m = find(s[i], s[i + 1]);
    return m ? *m : kNone;
  };
  for (std::size_t i = 0; i + 1 < s.size(); ++i) pair[i] = merge_at(i);
  while (!pair.empty()) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < pair.size(); ++i)
      if (pair[i].rank < pair[best].rank) best = i;
    if (pair[best].merged < 0) break;
    s[best] = pair[best].merged;
    s.erase(s.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    pair.erase(pair.begin() + static_cast<std::ptrdiff_t>(best));
    if (best < pair.size()) pair[best] = merge_at(best);
    if (best > 0) pair[best - 1] = merge_at(best - 1);
  }
}

}  // namespace sg::tokenizer
