// Helpers shared by the subcommands: parsing option values and reporting usage errors.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace sg::cli {

namespace po = boost::program_options;

// Parses "1,2,3" (spaces allowed) into ids. Throws sg::InputError naming the bad item.
std::vector<std::int32_t> parse_ids(const std::string& text, const std::string& option_name);

// Runs the parser over args with `desc`; an unknown flag, a bad value or a missing required
// option throws sg::UsageError with Boost's message and the command's name. Returns true
// when --help was asked for (after printing usage to stdout).
bool parse_or_help(const std::vector<std::string>& args, const po::options_description& desc,
                   po::variables_map& vm, const std::string& usage_line,
                   const po::positional_options_description* positional = nullptr);

// Writes a JSON array of ints "[1,2,3]".
std::string ids_to_json(const std::vector<std::int32_t>& ids);

}  // namespace sg::cli
