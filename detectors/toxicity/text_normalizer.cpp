#include "toxicity/text_normalizer.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include "common/errors.hpp"

namespace sg::detectors::toxicity {

namespace {

bool is_ascii(const icu::UnicodeString& s) {
  for (int i = 0; i < s.length(); ++i)
    if (s.charAt(i) >= 0x80) return false;
  return true;
}

std::string to_ascii_lower(const icu::UnicodeString& s) {
  std::string out;
  for (int i = 0; i < s.length(); ++i) {
    const auto c = static_cast<char>(s.charAt(i));
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

}  // namespace

struct TextNormalizer::Icu {
  const icu::Normalizer2* nfkd = nullptr;
  USpoofChecker* spoof = nullptr;
  ~Icu() {
    if (spoof) uspoof_close(spoof);
  }
};

TextNormalizer::TextNormalizer() : icu_(std::make_unique<Icu>()) {
  UErrorCode status = U_ZERO_ERROR;
  icu_->nfkd = icu::Normalizer2::getNFKDInstance(status);
  if (U_FAILURE(status)) throw RuntimeError(std::string("ICU NFKD: ") + u_errorName(status));
  icu_->spoof = uspoof_open(&status);
  if (U_FAILURE(status))
    throw RuntimeError(std::string("ICU spoof checker: ") + u_errorName(status));
}

TextNormalizer::~TextNormalizer() = default;

const std::string& TextNormalizer::fold(char32_t cp) {
  auto it = cache_.find(cp);
  if (it != cache_.end()) return it->second;
  std::string folded;
  const auto c = static_cast<UChar32>(cp);
  if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
      u_charType(c) == U_FORMAT_CHAR || u_charType(c) == U_NON_SPACING_MARK ||
      u_charType(c) == U_ENCLOSING_MARK) {
    // dropped: leaves `folded` empty
  } else {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString decomposed = icu_->nfkd->normalize(icu::UnicodeString(c), status);
    decomposed.foldCase();
    icu::UnicodeString plain;
    for (int i = 0; i < decomposed.length();) {
      const UChar32 d = decomposed.char32At(i);
      if (u_charType(d) != U_NON_SPACING_MARK) plain.append(d);
      i += U16_LENGTH(d);
    }
    if (U_SUCCESS(status) && plain.length() > 0 && !is_ascii(plain)) {
      icu::UnicodeString skeleton;
      UErrorCode spoof_status = U_ZERO_ERROR;
      uspoof_getSkeletonUnicodeString(icu_->spoof, 0, plain, skeleton, &spoof_status);
      skeleton.foldCase();
      if (U_SUCCESS(spoof_status) && skeleton.length() > 0 && is_ascii(skeleton)) plain = skeleton;
    }
    if (U_FAILURE(status))
      folded = std::string(1, kOtherMark);
    else if (is_ascii(plain))
      folded = to_ascii_lower(plain);
    else
      folded = std::string(1, u_isalnum(c) ? kOtherWord : kOtherMark);
  }
  return cache_.emplace(cp, std::move(folded)).first->second;
}

void TextNormalizer::normalize(std::string_view text, NormalizedText& out) {
  out.chars.clear();
  out.begin.clear();
  out.end.clear();
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto length = static_cast<std::int32_t>(text.size());
  for (std::int32_t i = 0; i < length;) {
    const std::int32_t start = i;
    if (bytes[i] < 0x80) {
      const char c = static_cast<char>(bytes[i++]);
      // The two markers must not be forged by control characters in the input.
      out.chars.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                          : c == kOtherWord    ? kOtherMark
                                               : c);
      out.begin.push_back(start);
      out.end.push_back(i);
      continue;
    }
    UChar32 cp = 0;
    U8_NEXT(bytes, i, length, cp);
    if (cp < 0) {
      // An incomplete sequence that the end of the text cut is left for later bytes.
      if (i == length && U8_COUNT_TRAIL_BYTES(bytes[start]) > length - start - 1) break;
      out.chars.push_back(kOtherMark);
      out.begin.push_back(start);
      out.end.push_back(i);
      continue;
    }
    for (char c : fold(static_cast<char32_t>(cp))) {
      out.chars.push_back(c);
      out.begin.push_back(start);
      out.end.push_back(i);
    }
  }
}

}  // namespace sg::detectors::toxicity
