#include "tokenizer/vocab_files.hpp"

#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "tokenizer/file_bytes.hpp"

namespace sg::tokenizer {

namespace {

std::unordered_map<std::string, std::int32_t> parse_vocab(std::string_view text,
                                                          const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // Not only parse_error: a number too large for a double ("1e999") is out_of_range.
    throw InputError(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw InputError(where + ": not a JSON object");
  // Ids must number the tokens 0..n-1 once each: a repeated id would make decoding
  // ambiguous, and a sparse one would have the tokenizers allocate a table up to it (a
  // hostile file could claim id 2^30 in a few bytes).
  const auto count = static_cast<std::int64_t>(j.size());
  std::vector<const std::string*> owner(j.size(), nullptr);
  std::unordered_map<std::string, std::int32_t> vocab;
  vocab.reserve(j.size());
  for (const auto& [token, id] : j.items()) {
    if (!id.is_number_integer())
      throw InputError(where + ": token '" + token + "' has id " + id.dump() +
                       ", not a whole number");
    const auto value = id.is_number_unsigned() && id.get<std::uint64_t>() > INT64_MAX
                           ? count
                           : id.get<std::int64_t>();
    if (value < 0 || value >= count)
      throw InputError(where + ": token '" + token + "' has id " + id.dump() + ", outside 0.." +
                       std::to_string(count - 1) + " (ids must number the " +
                       std::to_string(count) + " tokens)");
    auto& first = owner[static_cast<std::size_t>(value)];
    if (first)
      throw InputError(where + ": tokens '" + *first + "' and '" + token + "' share id " +
                       std::to_string(value));
    auto [it, inserted] = vocab.emplace(token, static_cast<std::int32_t>(value));
    first = &it->first;
  }
  return vocab;
}

std::vector<std::pair<std::string, std::string>> parse_merges(std::string_view text,
                                                              const std::string& where) {
  std::vector<std::pair<std::string, std::string>> merges;
  int number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto eol = text.find('\n', pos);
    auto line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (number == 1 && line.starts_with("#version"))) continue;
    const auto space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos)
      throw InputError(where + ":" + std::to_string(number) +
                       ": expected two symbols separated by one space, got '" + std::string(line) +
                       "'");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return merges;
}

}  // namespace

VocabFiles parse_vocab_files(std::string_view vocab_json, std::string_view merges_txt,
                             const std::filesystem::path& dir) {
  VocabFiles out;
  out.vocab = parse_vocab(vocab_json, (dir / "vocab.json").string());
  out.vocab_size = static_cast<int>(out.vocab.size());
  out.merges = parse_merges(merges_txt, (dir / "merges.txt").string());
  return out;
}

VocabFiles read_vocab_files(const std::filesystem::path& dir) {
  return parse_vocab_files(read_file_bytes(dir / "vocab.json"), read_file_bytes(dir / "merges.txt"),
                           dir);
}

}  // namespace sg::tokenizer
