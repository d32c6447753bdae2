#include "common/errors.hpp"
#include "tokenizer/gpt2_tokenizer.hpp"
#include "tokenizer/openai_gpt_tokenizer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"
#include "tokenizer/vocab_files.hpp"

namespace sg::tokenizer {

std::string_view valid_input(std::string_view text, InvalidUtf8 mode, std::string& storage) {
  auto bad = utf8::first_invalid(text);
  if (!bad) return text;
  if (mode == InvalidUtf8::kError)
    throw InputError("input is not valid UTF-8 at byte offset " + std::to_string(*bad) +
                     " (use --invalid-utf8 replace to replace bad bytes with U+FFFD)");
  storage = utf8::replace_invalid(text);
  return storage;
}

void Tokenizer::check_id(std::int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw InputError("token id " + std::to_string(id) + " is outside the vocabulary (size " +
                     std::to_string(vocab_size()) + ")");
}

std::unique_ptr<Tokenizer> load(const std::filesystem::path& dir,
                                std::optional<std::string> model_type) {
  auto files = read_vocab_files(dir);
  if (!model_type) {
    bool word_ends = false;
    for (const auto& [left, right] : files.merges) {
      if (right.size() >= 4 && right.compare(right.size() - 4, 4, "</w>") == 0) {
        word_ends = true;
        break;
      }
    }
    model_type = word_ends ? "openai-gpt" : "gpt2";
  }
  if (*model_type == "gpt2") return std::make_unique<Gpt2Tokenizer>(files, dir.string());
  if (*model_type == "openai-gpt") return std::make_unique<OpenAiGptTokenizer>(files, dir.string());
  throw InputError(dir.string() + ": no tokenizer for model_type '" + *model_type + "'");
}

}  // namespace sg::tokenizer
