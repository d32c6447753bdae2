// Per-key limits of a policy's audience (requests_per_minute, tokens_per_minute), over a
// sliding window of the last 60 seconds, as the OpenAI API applies its own: a request over a
// limit gets 429 and does not count.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sg::serve {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Counts a request for `key` unless it is over a limit (0: none); otherwise says which.
  // Tokens are those of requests already finished in the window.
  std::optional<std::string> admit(const std::string& key, std::int64_t requests_per_minute,
                                   std::int64_t tokens_per_minute, Clock::time_point now);
  // Adds a finished request's tokens (prompt and completion) to the key's window.
  void add_tokens(const std::string& key, std::int64_t tokens, Clock::time_point now);

 private:
  struct Window {
    std::deque<Clock::time_point> requests;
    std::deque<std::pair<Clock::time_point, std::int64_t>> tokens;
    std::int64_t token_sum = 0;
  };
  void expire(Window& w, Clock::time_point now);

  std::mutex mutex_;
  std::map<std::string, Window> windows_;
};

}  // namespace sg::serve
