#include "engine/dry.hpp"

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>

#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::engine {

namespace {

void add_tail(DryBreakers& out, std::int32_t head, std::vector<std::int32_t> tail) {
  auto& tails = out.tails_by_head[head];
  if (std::find(tails.begin(), tails.end(), tail) == tails.end()) tails.push_back(std::move(tail));
}

// z[k]: the length of the longest common prefix of `s` and s[k..] (z[0] = |s|), in linear
// time: a match found at k tells, for the positions it covers, what their matches start as.
std::vector<int> z_function(const std::vector<std::int32_t>& s) {
  const int n = static_cast<int>(s.size());
  std::vector<int> z(s.size(), 0);
  if (n > 0) z[0] = n;
  int left = 0, right = 0;  // [left, right): the rightmost match found so far
  for (int k = 1; k < n; ++k) {
    int len = k < right ? std::min(right - k, z[static_cast<std::size_t>(k - left)]) : 0;
    while (k + len < n && s[static_cast<std::size_t>(len)] == s[static_cast<std::size_t>(k + len)])
      ++len;
    z[static_cast<std::size_t>(k)] = len;
    if (k + len > right) {
      left = k;
      right = k + len;
    }
  }
  return z;
}

}  // namespace

DryBreakers dry_breakers(const tokenizer::Tokenizer& tokenizer,
                         std::span<const std::string> breakers) {
  DryBreakers out;
  const int vocab = tokenizer.vocab_size();
  std::vector<std::string> texts(static_cast<std::size_t>(vocab));
  for (std::int32_t id = 0; id < vocab; ++id) {
    const std::int32_t one[] = {id};
    texts[static_cast<std::size_t>(id)] = tokenizer.decode_bytes(one);
  }
  for (const auto& breaker : breakers) {
    if (breaker.empty()) continue;
    for (std::int32_t id = 0; id < vocab; ++id) {
      const std::string& text = texts[static_cast<std::size_t>(id)];
      if (text.find(breaker) != std::string::npos) {
        add_tail(out, id, {});
        continue;
      }
      // The token ends with the breaker's first `matched` bytes; the rest must follow.
      for (std::size_t pos = 0; pos < text.size(); ++pos) {
        const std::size_t matched = text.size() - pos;
        if (matched >= breaker.size() || text.compare(pos, matched, breaker, 0, matched) != 0)
          continue;
        const std::string rest = breaker.substr(matched);
        // A rest that starts inside a UTF-8 character has no encoding of its own.
        if (tokenizer::utf8::first_invalid(rest)) continue;
        add_tail(out, id, tokenizer.encode(rest));
      }
    }
  }
  return out;
}

void Dry::apply(const GenerationState& state, std::span<float> logits) {
  if (!p_.enabled()) return;
  const std::size_t total = state.prompt.size() + state.generated.size();
  const std::size_t window =
      p_.penalty_last_n < 0 ? total : std::min(total, static_cast<std::size_t>(p_.penalty_last_n));
  const int allowed = p_.allowed_length;
  if (window <= static_cast<std::size_t>(std::max(allowed, 0))) return;
  // The window reversed: r[0] is the last token.
  std::vector<std::int32_t> r;
  r.reserve(window);
  for (std::size_t i = 0; i < window; ++i) {
    const std::size_t from_end = total - 1 - i;
    r.push_back(from_end >= state.prompt.size() ? state.generated[from_end - state.prompt.size()]
                                                : state.prompt[from_end]);
  }
  const int n = static_cast<int>(window);

  // The most recent breaker, a head at r[i] whose tail follows it (r[i-1], r[i-2], ...), caps
  // repeats at the tokens after its end.
  int limit = n;
  if (p_.breakers) {
    for (int i = 0; i < n && limit == n; ++i) {
      auto it = p_.breakers->tails_by_head.find(r[static_cast<std::size_t>(i)]);
      if (it == p_.breakers->tails_by_head.end()) continue;
      int longest = -1;
      for (const auto& tail : it->second) {
        const int len = static_cast<int>(tail.size());
        if (len <= longest || len > i) continue;
        bool match = true;
        for (int k = 0; k < len && match; ++k)
          match = tail[static_cast<std::size_t>(k)] == r[static_cast<std::size_t>(i - 1 - k)];
        if (match) longest = len;
      }
      if (longest >= 0) limit = i - longest;
    }
  }
  if (limit < allowed) return;

  // z[k] of the reversed window is the longest suffix of the text that also ends k tokens
  // earlier, at position n-1-k; the token after that position, r[k-1], would extend it.
  const auto z = z_function(r);
  std::unordered_map<std::int32_t, int> longest_repeat;
  for (int k = 1; k < n; ++k) {
    const int len = std::min(z[static_cast<std::size_t>(k)], limit);
    if (len < allowed) continue;
    auto [it, fresh] = longest_repeat.try_emplace(r[static_cast<std::size_t>(k - 1)], len);
    if (!fresh) it->second = std::max(it->second, len);
  }

  // base^e stays below FLT_MAX for e <= log(FLT_MAX) / log(base).
  const double log_base = std::log(static_cast<double>(p_.base));
  const double max_exponent = log_base > 0 ? std::log(static_cast<double>(FLT_MAX)) / log_base
                                           : static_cast<double>(INT_MAX);
  for (const auto& [token, len] : longest_repeat) {
    if (token < 0 || static_cast<std::size_t>(token) >= logits.size()) continue;
    if (p_.breakers) {
      auto it = p_.breakers->tails_by_head.find(token);
      if (it != p_.breakers->tails_by_head.end() &&
          std::any_of(it->second.begin(), it->second.end(),
                      [](const auto& tail) { return tail.empty(); }))
        continue;
    }
    const double exponent = std::min(static_cast<double>(len - allowed), std::floor(max_exponent));
    logits[static_cast<std::size_t>(token)] -=
        static_cast<float>(p_.multiplier * std::pow(static_cast<double>(p_.base), exponent));
  }
}

}  // namespace sg::engine
