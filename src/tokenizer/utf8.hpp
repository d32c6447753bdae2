// UTF-8 checks and repairs shared by the tokenizers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sg::tokenizer::utf8 {

// Byte offset of the first byte that does not start or continue a valid UTF-8 sequence
// (overlongs, surrogates and code points past U+10FFFF are invalid); nullopt if all valid.
std::optional<std::size_t> first_invalid(std::string_view s);

// Replaces each invalid sequence with U+FFFD as Python's bytes.decode(errors="replace")
// does: a truncated but otherwise valid prefix becomes one U+FFFD, any other bad byte one
// U+FFFD each (the Unicode "maximal subpart" practice).
std::string replace_invalid(std::string_view s);

// Length of the valid sequence starting at s[i], or 0 if none starts there.
std::size_t sequence_length(std::string_view s, std::size_t i);

// Length of a valid but incomplete sequence at the end of s (0..3): bytes a streaming
// decoder holds back until the next token completes them.
std::size_t incomplete_tail(std::string_view s);

void append(std::string& out, char32_t cp);
// Decodes the code point at s[i] (s must be valid there) and advances i.
char32_t next(std::string_view s, std::size_t& i);

}  // namespace sg::tokenizer::utf8
