// GPT-1's encoder on arbitrary bytes with the demo family's GPT-1 tokenizer files. Strict
// mode refuses exactly the inputs that are not UTF-8; replacing never refuses and encodes
// the repaired text. GPT-1 normalises (BERT's basic tokenizer: lower-case, strip accents,
// split punctuation), so what round-trips is the normalised text: decoding gives the
// normalised words joined by spaces whenever no character fell to <unk>.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/vocab_files.hpp"
#include "tokenizer_fuzz.hpp"

using sg::fuzz::check;
using sg::tokenizer::EncodeOptions;
using sg::tokenizer::InvalidUtf8;

namespace {

std::optional<std::int32_t> unk_id() {
  const auto files = sg::tokenizer::read_vocab_files(std::filesystem::path(STAGEGATE_SOURCE_DIR) /
                                                     "models/demo/gpt1");
  auto it = files.vocab.find("<unk>");
  if (it == files.vocab.end()) return std::nullopt;
  return it->second;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& tok = sg::fuzz::gpt1();
  static const auto unk = unk_id();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = sg::fuzz::valid_utf8(text);
  const std::string repaired = sg::tokenizer::utf8::replace_invalid(text);

  EncodeOptions replace;
  replace.invalid_utf8 = InvalidUtf8::kReplace;
  const auto ids = tok.encode(text, replace);  // any exception here is a bug
  sg::fuzz::check_ids_in_range(tok, ids);
  const auto decoded = tok.decode(ids);
  check(sg::fuzz::valid_utf8(decoded));
  sg::fuzz::check_gpt1_round_trip(tok, repaired, ids, unk);
  sg::fuzz::check_stream(tok, ids);

  if (valid) {
    check(tok.encode(text) == ids);
  } else {
    check(sg::fuzz::refused([&] { (void)tok.encode(text); }));
    check(tok.encode(repaired) == ids);
  }
  return 0;
}
