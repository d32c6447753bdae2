#include "cli/tokenizer_dir.hpp"

#include <optional>
#include <string>

#include "common/errors.hpp"
#include "model/config.hpp"

namespace sg::cli {

std::unique_ptr<tokenizer::Tokenizer> load_tokenizer_dir(const std::filesystem::path& dir) {
  std::optional<std::string> type;
  if (std::filesystem::exists(dir / "config.json"))
    type = model::to_string(model::load_config(dir).arch);
  if (!tokenizer::has_tokenizer_files(dir))
    throw InputError(dir.string() +
                     ": no vocab.json + merges.txt nor vocab.txt (not a tokenizer directory)");
  return tokenizer::load(dir, type);
}

}  // namespace sg::cli
