#include "cli/run_command.hpp"

#include <csignal>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sg::testing {

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts the binary with stdin/stdout/stderr on files in `dir`; returns its pid.
pid_t start(const std::vector<std::string>& args, const std::filesystem::path& dir,
            const std::string& input) {
  namespace fs = std::filesystem;
  fs::path in = dir / "in", out = dir / "out", err = dir / "err";
  std::ofstream(in, std::ios::binary) << input;
  pid_t pid = fork();
  if (pid == 0) {
    int fi = open(in.c_str(), O_RDONLY);
    int fo = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    std::vector<char*> argv;
    std::string binary = STAGEGATE_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

CommandResult collect(pid_t pid, const std::filesystem::path& dir) {
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(dir / "out");
  r.err = slurp(dir / "err");
  std::filesystem::remove_all(dir);
  return r;
}

std::filesystem::path make_temp_dir() {
  char dir_template[] = "/tmp/stagegate-cli-XXXXXX";
  return mkdtemp(dir_template);
}

}  // namespace

CommandResult run_stagegate(const std::vector<std::string>& args, const std::string& input) {
  auto dir = make_temp_dir();
  return collect(start(args, dir, input), dir);
}

RunningStagegate::RunningStagegate(const std::vector<std::string>& args)
    : dir_(make_temp_dir().string()) {
  pid_ = start(args, dir_, "");
}

RunningStagegate::~RunningStagegate() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    collect(pid_, dir_);
  }
}

void RunningStagegate::signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

bool RunningStagegate::exited() {
  if (pid_ <= 0) return true;
  siginfo_t info{};
  // WNOWAIT leaves the child to be reaped by wait(), which collects its exit status.
  return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid_;
}

CommandResult RunningStagegate::wait() {
  auto r = collect(pid_, dir_);
  pid_ = -1;
  return r;
}

}  // namespace sg::testing
