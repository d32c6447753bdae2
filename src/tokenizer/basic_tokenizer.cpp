#include "tokenizer/basic_tokenizer.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "tokenizer/utf8.hpp"

namespace sg::tokenizer {

namespace {

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || category(c) == UTF8PROC_CATEGORY_ZS;
}

bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126))
    return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

struct FreeDeleter {
  void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};

// Lower-cases, decomposes (NFD) and drops non-spacing marks.
std::u32string lower_without_accents(const std::u32string& word) {
  std::string lowered;
  for (char32_t c : word)
    utf8::append(lowered,
                 static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
  std::unique_ptr<utf8proc_uint8_t, FreeDeleter> nfd(
      utf8proc_NFD(reinterpret_cast<const utf8proc_uint8_t*>(lowered.c_str())));
  std::u32string out;
  if (!nfd) return word;
  std::string_view s(reinterpret_cast<const char*>(nfd.get()));
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t c = utf8::next(s, i);
    if (category(c) != UTF8PROC_CATEGORY_MN) out += c;
  }
  return out;
}

std::string to_utf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) utf8::append(out, c);
  return out;
}

}  // namespace

std::vector<std::string> basic_tokenize(std::string_view text) {
  // Clean, and space out CJK ideographs (each becomes its own word).
  std::u32string cleaned;
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t c = utf8::next(text, i);
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      cleaned += U' ';
    } else if (is_cjk(c)) {
      cleaned += U' ';
      cleaned += c;
      cleaned += U' ';
    } else {
      cleaned += c;
    }
  }
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < cleaned.size()) {
    while (start < cleaned.size() && cleaned[start] == U' ') ++start;
    std::size_t end = start;
    while (end < cleaned.size() && cleaned[end] != U' ') ++end;
    if (end == start) break;
    auto word = lower_without_accents(cleaned.substr(start, end - start));
    std::u32string current;
    for (char32_t c : word) {
      if (is_punctuation(c)) {
        if (!current.empty()) words.push_back(to_utf8(current));
        current.clear();
        words.push_back(to_utf8(std::u32string(1, c)));
      } else if (is_whitespace(c)) {  // NFD never makes spaces, but keep words space-free
        if (!current.empty()) words.push_back(to_utf8(current));
        current.clear();
      } else {
        current += c;
      }
    }
    if (!current.empty()) words.push_back(to_utf8(current));
    start = end;
  }
  return words;
}

}  // namespace sg::tokenizer
