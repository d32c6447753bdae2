#include "common/ini.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"

namespace sg::ini {

namespace po = boost::program_options;

namespace {

// The characters Boost's config parser trims around names and values.
constexpr std::string_view kBlank = " \t\r\n";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlank) - first + 1);
}

std::string where(const std::filesystem::path& file, int line) {
  return line > 0 ? file.string() + ":" + std::to_string(line) : file.string();
}

[[noreturn]] void fail_at(const std::filesystem::path& file, int line, std::string_view key,
                          std::string_view message) {
  throw InputError(where(file, line) + ": " + std::string(key) + ": " + std::string(message));
}

bool valid_label(std::string_view label) {
  if (label.empty()) return false;
  for (char c : label) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const Section* find_section(const Schema& schema, std::string_view name) {
  for (const auto& s : schema) {
    if (!s.named && name == s.name) return &s;
    if (s.named && name.size() > s.name.size() + 1 && name.starts_with(s.name) &&
        name[s.name.size()] == '.' && valid_label(name.substr(s.name.size() + 1)))
      return &s;
  }
  return nullptr;
}

const Key* find_key(const Section& section, std::string_view name) {
  for (const auto& k : section.keys)
    if (k.name == name) return &k;
  return nullptr;
}

// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string known_sections(const Schema& schema) {
  std::string out;
  for (const auto& s : schema) {
    if (!out.empty()) out += ", ";
    out += "[" + s.name + (s.named ? ".NAME]" : "]");
  }
  return out;
}

std::string known_keys(const Section& section) {
  std::string out;
  for (const auto& k : section.keys) out += (out.empty() ? "" : ", ") + k.name;
  return out;
}

std::string format_number(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kString:
      return "a string";
    case Type::kInteger:
      return "an integer";
    case Type::kNumber:
      return "a number";
    case Type::kBoolean:
      return "true or false";
  }
  return "a value";
}

po::value_semantic* semantic(Type type) {
  switch (type) {
    case Type::kInteger:
      return po::value<std::int64_t>();
    case Type::kNumber:
      return po::value<double>();
    case Type::kBoolean:
      return po::value<bool>();
    case Type::kString:
      break;
  }
  return po::value<std::string>();
}

struct Entry {
  std::string name;  // "section.key"
  std::string value;
  const Key* key;
  int line;
};

void check_range(const std::filesystem::path& file, const Entry& e, double v) {
  if (!e.key->range) throw std::logic_error("ini schema: numeric key " + e.name + " has no range");
  if (!in_range(v, *e.key->range))
    fail_at(file, e.line, e.name,
            "'" + e.value + "' is out of range: must be in " + describe(*e.key->range));
}

[[noreturn]] void fail_text(const std::filesystem::path& file, int line, std::string_view what) {
  throw InputError(file.string() + ":" + std::to_string(line) + ": encoding: " + std::string(what));
}

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

// Length of the UTF-8 sequence at `s[i]`, or 0 when it is not a valid one (overlong forms,
// surrogates and code points past U+10FFFF are invalid too).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xbf) return 0;
  return n;
}

}  // namespace

std::string describe(const Range& r) {
  return (r.min_open ? "(" : "[") + format_number(r.min) + ", " + format_number(r.max) +
         (r.max_open ? ")" : "]");
}

bool in_range(double v, const Range& r) {
  const bool above = r.min_open ? v > r.min : v >= r.min;
  const bool below = r.max_open ? v < r.max : v <= r.max;
  return above && below;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  std::size_t best_distance = 0;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(name, c);
    if (!best || d < best_distance) best = &c, best_distance = d;
  }
  // Close enough to be a slip of the keyboard, not a different word.
  if (!best || best_distance == 0 || best_distance > std::max<std::size_t>(2, name.size() / 3))
    return "";
  return "; did you mean '" + *best + "'?";
}

void check_text(std::string_view text, const std::filesystem::path& file) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  int line = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
      fail_text(file, line,
                "byte " + hex_byte(c) + " is a control character: not a text file (binary?)");
    const std::size_t n = utf8_length(text, i);
    if (n == 0) fail_text(file, line, "byte " + hex_byte(c) + " is not valid UTF-8");
    i += n;
  }
}

