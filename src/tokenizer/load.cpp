#include "common/errors.hpp"
#include "tokenizer/gpt2_tokenizer.hpp"
#include "tokenizer/openai_gpt_tokenizer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"
#include "tokenizer/vocab_files.hpp"
#include "tokenizer/wordpiece_files.hpp"
#include "tokenizer/wordpiece_tokenizer.hpp"

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

std::vector<std::int32_t> with_special_tokens(const Tokenizer& tokenizer,
                                              std::span<const std::int32_t> ids) {
  const auto special = tokenizer.special_ids();
  std::vector<std::int32_t> out;
  out.reserve(ids.size() + 2);
  if (special.cls && special.sep) out.push_back(*special.cls);
  out.insert(out.end(), ids.begin(), ids.end());
  if (special.cls && special.sep) out.push_back(*special.sep);
  return out;
}

bool has_tokenizer_files(const std::filesystem::path& dir) {
  return (std::filesystem::exists(dir / "vocab.json") &&
          std::filesystem::exists(dir / "merges.txt")) ||
         std::filesystem::exists(dir / "vocab.txt");
}

std::unique_ptr<Tokenizer> load(const std::filesystem::path& dir,
                                std::optional<std::string> model_type) {
  if (model_type == "bert" || (!model_type && std::filesystem::exists(dir / "vocab.txt") &&
                               !std::filesystem::exists(dir / "vocab.json")))
    return std::make_unique<WordPieceTokenizer>(read_wordpiece_files(dir), dir.string());
  auto files = read_vocab_files(dir);
  if (!model_type && files.vocab.contains("<s>") && files.vocab.contains("</s>") &&
      !files.vocab.contains("<|endoftext|>"))
    model_type = "roberta";
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
  if (*model_type == "roberta")
    return std::make_unique<Gpt2Tokenizer>(files, dir.string(), Gpt2Tokenizer::Flavor::kRoberta);
  if (*model_type == "openai-gpt") return std::make_unique<OpenAiGptTokenizer>(files, dir.string());
  throw InputError(dir.string() + ": no tokenizer for model_type '" + *model_type + "'");
}

}  // namespace sg::tokenizer
