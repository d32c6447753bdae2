// Tokenizers for GPT-2 and RoBERTa (byte-level BPE), GPT-1 (lower-cased BPE with </w>), all
// from vocab.json + merges.txt, and BERT (WordPiece, vocab.txt), loaded from a checkpoint or
// tokenizer directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sg::tokenizer {

enum class InvalidUtf8 { kError, kReplace };

// The ids an encoder frames and pads its input with: BERT's [CLS] text [SEP], RoBERTa's
// <s> text </s> (Hugging Face's build_inputs_with_special_tokens). Unset where the
// vocabulary has none (GPT-2, GPT-1).
struct SpecialIds {
  std::optional<std::int32_t> cls, sep, pad, unk, mask;
};

struct EncodeOptions {
  bool allow_special = true;  // "<|endoftext|>", "[CLS]"... in text -> its id (HF's default)
  InvalidUtf8 invalid_utf8 = InvalidUtf8::kError;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Throws sg::InputError (naming the byte offset) for invalid UTF-8 unless replacing.
  virtual std::vector<std::int32_t> encode(std::string_view text,
                                           const EncodeOptions& options = {}) const = 0;
  // Throws sg::InputError for an id >= vocab_size().
  virtual std::string decode(std::span<const std::int32_t> ids) const = 0;
  // The raw bytes the ids stand for, not repaired: a token may end inside a UTF-8 sequence.
  virtual std::string decode_bytes(std::span<const std::int32_t> ids) const = 0;

  virtual int vocab_size() const = 0;
  virtual std::optional<std::int32_t> eos_id() const = 0;  // <|endoftext|>, </s>; GPT-1: none
  virtual SpecialIds special_ids() const { return {}; }
  virtual std::string_view kind() const = 0;  // "gpt2", "roberta", "openai-gpt" or "bert"

 protected:
  // Throws sg::InputError for an id outside the vocabulary.
  void check_id(std::int32_t id) const;
};

// `text` itself when it is valid UTF-8; otherwise, with kReplace, its repair stored in
// `storage`, and with kError an InputError naming the first bad byte's offset.
std::string_view valid_input(std::string_view text, InvalidUtf8 mode, std::string& storage);

// `ids` framed as an encoder's single-sequence input: cls + ids + sep where the tokenizer
// has both, else ids unchanged (GPT-2's classifier reads the text as it is).
std::vector<std::int32_t> with_special_tokens(const Tokenizer& tokenizer,
                                              std::span<const std::int32_t> ids);

// Whether `dir` holds a tokenizer's files: vocab.json + merges.txt, or vocab.txt.
bool has_tokenizer_files(const std::filesystem::path& dir);

// Loads a tokenizer directory. `model_type` (config.json's) when known: "bert" reads
// vocab.txt (+ tokenizer_config.json); "gpt2", "roberta" and "openai-gpt" read vocab.json +
// merges.txt. Unknown: BERT's if there is a vocab.txt and no vocab.json; else GPT-1's if the
// merges use </w>, RoBERTa's if the vocabulary has <s> and </s> but no <|endoftext|>, else
// GPT-2's.
std::unique_ptr<Tokenizer> load(const std::filesystem::path& dir,
                                std::optional<std::string> model_type = std::nullopt);

// Decodes a stream of ids to text, holding back bytes of an incomplete UTF-8 sequence at a
// token boundary so that streamed output never splits a character.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer);
  std::string push(std::int32_t id);  // the text that is complete so far
  std::string finish();               // flushes what is held back (bad bytes -> U+FFFD)

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;  // bytes of an incomplete UTF-8 sequence
};

}  // namespace sg::tokenizer
