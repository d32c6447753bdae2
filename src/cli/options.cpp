#include "cli/options.hpp"

#include <charconv>
#include <iostream>

#include "common/errors.hpp"

namespace sg::cli {

std::vector<std::int32_t> parse_ids(const std::string& text, const std::string& option_name) {
  std::vector<std::int32_t> ids;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    auto first = item.find_first_not_of(" \t\n");
    auto last = item.find_last_not_of(" \t\n");
    if (first == std::string::npos) {
      if (comma == text.size() && !ids.empty() && pos == text.size()) break;  // trailing comma
      throw InputError(option_name + ": empty id at position " + std::to_string(ids.size()) +
                       " in '" + text + "'");
    }
    item = item.substr(first, last - first + 1);
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || ptr != item.data() + item.size() || value < 0 || value > INT32_MAX) {
      throw InputError(option_name + ": '" + item + "' is not a token id (a whole number >= 0)");
    }
    ids.push_back(static_cast<std::int32_t>(value));
    pos = comma + 1;
  }
  return ids;
}

bool parse_or_help(const std::vector<std::string>& args, const po::options_description& desc,
                   po::variables_map& vm, const std::string& usage_line,
                   const po::positional_options_description* positional) {
  try {
    auto parser = po::command_line_parser(args).options(desc);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << usage_line << "\n\n" << desc << "\n";
      return true;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + "\n" + usage_line + " (see --help)");
  }
  return false;
}

std::string ids_to_json(const std::vector<std::int32_t>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += ']';
  return out;
}

}  // namespace sg::cli
