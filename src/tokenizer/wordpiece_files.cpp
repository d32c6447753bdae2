#include "tokenizer/wordpiece_files.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/errors.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::tokenizer {

namespace {

std::vector<std::string> read_vocab_txt(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot be read");
  std::vector<std::string> tokens;
  std::unordered_map<std::string, int> line_of;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto where = path.string() + ":" + std::to_string(number);
    if (auto bad = utf8::first_invalid(line))
      throw InputError(where + ": not valid UTF-8 at byte " + std::to_string(*bad + 1));
    // A token with whitespace, or none at all, could never be produced by the basic
    // tokenizer's whitespace split: the file is not a vocabulary (or lost its alignment).
    if (line.empty()) throw InputError(where + ": empty line (expected one token)");
    if (line.find_first_of(" \t\v\f") != std::string::npos)
      throw InputError(where + ": token '" + line + "' contains whitespace");
    auto [it, fresh] = line_of.emplace(line, number);
    if (!fresh)
      throw InputError(where + ": token '" + line + "' repeats line " + std::to_string(it->second));
    tokens.push_back(line);
  }
  if (tokens.empty()) throw InputError(path.string() + ": no tokens");
  return tokens;
}

// A special token's name: a string or an AddedToken object {"content": ...}.
void read_name(const nlohmann::json& config, const char* key, const std::string& where,
               std::string& name) {
  if (!config.contains(key) || config[key].is_null()) return;
  const auto& v = config[key];
  if (v.is_string()) {
    name = v.get<std::string>();
  } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    name = v["content"].get<std::string>();
  } else {
    throw InputError(where + ": field '" + key + "' is neither a string nor {\"content\": ...}");
  }
  if (name.empty()) throw InputError(where + ": field '" + key + "' is empty");
}

void read_config(const std::filesystem::path& path, WordPieceFiles& files) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot be read");
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {  // "1e999" is out_of_range, not parse_error
    throw InputError(path.string() + ": not valid JSON (" + e.what() + ")");
  }
  const auto where = path.string();
  if (!config.is_object()) throw InputError(where + ": not a JSON object");
  if (config.contains("do_lower_case")) {
    if (!config["do_lower_case"].is_boolean())
      throw InputError(where + ": field 'do_lower_case' is not true or false");
    files.basic.lower_case = config["do_lower_case"].get<bool>();
  }
  if (config.contains("strip_accents") && !config["strip_accents"].is_null()) {
    if (!config["strip_accents"].is_boolean())
      throw InputError(where + ": field 'strip_accents' is not true, false or null");
    files.basic.strip_accents = config["strip_accents"].get<bool>();
  }
  if (config.contains("tokenize_chinese_chars") && config["tokenize_chinese_chars"] != true)
    throw InputError(where + ": tokenize_chinese_chars false is not supported");
  read_name(config, "unk_token", where, files.unk);
  read_name(config, "cls_token", where, files.cls);
  read_name(config, "sep_token", where, files.sep);
  read_name(config, "pad_token", where, files.pad);
  read_name(config, "mask_token", where, files.mask);
}

}  // namespace

WordPieceFiles read_wordpiece_files(const std::filesystem::path& dir) {
  WordPieceFiles files;
  files.tokens = read_vocab_txt(dir / "vocab.txt");
  if (std::filesystem::exists(dir / "tokenizer_config.json"))
    read_config(dir / "tokenizer_config.json", files);
  return files;
}

}  // namespace sg::tokenizer
