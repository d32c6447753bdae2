#include "tokenizer/utf8.hpp"

namespace sg::tokenizer::utf8 {

namespace {

std::uint8_t byte(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}

// The valid range of the second byte given the first (Unicode Table 3-7); the remaining
// continuation bytes are always 0x80..0xBF.
bool second_ok(std::uint8_t lead, std::uint8_t b) {
  if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
  if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
  if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  return b >= 0x80 && b <= 0xBF;
}

std::size_t expected_length(std::uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// How many bytes starting at i form a valid prefix of a sequence (the maximal subpart).
std::size_t valid_prefix(std::string_view s, std::size_t i) {
  std::uint8_t lead = byte(s, i);
  std::size_t len = expected_length(lead);
  if (len <= 1) return len;
  std::size_t k = 1;
  while (k < len && i + k < s.size()) {
    std::uint8_t b = byte(s, i + k);
    bool ok = k == 1 ? second_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) break;
    ++k;
  }
  return k;
}

}  // namespace

std::size_t sequence_length(std::string_view s, std::size_t i) {
  std::uint8_t lead = byte(s, i);
  std::size_t len = expected_length(lead);
  if (len == 0 || i + len > s.size()) return 0;
  return valid_prefix(s, i) == len ? len : 0;
}

std::optional<std::size_t> first_invalid(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (byte(s, i) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::string replace_invalid(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = sequence_length(s, i);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    out += "\xEF\xBF\xBD";
    std::size_t prefix = valid_prefix(s, i);
    i += prefix > 0 ? prefix : 1;
  }
  return out;
}

std::size_t incomplete_tail(std::string_view s) {
  for (std::size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    std::size_t i = s.size() - back;
    std::uint8_t b = byte(s, i);
    if (b >= 0x80 && b <= 0xBF) continue;  // a continuation byte: look further back
    std::size_t len = expected_length(b);
    if (len > back && valid_prefix(s, i) == back) return back;
    return 0;
  }
  return 0;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

char32_t next(std::string_view s, std::size_t& i) {
  std::uint8_t b = byte(s, i);
  std::size_t n = expected_length(b);
  if (n <= 1) {
    ++i;
    return b;
  }
  char32_t cp = b & (0xFF >> (n + 1));
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (byte(s, i + k) & 0x3F);
  i += n;
  return cp;
}

}  // namespace sg::tokenizer::utf8
