#include "tokenizer/file_bytes.hpp"

#include <fstream>
#include <iterator>

#include "common/errors.hpp"

namespace sg::tokenizer {

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot be read");
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw InputError(path.string() + ": cannot be read");
  return bytes;
}

}  // namespace sg::tokenizer
