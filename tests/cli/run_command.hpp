// Runs the stagegate binary as a user would, capturing its output and exit code.
#pragma once

#include <string>
#include <vector>

namespace sg::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Arguments are passed without a shell; `input` is written to its standard input.
CommandResult run_stagegate(const std::vector<std::string>& args, const std::string& input = "");

}  // namespace sg::testing