std::string read_text(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw InputError(file.string() + ": cannot be read (" + ec.message() + ")");
  if (size > kMaxFileBytes)
    throw InputError(file.string() + ": " + std::to_string(size) + " bytes, beyond the " +
                     std::to_string(kMaxFileBytes) + "-byte limit for a plan or policy");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(file.string() + ": read error");
  return text.str();
}

Document Document::read(const std::filesystem::path& file, const Schema& schema) {
  return parse(read_text(file), file, schema);
}

Document Document::parse(std::string_view text, const std::filesystem::path& file,
                         const Schema& schema) {
  check_text(text, file);
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte-order mark
  for (const auto& section : schema)
    for (const auto& k : section.keys)
      if ((k.type == Type::kInteger || k.type == Type::kNumber) && !k.range)
        throw std::logic_error("ini schema: [" + section.name + "] " + k.name +
                               " is numeric but has no range");
  Document doc;
  doc.file_ = file;

  // Our pass: Boost's syntax, line by line, recording where each name is.
  std::vector<Entry> entries;
  std::string section;
  const Section* spec = nullptr;
  int line = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (auto hash = raw.find('#'); hash != std::string_view::npos) raw = raw.substr(0, hash);
    const std::string_view s = trim(raw);
    if (s.empty()) continue;
    if (s.front() == '[' && s.back() == ']') {
      section = std::string(s.substr(1, s.size() - 2));
      spec = find_section(schema, section);
      if (!spec) {
        for (const auto& family : schema)
          if (family.named && section.starts_with(family.name + "."))
            fail_at(file, line, "[" + section + "]",
                    "the name after '" + family.name + ".' must be letters, digits, '_' or '-'");
        std::vector<std::string> names;
        for (const auto& family : schema) names.push_back(family.name);
        fail_at(file, line, "[" + section + "]",
                "unknown section" + did_you_mean(section.substr(0, section.find('.')), names) +
                    " (known: " + known_sections(schema) + ")");
      }
      for (const auto& [name, first] : doc.sections_)
        if (name == section)
          fail_at(file, line, "[" + section + "]",
                  "section repeated (first at line " + std::to_string(first) + ")");
      doc.sections_.emplace_back(section, line);
      continue;
    }
    const auto eq = s.find('=');
    if (eq == std::string_view::npos)
      fail_at(file, line, std::string(s), "expected '[section]' or 'key = value'");
    const std::string key(trim(s.substr(0, eq)));
    if (key.empty()) fail_at(file, line, std::string(s), "missing key before '='");
    if (!spec) fail_at(file, line, key, "key outside any section");
    const std::string name = section + "." + key;
    const Key* key_spec = find_key(*spec, key);
    if (!key_spec) {
      std::vector<std::string> names;
      for (const auto& k : spec->keys) names.push_back(k.name);
      fail_at(file, line, name,
              "unknown key in [" + section + "]" + did_you_mean(key, names) +
                  " (known: " + known_keys(*spec) + ")");
    }
    if (auto it = doc.key_lines_.find(name); it != doc.key_lines_.end())
      fail_at(file, line, name, "key repeated (first at line " + std::to_string(it->second) + ")");
    std::string value(trim(s.substr(eq + 1)));
    if (value.empty() && key_spec->type != Type::kString)
      fail_at(file, line, name,
              "empty value (expected " + std::string(type_name(key_spec->type)) + ")");
    doc.key_lines_.emplace(name, line);
    entries.push_back({name, std::move(value), key_spec, line});
  }

  for (const auto& s : schema)
    if (s.required && !s.named && !doc.has_section(s.name))
      fail_at(file, 0, "[" + s.name + "]", "missing section");
  for (const auto& [name, header] : doc.sections_) {
    const Section& s = *find_section(schema, name);
    for (const auto& k : s.keys)
      if (k.required && !doc.has(name, k.name))
        fail_at(file, header, name + "." + k.name, "missing (required in [" + name + "])");
  }

  // Boost's pass: the typed values, parsed as the command line parses its options.
  po::options_description desc;
  for (const auto& e : entries) desc.add_options()(e.name.c_str(), semantic(e.key->type));
  po::variables_map vm;
  std::istringstream in{std::string(text)};
  try {
    po::store(po::parse_config_file(in, desc, false), vm);
    po::notify(vm);
  } catch (const po::error_with_option_name& e) {
    const std::string name = e.get_option_name();
    for (const auto& entry : entries)
      if (entry.name == name)
        fail_at(file, entry.line, name,
                "'" + entry.value + "' is not " + std::string(type_name(entry.key->type)) +
                    (entry.key->range ? " in " + describe(*entry.key->range) : ""));
    throw InputError(file.string() + ": " + e.what());
  } catch (const po::error& e) {
    throw InputError(file.string() + ": " + e.what());
  }
  for (const auto& e : entries) {
    const auto& any = vm[e.name].value();
    switch (e.key->type) {
      case Type::kString:
        doc.values_[e.name] = boost::any_cast<std::string>(any);
        break;
      case Type::kInteger: {
        const auto v = boost::any_cast<std::int64_t>(any);
        check_range(file, e, static_cast<double>(v));
        doc.values_[e.name] = v;
        break;
      }
      case Type::kBoolean:
        doc.values_[e.name] = boost::any_cast<bool>(any);
        break;
      case Type::kNumber: {
        const double v = boost::any_cast<double>(any);
        if (!std::isfinite(v)) fail_at(file, e.line, e.name, "'" + e.value + "' is not finite");
        check_range(file, e, v);
        doc.values_[e.name] = v;
        break;
      }
    }
  }
  return doc;
}

