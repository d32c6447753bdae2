#include "cli/tokenizer_dir.hpp"

#include "common/errors.hpp"
#include "model/config.hpp"

namespace sg::cli {

std::unique_ptr<tokenizer::Tokenizer> load_tokenizer_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::optional<std::string> type;
  if (fs::exists(dir / "config.json")) type = model::to_string(model::load_config(dir).arch);
  if (!fs::exists(dir / "vocab.json") || !fs::exists(dir / "merges.txt"))
    throw InputError(dir.string() + ": no vocab.json + merges.txt (not a tokenizer directory)");
  return tokenizer::load(dir, type);
}

}  // namespace sg::cli
