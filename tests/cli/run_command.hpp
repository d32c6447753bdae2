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

// A stagegate process left running, for tests that signal or kill it. Its output goes to
// files in a temporary directory; wait() collects it. The destructor kills and reaps a
// process still running, so a failed test leaves none behind.
class RunningStagegate {
 public:
  explicit RunningStagegate(const std::vector<std::string>& args);
  ~RunningStagegate();
  RunningStagegate(const RunningStagegate&) = delete;
  RunningStagegate& operator=(const RunningStagegate&) = delete;

  void signal(int sig);
  bool exited();  // true once the process has ended (it is then still to be wait()ed for)
  CommandResult wait();

 private:
  int pid_ = -1;
  std::string dir_;
};

}  // namespace sg::testing
