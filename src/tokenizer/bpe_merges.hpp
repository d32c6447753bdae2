// Byte-pair merges by rank over token ids: the core both GPT-2's and GPT-1's BPE share.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace sg::tokenizer {

class BpeMerges {
 public:
  void add(std::int32_t left, std::int32_t right, std::int32_t merged);  // next rank
  std::size_t size() const { return table_.size(); }

  // Merges adjacent symbols in place, always the pair of lowest rank first (the leftmost
  // among equals), until no adjacent pair has a merge: tiktoken's and GPT-2's order.
  void apply(std::vector<std::int32_t>& symbols) const;

 private:
  struct Merge {
    std::int32_t rank;
    std::int32_t merged;
  };
  static std::uint64_t key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
  }
  const Merge* find(std::int32_t a, std::int32_t b) const {
    auto it = table_.find(key(a, b));
    return it == table_.end() ? nullptr : &it->second;
  }
  std::unordered_map<std::uint64_t, Merge> table_;
};

}  // namespace sg::tokenizer
