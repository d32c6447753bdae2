// GPT-2's encoder on arbitrary bytes with OpenAI's tokenizer files. Strict mode refuses
// exactly the inputs that are not UTF-8; replacing never refuses and encodes the repaired
// text; byte-level BPE is lossless, so decoding gives back the (repaired) text, with or
// without special-token matching, and never yields <|endoftext|> when matching is off.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer_fuzz.hpp"

using sg::fuzz::check;
using sg::tokenizer::EncodeOptions;
using sg::tokenizer::InvalidUtf8;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& tok = sg::fuzz::gpt2();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = sg::fuzz::valid_utf8(text);
  const std::string repaired = sg::tokenizer::utf8::replace_invalid(text);
  check(valid == (repaired == text));
  check(sg::fuzz::valid_utf8(repaired));

  for (const bool special : {true, false}) {
    EncodeOptions strict;
    strict.allow_special = special;
    EncodeOptions replace = strict;
    replace.invalid_utf8 = InvalidUtf8::kReplace;

    const auto ids = tok.encode(text, replace);  // any exception here is a bug
    sg::fuzz::check_ids_in_range(tok, ids);
    check(tok.decode(ids) == repaired);
    check(tok.decode_bytes(ids) == repaired);
    if (!special) check(std::find(ids.begin(), ids.end(), *tok.eos_id()) == ids.end());

    if (valid) {
      check(tok.encode(text, strict) == ids);
    } else {
      check(sg::fuzz::refused([&] { (void)tok.encode(text, strict); }));
      check(tok.encode(repaired, strict) == ids);
    }
  }
  return 0;
}
