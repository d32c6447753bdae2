#include "tokenizer/wordpiece_files.hpp"

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/errors.hpp"
#include "tokenizer/file_bytes.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::tokenizer {

namespace {

std::vector<std::string> parse_vocab_txt(std::string_view text, const std::string& path) {
  std::vector<std::string> tokens;
  std::unordered_map<std::string, int> line_of;
  int number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto eol = text.find('\n', pos);
    std::string line(text.substr(pos, eol == std::string_view::npos ? text.npos : eol - pos));
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto where = path + ":" + std::to_string(number);
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
  if (tokens.empty()) throw InputError(path + ": no tokens");
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

void parse_config(std::string_view text, const std::string& where, WordPieceFiles& files) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // "1e999" is out_of_range, not parse_error
    throw InputError(where + ": not valid JSON (" + e.what() + ")");
  }
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

WordPieceFiles parse_wordpiece_files(std::string_view vocab_txt,
                                     std::optional<std::string_view> tokenizer_config,
                                     const std::filesystem::path& dir) {
  WordPieceFiles files;
  files.tokens = parse_vocab_txt(vocab_txt, (dir / "vocab.txt").string());
  if (tokenizer_config)
    parse_config(*tokenizer_config, (dir / "tokenizer_config.json").string(), files);
  return files;
}

WordPieceFiles read_wordpiece_files(const std::filesystem::path& dir) {
  const auto config_path = dir / "tokenizer_config.json";
  std::optional<std::string> config;
  if (std::filesystem::exists(config_path)) config = read_file_bytes(config_path);
  return parse_wordpiece_files(read_file_bytes(dir / "vocab.txt"), config, dir);
}

}  // namespace sg::tokenizer
