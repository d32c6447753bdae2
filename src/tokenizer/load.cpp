#include "common/errors.hpp"
#include "tokenizer/gpt2_tokenizer.hpp"
#include "tokenizer/openai_gpt_tokenizer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/vocab_files.hpp"

namespace sg::tokenizer {

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
