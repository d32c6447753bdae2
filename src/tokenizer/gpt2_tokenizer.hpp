// GPT-2's byte-level BPE: text -> GPT-2's pre-tokenizer regex -> bytes mapped to printable
// characters -> merges by rank. Decoding maps tokens back to bytes; bytes that are not
// valid UTF-8 become U+FFFD, as Hugging Face's decode does. RoBERTa uses the same algorithm
// and files with other special tokens: <s>, </s> (its end of text), <pad>, <unk>, <mask>.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/bpe_merges.hpp"
#include "tokenizer/special_tokens.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/vocab_files.hpp"
#include "tokenizer/word_cache.hpp"

namespace sg::tokenizer {

class Gpt2Pretokenizer;

class Gpt2Tokenizer : public Tokenizer {
 public:
  enum class Flavor { kGpt2, kRoberta };
  Gpt2Tokenizer(const VocabFiles& files, const std::string& where, Flavor flavor = Flavor::kGpt2);
  ~Gpt2Tokenizer() override;

  std::vector<std::int32_t> encode(std::string_view text,
                                   const EncodeOptions& options) const override;
  std::string decode(std::span<const std::int32_t> ids) const override;
  std::string decode_bytes(std::span<const std::int32_t> ids) const override;
  int vocab_size() const override { return static_cast<int>(token_bytes_.size()); }
  std::optional<std::int32_t> eos_id() const override { return eos_; }
  SpecialIds special_ids() const override { return special_ids_; }
  std::string_view kind() const override { return flavor_ == Flavor::kGpt2 ? "gpt2" : "roberta"; }

 private:
  void encode_plain(std::string_view text, std::vector<std::int32_t>& out) const;
  void encode_word(std::string_view word, std::vector<std::int32_t>& out) const;

  std::array<std::int32_t, 256> byte_token_{};
  std::vector<std::string> token_bytes_;  // id -> the bytes it stands for
  BpeMerges merges_;
  Flavor flavor_;
  std::optional<std::int32_t> eos_;
  SpecialIds special_ids_;
  std::vector<SpecialToken> specials_;  // matched in input text
  std::unique_ptr<Gpt2Pretokenizer> pretokenizer_;
  WordCache cache_;
};

}  // namespace sg::tokenizer
