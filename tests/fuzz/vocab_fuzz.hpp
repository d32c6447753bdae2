// Shared by the vocab.json/merges.txt fuzz targets: the input is vocab.json, a NUL byte,
// then merges.txt (JSON text cannot hold a raw NUL, so the split is unambiguous); what the
// reader accepts must keep its promises (tokenizer/vocab_files.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string_view>

#include "tokenizer/vocab_files.hpp"
#include "tokenizer_fuzz.hpp"

namespace sg::fuzz {

// Texts every tokenizer built from fuzzed files must encode and decode: words, digits,
// punctuation, accents, CJK, emoji, whitespace runs and special-token text.
inline constexpr std::string_view kSamples[] = {"Hello world, it's 1234!",
                                                "  the  end\n\n",
                                                "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87",
                                                "\xF0\x9F\x98\x80 <|endoftext|> <unk> </w>",
                                                "aaaaaaaaaaaaaaaaaaaaaaaa",
                                                "t h e\ta n d"};

inline std::optional<tokenizer::VocabFiles> parse_fuzzed_files(const std::uint8_t* data,
                                                               std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  const auto vocab = input.substr(0, nul);
  const auto merges = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  log::set_level(log::Level::kQuiet);
  try {
    auto files = tokenizer::parse_vocab_files(vocab, merges, "fuzz");
    check(files.vocab_size == static_cast<int>(files.vocab.size()));
    std::set<std::int32_t> ids;
    for (const auto& [token, id] : files.vocab) {
      check(id >= 0 && id < files.vocab_size);
      check(valid_utf8(token));  // JSON strings are Unicode text
      ids.insert(id);
    }
    check(ids.size() == files.vocab.size());
    for (const auto& [left, right] : files.merges) {
      check(!left.empty() && !right.empty());
      check(left.find_first_of(" \n") == std::string::npos);
      check(right.find_first_of(" \n") == std::string::npos);
    }
    return files;
  } catch (const InputError&) {
    return std::nullopt;  // a refusal is a correct answer to bad files
  }
}

}  // namespace sg::fuzz
