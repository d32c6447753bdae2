#include "capability/bits_per_byte.hpp"

#include <algorithm>
#include <numbers>

namespace sg::detectors::capability {

std::optional<ByteScore> byte_score(const Sample& scored, const tokenizer::Tokenizer& tokenizer) {
  if (scored.logprobs.empty() || scored.tokens.empty()) return std::nullopt;
  ByteScore out;
  for (double lp : scored.logprobs) out.bits -= lp;
  out.bits /= std::numbers::ln2;
  auto bytes = static_cast<std::int64_t>(scored.text.size());
  if (scored.tokens.front() != tokenizer.eos_id()) {
    auto first = tokenizer.decode_bytes(scored.tokens.first(1));
    while (!first.empty() && first.back() == ' ') first.pop_back();
    bytes -= static_cast<std::int64_t>(first.size());
  }
  out.bytes = std::max<std::int64_t>(bytes, 1);
  return out;
}

}  // namespace sg::detectors::capability
