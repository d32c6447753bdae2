// An INI file written otherwise without changing what it says, for the targets whose readers
// promise that order, comments and blank lines do not matter (plans and policies).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sg::fuzz {

inline bool ignorable(std::string_view line) {
  const auto first = line.find_first_not_of(" \t\r");
  return first == std::string_view::npos || line[first] == '#';
}

inline bool header(std::string_view line) {
  const auto first = line.find_first_not_of(" \t\r");  // what the INI reader trims
  return first != std::string_view::npos && line[first] == '[';
}

// The same plan written otherwise: no comment or blank lines, sections and the keys within
// each in reverse order. Lines themselves (inline comments, spacing) are kept byte for byte.
inline std::string reordered(std::string_view text) {
  // A byte-order mark is read only at the start of the file: it stays there.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  const bool bom = text.starts_with(kBom);
  if (bom) text.remove_prefix(kBom.size());
  std::vector<std::vector<std::string>> blocks(1);  // blocks[0]: lines before any header
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    if (ignorable(line)) continue;
    if (header(line)) blocks.emplace_back();
    blocks.back().push_back(line);
  }
  std::string out = std::string(bom ? kBom : "") + "# the same file, reordered\n";
  auto emit = [&](const std::vector<std::string>& lines, std::size_t keys_from) {
    for (std::size_t i = 0; i < keys_from; ++i) out += lines[i] + "\n";
    for (std::size_t i = lines.size(); i > keys_from; --i) out += lines[i - 1] + "\n";
    out += "\n";
  };
  emit(blocks[0], 0);
  for (std::size_t b = blocks.size() - 1; b > 0; --b) emit(blocks[b], 1);
  return out;
}

}  // namespace sg::fuzz
