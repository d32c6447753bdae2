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

std::string to_utf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) utf8::append(out, c);
  return out;
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  std::size_t i = 0;
  while (i < s.size()) out += utf8::next(s, i);
  return out;
}

// utf8proc's normalizations of valid UTF-8; `s` itself should utf8proc fail (out of memory).
std::u32string normalized(const std::u32string& s,
                          utf8proc_uint8_t* (*form)(const utf8proc_uint8_t*)) {
  const std::string bytes = to_utf8(s);
  std::unique_ptr<utf8proc_uint8_t, FreeDeleter> out(
      form(reinterpret_cast<const utf8proc_uint8_t*>(bytes.c_str())));
  if (!out) return s;
  return to_u32(reinterpret_cast<const char*>(out.get()));
}

bool is_cased(char32_t c) {
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

bool is_case_ignorable(char32_t c) {
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
         cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM ||
         cat == UTF8PROC_CATEGORY_SK || c == '\'' || c == '.' || c == ':';
}

// Capital sigma ends a word (Unicode's Final_Sigma): a cased letter before it and none after,
// looking past case-ignorable characters.
bool is_final_sigma(const std::u32string& word, std::size_t i) {
  std::size_t j = i;
  while (j > 0 && is_case_ignorable(word[j - 1])) --j;
  if (j == 0 || !is_cased(word[j - 1])) return false;
  std::size_t k = i + 1;
  while (k < word.size() && is_case_ignorable(word[k])) ++k;
  return k == word.size() || !is_cased(word[k]);
}

// Python's str.lower(), which Hugging Face's tokenizers call: the simple mappings plus the
// two that SpecialCasing.txt adds (final sigma; U+0130 -> "i" + combining dot above).
std::u32string lower(const std::u32string& word) {
  std::u32string out;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const char32_t c = word[i];
    if (c == 0x03A3 && is_final_sigma(word, i)) {
      out += U'\u03C2';
    } else if (c == 0x0130) {
      out += U"i\u0307";
    } else {
      out += static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
    }
  }
  return out;
}

// Decomposes (NFD) and drops non-spacing marks.
std::u32string without_accents(const std::u32string& word) {
  std::u32string out;
  for (char32_t c : normalized(word, utf8proc_NFD))
    if (category(c) != UTF8PROC_CATEGORY_MN) out += c;
  return out;
}

}  // namespace

std::vector<std::string> basic_tokenize(std::string_view text, const BasicOptions& options) {
  // Clean, and space out CJK ideographs (each becomes its own word). Line and paragraph
  // separators split words too, as Python's str.split() does in Hugging Face's tokenizer.
  std::u32string cleaned;
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t c = utf8::next(text, i);
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c) || category(c) == UTF8PROC_CATEGORY_ZL ||
        category(c) == UTF8PROC_CATEGORY_ZP) {
      cleaned += U' ';
    } else if (is_cjk(c)) {
      cleaned += U' ';
      cleaned += c;
      cleaned += U' ';
    } else {
      cleaned += c;
    }
  }
  cleaned = normalized(cleaned, utf8proc_NFC);
  const bool strip = options.strip_accents.value_or(options.lower_case);
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < cleaned.size()) {
    while (start < cleaned.size() && cleaned[start] == U' ') ++start;
    std::size_t end = start;
    while (end < cleaned.size() && cleaned[end] != U' ') ++end;
    if (end == start) break;
    auto word = cleaned.substr(start, end - start);
    if (options.lower_case) word = lower(word);
    if (strip) word = without_accents(word);
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
