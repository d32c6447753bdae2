// Decoding arbitrary id lists (little-endian u32 after a first byte choosing GPT-2 or GPT-1):
// an id outside the vocabulary is refused with sg::InputError by decode, decode_bytes and the
// stream decoder; in-range ids decode to valid UTF-8 that is decode_bytes repaired (GPT-2) or
// trimmed (GPT-1), and the stream decoder fed id by id gives the same text.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tokenizer_fuzz.hpp"

using sg::fuzz::check;
using sg::fuzz::refused;

namespace {

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\n\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\n\r") - first + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool is_gpt2 = (data[0] & 1) == 0;
  const auto& tok = is_gpt2 ? sg::fuzz::gpt2() : sg::fuzz::gpt1();
  std::vector<std::int32_t> ids((size - 1) / 4);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::uint32_t v = 0;
    for (int b = 3; b >= 0; --b) v = (v << 8) | data[1 + 4 * i + static_cast<std::size_t>(b)];
    // Small ids are the interesting ones: fold most values into the vocabulary, keeping
    // the top bit's values (negative as int32) and the rest as they are when asked.
    if ((data[0] & 2) == 0 && v < 0x80000000u)
      v %= static_cast<std::uint32_t>(tok.vocab_size() + 8);
    std::int32_t id;
    std::memcpy(&id, &v, sizeof id);
    ids[i] = id;
  }
  bool in_range = true;
  for (auto id : ids) in_range = in_range && id >= 0 && id < tok.vocab_size();

  if (!in_range) {
    check(refused([&] { (void)tok.decode(ids); }));
    check(refused([&] { (void)tok.decode_bytes(ids); }));
    sg::tokenizer::StreamDecoder stream(tok);
    bool stream_refused = false;
    for (auto id : ids) {
      if (id >= 0 && id < tok.vocab_size()) {
        (void)stream.push(id);
      } else {
        check(refused([&] { (void)stream.push(id); }));
        stream_refused = true;
        break;
      }
    }
    check(stream_refused);
    return 0;
  }

  const auto bytes = tok.decode_bytes(ids);
  const auto text = tok.decode(ids);
  check(sg::fuzz::valid_utf8(text));
  const auto repaired = sg::tokenizer::utf8::replace_invalid(bytes);
  check(text == (is_gpt2 ? repaired : trimmed(repaired)));
  sg::fuzz::check_stream(tok, ids);
  return 0;
}