std::vector<std::string> Document::sections(std::string_view family) const {
  std::vector<std::string> out;
  for (const auto& [name, line] : sections_) {
    if (family.empty() ||
        (name.size() > family.size() + 1 && name.starts_with(family) && name[family.size()] == '.'))
      out.push_back(name);
  }
  return out;
}

bool Document::has_section(std::string_view section) const {
  for (const auto& [name, line] : sections_)
    if (name == section) return true;
  return false;
}

bool Document::has(std::string_view section, std::string_view key) const {
  return key_lines_.contains(std::string(section) + "." + std::string(key));
}

template <class T>
std::optional<T> Document::get(std::string_view section, std::string_view key) const {
  auto it = values_.find(std::string(section) + "." + std::string(key));
  if (it == values_.end()) return std::nullopt;
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  throw std::logic_error("ini: " + it->first + " read as another type than its schema declares");
}

std::optional<std::string> Document::string(std::string_view section, std::string_view key) const {
  return get<std::string>(section, key);
}
std::optional<std::int64_t> Document::integer(std::string_view section,
                                              std::string_view key) const {
  return get<std::int64_t>(section, key);
}
std::optional<double> Document::number(std::string_view section, std::string_view key) const {
  return get<double>(section, key);
}
std::optional<bool> Document::boolean(std::string_view section, std::string_view key) const {
  return get<bool>(section, key);
}

int Document::line(std::string_view section, std::string_view key) const {
  if (!key.empty()) {
    auto it = key_lines_.find(std::string(section) + "." + std::string(key));
    if (it != key_lines_.end()) return it->second;
  }
  for (const auto& [name, header] : sections_)
    if (name == section) return header;
  return 0;
}

void Document::fail(std::string_view section, std::string_view key,
                    std::string_view message) const {
  const std::string name = key.empty() ? "[" + std::string(section) + "]"
                                       : std::string(section) + "." + std::string(key);
  fail_at(file_, line(section, key), name, message);
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    if (auto item = trim(text.substr(pos, comma - pos)); !item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

void Document::expand(std::string_view name, std::string_view value) {
  const std::string placeholder = "{" + std::string(name) + "}";
  for (auto& [key, v] : values_) {
    auto* text = std::get_if<std::string>(&v);
    if (!text) continue;
    for (auto at = text->find(placeholder); at != std::string::npos;
         at = text->find(placeholder, at + value.size()))
      text->replace(at, placeholder.size(), value);
  }
}

}  // namespace sg::ini
