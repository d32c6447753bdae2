#include "serve/rate_limit.hpp"

namespace sg::serve {

namespace {
constexpr auto kWindow = std::chrono::seconds(60);
}

void RateLimiter::expire(Window& w, Clock::time_point now) {
  while (!w.requests.empty() && now - w.requests.front() >= kWindow) w.requests.pop_front();
  while (!w.tokens.empty() && now - w.tokens.front().first >= kWindow) {
    w.token_sum -= w.tokens.front().second;
    w.tokens.pop_front();
  }
}

std::optional<std::string> RateLimiter::admit(const std::string& key,
                                              std::int64_t requests_per_minute,
                                              std::int64_t tokens_per_minute,
                                              Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& w = windows_[key];
  expire(w, now);
  if (requests_per_minute > 0 &&
      static_cast<std::int64_t>(w.requests.size()) >= requests_per_minute)
    return "rate limit reached: " + std::to_string(requests_per_minute) +
           " requests per minute for this key's audience";
  if (tokens_per_minute > 0 && w.token_sum >= tokens_per_minute)
    return "rate limit reached: " + std::to_string(tokens_per_minute) +
           " tokens per minute for this key's audience";
  w.requests.push_back(now);
  return std::nullopt;
}

void RateLimiter::add_tokens(const std::string& key, std::int64_t tokens, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& w = windows_[key];
  expire(w, now);
  w.tokens.emplace_back(now, tokens);
  w.token_sum += tokens;
}

}  // namespace sg::serve
