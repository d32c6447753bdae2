// BERT's vocab.txt + tokenizer_config.json: the input is vocab.txt, then (after a NUL byte,
// when there is one) tokenizer_config.json. Accepted files keep the reader's promises
// (tokenizer/wordpiece_files.hpp); the tokenizer built from them (or a refusal with
// sg::InputError: no unknown token) encodes sample texts to ids in range, decodes them to
// valid UTF-8, and streams the same text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "tokenizer/wordpiece_files.hpp"
#include "tokenizer/wordpiece_tokenizer.hpp"
#include "vocab_fuzz.hpp"

using sg::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  std::optional<std::string_view> config;
  if (nul != std::string_view::npos) config = input.substr(nul + 1);
  sg::tokenizer::WordPieceFiles files;
  try {
    files = sg::tokenizer::parse_wordpiece_files(input.substr(0, nul), config, "fuzz");
  } catch (const sg::InputError&) {
    return 0;  // a refusal is a correct answer to bad files
  }
  check(!files.tokens.empty());
  const std::set<std::string> unique(files.tokens.begin(), files.tokens.end());
  check(unique.size() == files.tokens.size());
  for (const auto& token : files.tokens) {
    check(!token.empty() && sg::fuzz::valid_utf8(token));
    check(token.find_first_of(" \t\v\f\n") == std::string::npos);
  }
  const auto token_count = static_cast<int>(files.tokens.size());
  std::unique_ptr<sg::tokenizer::WordPieceTokenizer> tok;
  try {
    tok = std::make_unique<sg::tokenizer::WordPieceTokenizer>(std::move(files), "fuzz");
  } catch (const sg::InputError&) {
    return 0;  // e.g. the vocabulary lacks its unknown token
  }
  check(tok->vocab_size() == token_count);
  for (const auto sample : sg::fuzz::kSamples) {
    const auto ids = tok->encode(sample, {});
    sg::fuzz::check_ids_in_range(*tok, ids);
    check(sg::fuzz::valid_utf8(tok->decode(ids)));
    sg::fuzz::check_stream(*tok, ids);
  }
  return 0;
}
