#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::tokenizer {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

std::string StreamDecoder::push(std::int32_t id) {
  pending_ += tokenizer_.decode_bytes(std::span(&id, 1));
  std::size_t hold = utf8::incomplete_tail(pending_);
  std::string ready =
      utf8::replace_invalid(std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return ready;
}

std::string StreamDecoder::finish() {
  std::string rest = utf8::replace_invalid(pending_);
  pending_.clear();
  return rest;
}

}  // namespace sg::tokenizer
