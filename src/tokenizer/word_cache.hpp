// A bounded memo of pre-token -> ids (as tiktoken keeps): most words recur, and BPE on a
// cached word is a hash lookup. Thread-safe; cleared wholesale when full, which keeps the
// bound without per-entry bookkeeping.
#pragma once

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sg::tokenizer {

class WordCache {
 public:
  explicit WordCache(std::size_t max_entries = 1 << 16) : max_(max_entries) {}

  // Appends the cached ids of `word` to out; false when absent.
  bool lookup(std::string_view word, std::vector<std::int32_t>& out) const {
    std::shared_lock lock(mutex_);
    auto it = map_.find(std::string(word));
    if (it == map_.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }

  void store(std::string_view word, const std::vector<std::int32_t>& ids) const {
    std::unique_lock lock(mutex_);
    if (map_.size() >= max_) map_.clear();
    map_.emplace(std::string(word), ids);
  }

 private:
  std::size_t max_;
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>> map_;
};

}  // namespace sg::tokenizer
