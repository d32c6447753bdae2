// Folds a text into the form the lexicon is matched in, keeping for every character of that
// form the bytes of the original text it came from, so a match is reported where it was
// written. Per code point, with Unicode data from ICU rather than hand-typed tables:
//   - format and other default-ignorable characters (zero-width space and joiners, soft
//     hyphen, word joiner, variation selectors) and combining marks (accents) are dropped;
//   - NFKD maps compatibility forms (fullwidth letters, ligatures, circled and styled
//     letters) to their plain letters and splits accented letters; case is folded;
//   - what is still not ASCII is replaced by its confusable skeleton (ICU's spoof checker,
//     UTS #39) when that is ASCII: Cyrillic 'а' and Greek 'ο' become 'a' and 'o'.
// Other characters stay as they are (non-ASCII). Leetspeak, repeated letters and separators
// are the matcher's business: they depend on the term being matched.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sg::detectors::toxicity {

struct NormalizedText {
  // One byte per character of the normalized form: ASCII as folded, or kOtherWord /
  // kOtherMark for a character left non-ASCII (a letter or digit of another script, or
  // anything else).
  std::string chars;
  std::vector<std::int64_t> begin;  // original byte range of chars[i]
  std::vector<std::int64_t> end;
};

class TextNormalizer {
 public:
  static constexpr char kOtherWord = '\x01';
  static constexpr char kOtherMark = '\x02';

  TextNormalizer();
  ~TextNormalizer();
  TextNormalizer(const TextNormalizer&) = delete;
  TextNormalizer& operator=(const TextNormalizer&) = delete;

  // Invalid UTF-8 bytes become one kOtherMark each; an incomplete sequence at the very end
  // (a token that ends inside a character) is left out, since its character is not known yet.
  void normalize(std::string_view text, NormalizedText& out);

 private:
  const std::string& fold(char32_t cp);

  struct Icu;
  std::unique_ptr<Icu> icu_;
  // Non-ASCII code point -> its folded form, computed on first sight (ICU calls are the
  // cost; texts repeat few distinct characters).
  std::unordered_map<char32_t, std::string> cache_;
};

}  // namespace sg::detectors::toxicity
