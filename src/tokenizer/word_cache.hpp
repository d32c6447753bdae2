// A bounded memo of pre-token -> ids (as tiktoken keeps): most words recur, and BPE on a
// cached word is a hash lookup. Thread-safe and split into shards with a lock each, so
// threads encoding different lines rarely wait on one another; a full shard is cleared
// wholesale, which keeps the bound without per-entry bookkeeping.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sg::tokenizer {

class WordCache {
 public:
  explicit WordCache(std::size_t max_entries = 1 << 16) : max_per_shard_(max_entries / kShards) {}

  // Appends the cached ids of `word` to out; false when absent.
  bool lookup(std::string_view word, std::vector<std::int32_t>& out) const {
    const auto& shard = shard_of(word);
    std::shared_lock lock(shard.mutex);
    auto it = shard.map.find(word);
    if (it == shard.map.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }

  void store(std::string_view word, const std::vector<std::int32_t>& ids) const {
    auto& shard = shard_of(word);
    std::unique_lock lock(shard.mutex);
    if (shard.map.size() >= max_per_shard_) shard.map.clear();
    shard.map.emplace(std::string(word), ids);
  }

 private:
  static constexpr std::size_t kShards = 64;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, std::vector<std::int32_t>, Hash, std::equal_to<>> map;
  };
  Shard& shard_of(std::string_view word) const { return shards_[Hash{}(word) % kShards]; }

  std::size_t max_per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace sg::tokenizer
