// vocab.json + merges.txt read for GPT-2's byte-level BPE (see vocab_fuzz.hpp for the
// layout). Accepted files keep the reader's promises; a tokenizer built from them (or a
// refusal with sg::InputError) encodes sample texts to ids in range, and decoding gives the
// texts back: byte-level BPE is lossless whatever the merges, since a merge's result is the
// concatenation of its parts.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tokenizer/gpt2_tokenizer.hpp"
#include "vocab_fuzz.hpp"

using sg::fuzz::check;
using sg::tokenizer::Gpt2Tokenizer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto files = sg::fuzz::parse_fuzzed_files(data, size);
  if (!files) return 0;
  for (const auto flavor : {Gpt2Tokenizer::Flavor::kGpt2, Gpt2Tokenizer::Flavor::kRoberta}) {
    std::unique_ptr<Gpt2Tokenizer> tok;
    try {
      tok = std::make_unique<Gpt2Tokenizer>(*files, "fuzz", flavor);
    } catch (const sg::InputError&) {
      continue;  // e.g. not byte-level: a byte without its token
    }
    check(tok->vocab_size() == files->vocab_size);
    for (const auto sample : sg::fuzz::kSamples) {
      const auto ids = tok->encode(sample, {});
      sg::fuzz::check_ids_in_range(*tok, ids);
      check(tok->decode(ids) == sample);
      sg::fuzz::check_stream(*tok, ids);
    }
  }
  return 0;
}
