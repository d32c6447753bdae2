// vocab.json + merges.txt read for GPT-1's BPE (see vocab_fuzz.hpp for the layout). Accepted
// files keep the reader's promises; the tokenizer built from them encodes sample texts to ids
// in range whose decoding is the normalised words joined by spaces (when nothing fell to
// <unk>), and decodes any in-range id to valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "tokenizer/openai_gpt_tokenizer.hpp"
#include "vocab_fuzz.hpp"

using sg::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto files = sg::fuzz::parse_fuzzed_files(data, size);
  if (!files) return 0;
  const sg::tokenizer::OpenAiGptTokenizer tok(*files, "fuzz");
  check(tok.vocab_size() == files->vocab_size);
  std::optional<std::int32_t> unk;
  if (auto it = files->vocab.find("<unk>"); it != files->vocab.end()) unk = it->second;
  for (const auto sample : sg::fuzz::kSamples) {
    const auto ids = tok.encode(sample, {});
    sg::fuzz::check_ids_in_range(tok, ids);
    sg::fuzz::check_gpt1_round_trip(tok, sample, ids, unk);
    sg::fuzz::check_stream(tok, ids);
  }
  for (std::int32_t id = 0; id < tok.vocab_size() && id < 64; ++id)
    check(sg::fuzz::valid_utf8(tok.decode(std::span(&id, 1))));
  return 0;
}
