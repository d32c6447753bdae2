#include "memorization/tokenizer_hash.hpp"

#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "common/sha256.hpp"

namespace sg::detectors::memorization {

namespace fs = std::filesystem;

std::string tokenizer_hash(const fs::path& dir) {
  Sha256 sha;
  for (const char* name : {"vocab.json", "merges.txt"}) {
    std::ifstream in(dir / name, std::ios::binary);
    if (!in) throw InputError((dir / name).string() + ": cannot be read (no tokenizer there)");
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string content = bytes.str();
    sha.update(name).update(std::string(1, '\0'));
    sha.update(std::to_string(content.size())).update(std::string(1, '\0'));
    sha.update(content);
  }
  return sha.hex();
}

void check_tokenizer_matches(const std::string& index_hash, const fs::path& index,
                             const fs::path& model_dir) {
  const std::string model_hash = tokenizer_hash(model_dir);
  if (model_hash != index_hash)
    throw InputError(index.string() + ": built with another tokenizer (tokenizer hash " +
                     index_hash.substr(0, 12) + "…) than " + model_dir.string() + "'s (" +
                     model_hash.substr(0, 12) + "…); rebuild it with --model " +
                     model_dir.string());
}

}  // namespace sg::detectors::memorization
