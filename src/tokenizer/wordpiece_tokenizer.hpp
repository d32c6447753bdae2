// BERT's tokenizer (Hugging Face's BertTokenizer): special-token text matched first, then the
// basic tokenizer (basic_tokenizer.hpp), then WordPiece per word: greedy longest match
// first, pieces after the first prefixed "##"; a word that cannot be covered, or has over
// 100 characters, becomes [UNK].
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/special_tokens.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/word_cache.hpp"
#include "tokenizer/wordpiece_files.hpp"

namespace sg::tokenizer {

class WordPieceTokenizer : public Tokenizer {
 public:
  // Throws sg::InputError naming `where` when the vocabulary lacks the unknown token.
  WordPieceTokenizer(WordPieceFiles files, const std::string& where);

  std::vector<std::int32_t> encode(std::string_view text,
                                   const EncodeOptions& options) const override;
  // Hugging Face's convert_tokens_to_string: tokens joined by spaces, " ##" removed.
  std::string decode(std::span<const std::int32_t> ids) const override;
  // Per token, for streaming: "##x" -> "x", any other token -> " " + token.
  std::string decode_bytes(std::span<const std::int32_t> ids) const override;
  int vocab_size() const override { return static_cast<int>(tokens_.size()); }
  std::optional<std::int32_t> eos_id() const override { return std::nullopt; }
  SpecialIds special_ids() const override { return special_ids_; }
  std::string_view kind() const override { return "bert"; }

 private:
  void encode_plain(std::string_view text, std::vector<std::int32_t>& out) const;
  void encode_word(const std::string& word, std::vector<std::int32_t>& out) const;

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int32_t> vocab_;
  BasicOptions basic_;
  std::vector<SpecialToken> specials_;
  SpecialIds special_ids_;
  WordCache cache_;
};

}  // namespace sg::tokenizer
