// Shared by the tokenizer fuzz targets: the invariant check, the committed tokenizers (loaded
// once per process: loading GPT-2's 50k merges per input would leave no time to fuzz), and
// the invariants every tokenizer keeps whatever its files.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "tokenizer/basic_tokenizer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::fuzz {

inline void check(bool ok) {
  if (!ok) std::abort();
}

inline std::unique_ptr<tokenizer::Tokenizer> load_committed(const char* relative_dir) {
  log::set_level(log::Level::kQuiet);
  return tokenizer::load(std::filesystem::path(STAGEGATE_SOURCE_DIR) / relative_dir);
}

// GPT-2's byte-level BPE (OpenAI's files, 50,257 tokens) and GPT-1's (the demo family's).
inline const tokenizer::Tokenizer& gpt2() {
  static const auto t = load_committed("models/gpt2-tokenizer");
  return *t;
}
inline const tokenizer::Tokenizer& gpt1() {
  static const auto t = load_committed("models/demo/gpt1");
  return *t;
}

inline bool valid_utf8(std::string_view s) {
  return !tokenizer::utf8::first_invalid(s);
}

inline void check_ids_in_range(const tokenizer::Tokenizer& tok, std::span<const std::int32_t> ids) {
  for (auto id : ids) check(id >= 0 && id < tok.vocab_size());
}

// Fed id by id, the stream decoder hands out valid UTF-8 that, with what finish() flushes,
// is decode_bytes with bad sequences replaced: no character split, none lost or doubled.
inline void check_stream(const tokenizer::Tokenizer& tok, std::span<const std::int32_t> ids) {
  tokenizer::StreamDecoder stream(tok);
  std::string streamed;
  for (auto id : ids) {
    const auto piece = stream.push(id);
    check(valid_utf8(piece));
    streamed += piece;
  }
  streamed += stream.finish();
  check(streamed == tokenizer::utf8::replace_invalid(tok.decode_bytes(ids)));
}

// GPT-1's BPE keeps the characters of each normalised word and marks its end with "</w>",
// which decoding turns into a space: when no symbol became <unk>, decoding gives the
// normalised words joined by single spaces.
inline void check_gpt1_round_trip(const tokenizer::Tokenizer& tok, std::string_view valid_text,
                                  std::span<const std::int32_t> ids,
                                  std::optional<std::int32_t> unk) {
  if (unk && std::find(ids.begin(), ids.end(), *unk) != ids.end()) return;
  std::string joined;
  for (const auto& word : tokenizer::basic_tokenize(valid_text)) {
    if (!joined.empty()) joined += ' ';
    joined += word;
  }
  if (!unk) {
    // Without <unk>, unknown symbols are dropped: only the length can be bounded.
    check(tok.decode(ids).size() <= joined.size());
    return;
  }
  check(tok.decode(ids) == joined);
}

// Bytes `f` must refuse with sg::InputError; any other exception escapes to libFuzzer.
template <typename F>
bool refused(F&& f) {
  try {
    f();
  } catch (const InputError&) {
    return true;
  }
  return false;
}

}  // namespace sg::fuzz
