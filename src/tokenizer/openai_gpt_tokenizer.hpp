// GPT-1's tokenizer (Hugging Face's OpenAIGPTTokenizer without ftfy/spaCy): the BERT basic
// normalisation, then BPE per word with "</w>" on its last symbol; unknown symbols -> <unk>.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_merges.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/vocab_files.hpp"
#include "tokenizer/word_cache.hpp"

namespace sg::tokenizer {

class OpenAiGptTokenizer : public Tokenizer {
 public:
  OpenAiGptTokenizer(const VocabFiles& files, const std::string& where);

  std::vector<std::int32_t> encode(std::string_view text,
                                   const EncodeOptions& options) const override;
  std::string decode(std::span<const std::int32_t> ids) const override;
  std::string decode_bytes(std::span<const std::int32_t> ids) const override;
  int vocab_size() const override { return static_cast<int>(tokens_.size()); }
  std::optional<std::int32_t> eos_id() const override { return std::nullopt; }
  std::string_view kind() const override { return "openai-gpt"; }

 private:
  void encode_word(const std::string& word, std::vector<std::int32_t>& out) const;

  std::unordered_map<std::string, std::int32_t> vocab_;
  std::vector<std::string> tokens_;  // id -> token string
  BpeMerges merges_;
  std::int32_t unk_ = -1;
  WordCache cache_;
};

}  // namespace sg::tokenizer
