// Tokenizers for GPT-2 (byte-level BPE) and GPT-1 (lower-cased BPE with </w>), loaded from
// a checkpoint or tokenizer directory holding vocab.json + merges.txt.
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

struct EncodeOptions {
  bool allow_special = true;  // "<|endoftext|>" in text -> its id (Hugging Face's default)
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
  virtual std::optional<std::int32_t> eos_id() const = 0;  // <|endoftext|>; GPT-1: none
  virtual std::string_view kind() const = 0;               // "gpt2" or "openai-gpt"

 protected:
  // Throws sg::InputError for an id outside the vocabulary.
  void check_id(std::int32_t id) const;
};

// `text` itself when it is valid UTF-8; otherwise, with kReplace, its repair stored in
// `storage`, and with kError an InputError naming the first bad byte's offset.
std::string_view valid_input(std::string_view text, InvalidUtf8 mode, std::string& storage);

// Loads dir/vocab.json + dir/merges.txt. `model_type` ("gpt2" / "openai-gpt") when known
// from config.json; otherwise GPT-1's algorithm if the merges use </w>, else GPT-2's.
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
