// INI files (audit plans, release policies) read strictly: every unknown section or key,
// duplicate key, bad value or syntax error is an sg::InputError "FILE:LINE: KEY: message".
//
// Values are parsed by Boost.Program_options' config-file parser, as the command line is.
// Boost 1.74 reports neither file nor line and lets a key repeat, so a pass of our own
// over the same text records where every section and key is, and rejects duplicates and
// unknown names first. The syntax is Boost's: `[section]`, `key = value`, and `#` starts a
// comment anywhere on a line (so a value cannot hold '#').
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sg::ini {

enum class Type { kString, kInteger, kNumber, kBoolean };

// The values a numeric key accepts: [min, max], either end open when asked. Every integer
// and number key has one, so a value is never narrowed or wrapped on its way to the code
// that uses it (`max_tokens = 4294967297` is refused, not read as 1).
struct Range {
  double min = 0;
  double max = 0;
  bool min_open = false;  // (min, ...
  bool max_open = false;  // ..., max)
};

// "[0, 1)", as messages write a range.
std::string describe(const Range& r);
bool in_range(double v, const Range& r);

struct Key {
  std::string name;
  Type type = Type::kString;
  bool required = false;
  std::optional<Range> range = std::nullopt;  // required for kInteger and kNumber keys
};

// `[name]`, or with `named` any `[name.LABEL]` (LABEL: letters, digits, '_', '-'), as
// `[strategy.greedy]`.
struct Section {
  std::string name;
  bool named = false;
  bool required = false;
  std::vector<Key> keys;
};

using Schema = std::vector<Section>;

class Document {
 public:
  static Document read(const std::filesystem::path& file, const Schema& schema);
  // `file` only names the text in messages.
  static Document parse(std::string_view text, const std::filesystem::path& file,
                        const Schema& schema);

  const std::filesystem::path& file() const { return file_; }

  // Sections present, in file order; with `family`, only its `[family.LABEL]` sections.
  std::vector<std::string> sections(std::string_view family = {}) const;
  bool has_section(std::string_view section) const;
  bool has(std::string_view section, std::string_view key) const;

  std::optional<std::string> string(std::string_view section, std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view section, std::string_view key) const;
  std::optional<double> number(std::string_view section, std::string_view key) const;
  std::optional<bool> boolean(std::string_view section, std::string_view key) const;

  // Replaces `{name}` in every string value by `value` (a plan's `{stage}`: one plan, a
  // file per stage).
  void expand(std::string_view name, std::string_view value);

  // Line of the key (or, when it is absent, of its section header); 0 when neither is present.
  int line(std::string_view section, std::string_view key = {}) const;

  // Throws InputError "FILE:LINE: section.key: message", at the key's line, or its section's
  // when the key is absent.
  [[noreturn]] void fail(std::string_view section, std::string_view key,
                         std::string_view message) const;

 private:
  using Value = std::variant<std::string, std::int64_t, double, bool>;
  template <class T>
  std::optional<T> get(std::string_view section, std::string_view key) const;

  std::filesystem::path file_;
  std::vector<std::pair<std::string, int>> sections_;  // name, header line
  std::map<std::string, int, std::less<>> key_lines_;  // "section.key" -> line
  std::map<std::string, Value, std::less<>> values_;   // "section.key" -> typed value
};

// Plans and policies are a few KB; a larger file is refused before it is read.
inline constexpr std::uintmax_t kMaxFileBytes = 1 << 20;

// The bytes of `file`: InputError naming it when it cannot be read or exceeds kMaxFileBytes.
std::string read_text(const std::filesystem::path& file);

// Refuses text that is not a text file: InputError "FILE:LINE: encoding: ..." for invalid
// UTF-8 or a control character other than tab, CR and LF. A NUL byte in a value would name
// one path in messages and hashes and another to the operating system. Document::parse calls
// it first; a UTF-8 byte-order mark at the start is allowed.
void check_text(std::string_view text, const std::filesystem::path& file);

// "; did you mean 'X'?" for the candidate nearest to `name` when it is a near miss (a typo),
// else "".
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

// Splits a comma-separated list, trimming blanks around items; empty items are dropped.
std::vector<std::string> split_list(std::string_view text);

}  // namespace sg::ini
