#include "tokenizer/vocab_files.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/errors.hpp"

namespace sg::tokenizer {

VocabFiles read_vocab_files(const std::filesystem::path& dir) {
  VocabFiles out;
  const auto vocab_path = dir / "vocab.json";
  std::ifstream vin(vocab_path, std::ios::binary);
  if (!vin) throw InputError(vocab_path.string() + ": cannot be read");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(vin);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(vocab_path.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw InputError(vocab_path.string() + ": not a JSON object");
  for (const auto& [token, id] : j.items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() > (1 << 30))
      throw InputError(vocab_path.string() + ": token '" + token + "' has id " + id.dump() +
                       ", not a whole number");
    out.vocab.emplace(token, id.get<std::int32_t>());
    out.vocab_size = std::max(out.vocab_size, id.get<int>() + 1);
  }

  const auto merges_path = dir / "merges.txt";
  std::ifstream min(merges_path, std::ios::binary);
  if (!min) throw InputError(merges_path.string() + ": cannot be read");
  std::string line;
  int number = 0;
  while (std::getline(min, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0)) continue;
    auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      throw InputError(merges_path.string() + ":" + std::to_string(number) +
                       ": expected two symbols separated by one space, got '" + line + "'");
    out.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return out;
}

}  // namespace sg::tokenizer
