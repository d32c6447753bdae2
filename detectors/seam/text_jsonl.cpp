#include "seam/text_jsonl.hpp"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::detectors {

TextFile read_text_jsonl(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot be read");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw InputError(file.string() + ": read error");
  const std::string bytes = buf.str();

  TextFile out;
  out.sha256 = sha256_hex(bytes);
  std::map<std::string, int> id_lines;
  int line = 0;
  for (std::size_t pos = 0; pos < bytes.size();) {
    auto end = bytes.find('\n', pos);
    if (end == std::string::npos) end = bytes.size();
    std::string_view text(bytes.data() + pos, end - pos);
    pos = end + 1;
    ++line;
    if (text.ends_with('\r')) text.remove_suffix(1);
    const std::string at = file.string() + ":" + std::to_string(line) + ": ";
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (auto bad = tokenizer::utf8::first_invalid(text))
      throw InputError(at + "invalid UTF-8 at byte " + std::to_string(*bad + 1) + " of the line");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(at + "not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object())
      throw InputError(at + "expected a JSON object {\"id\": ..., \"text\": ...}");
    TextRecord r;
    r.line = line;
    auto t = j.find("text");
    if (t == j.end() || !t->is_string()) throw InputError(at + "text: missing, or not a string");
    r.text = t->get<std::string>();
    auto id = j.find("id");
    if (id == j.end() || id->is_null())
      r.id = std::to_string(line);
    else if (id->is_string() && !id->get<std::string>().empty())
      r.id = id->get<std::string>();
    else if (id->is_number_integer())
      r.id = id->dump();
    else
      throw InputError(at + "id: must be a non-empty string or an integer");
    if (auto [it, fresh] = id_lines.emplace(r.id, line); !fresh)
      throw InputError(at + "id: '" + r.id + "' repeated (first at line " +
                       std::to_string(it->second) + ")");
    out.records.push_back(std::move(r));
  }
  if (out.records.empty()) throw InputError(file.string() + ": holds no records");
  return out;
}

std::filesystem::path plan_relative(const ini::Document& plan, const std::string& path) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? p : plan.file().parent_path() / p;
}

TextFile read_named_text_file(const ini::Document& plan, const std::string& section,
                              const std::string& key, const std::filesystem::path& file) {
  if (!std::filesystem::is_regular_file(file))
    plan.fail(section, key, "'" + file.string() + "' is not a readable file");
  return read_text_jsonl(file);
}

}  // namespace sg::detectors
