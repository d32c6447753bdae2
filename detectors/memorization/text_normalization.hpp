// The normalization of the leakage filter's normalized mode (an index built with
// `stagegate index build --normalize`): ASCII letters lower-cased, every run of whitespace
// one space, leading and trailing whitespace dropped. Near-copies that change only case or
// spacing (Ippolito et al. 2023) normalize to the original. ASCII only: a case mapping of
// all of Unicode would change byte lengths and needs locale rules; the corpora it is for
// are overwhelmingly ASCII in the cased letters that matter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sg::detectors::memorization {

enum class TextNormalization : std::uint32_t {
  kNone = 0,        // tokens as the model writes them
  kLowerSpace = 1,  // normalize_lower_space
};

std::string normalize_lower_space(std::string_view text);
std::string normalize(std::string_view text, TextNormalization how);
std::string to_string(TextNormalization how);  // "none", "lower-space"

}  // namespace sg::detectors::memorization
