#include "memorization/text_normalization.hpp"

namespace sg::detectors::memorization {

namespace {

bool ascii_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string normalize_lower_space(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (unsigned char c : text) {
    if (ascii_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  }
  return out;
}

std::string normalize(std::string_view text, TextNormalization how) {
  return how == TextNormalization::kLowerSpace ? normalize_lower_space(text) : std::string(text);
}

std::string to_string(TextNormalization how) {
  return how == TextNormalization::kLowerSpace ? "lower-space" : "none";
}

}  // namespace sg::detectors::memorization
