// stagegate: audit, decide on and serve staged GPT-1/GPT-2 releases.
// main() only dispatches to a subcommand and maps errors to the documented exit codes.
#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "common/errors.hpp"
#include "common/version.hpp"

namespace {

struct Command {
  int (*run)(const sg::cli::Args&);
  const char* summary;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"devices", {sg::cli::cmd_devices, "list the Vulkan devices"}},
      {"score", {sg::cli::cmd_score, "log-probabilities and perplexity of a text"}},
      {"generate", {sg::cli::cmd_generate, "generate a continuation of a prompt"}},
      {"tokenize", {sg::cli::cmd_tokenize, "encode text to token ids, or decode ids"}},
      {"bench", {sg::cli::cmd_bench, "measure prefill and decode speed"}},
      {"audit", {sg::cli::cmd_audit, "run an audit plan on a checkpoint into a database"}},
      {"runs", {sg::cli::cmd_runs, "list the audit runs in a database"}},
      {"show", {sg::cli::cmd_show, "print one audit run's aggregates"}},
      {"report", {sg::cli::cmd_report, "the release report: one self-contained HTML file"}},
      {"compare",
       {sg::cli::cmd_compare,
        "stages' audit figures side by side, with intervals and differences"}},
      {"index", {sg::cli::cmd_index, "build or query a training-corpus index"}},
      {"repetition",
       {sg::cli::cmd_repetition, "repetition figures (seq-rep, rep-l, zlib, loop) of texts"}},
      {"toxicity", {sg::cli::cmd_toxicity, "toxicity scores and matched terms of texts"}},
      {"policy", {sg::cli::cmd_policy, "check a release policy, or print it resolved"}},
      {"decide", {sg::cli::cmd_decide, "record release decisions from a policy and audits"}},
      {"revoke", {sg::cli::cmd_revoke, "record the revocation of a stage's release"}},
      {"verify", {sg::cli::cmd_verify, "check the decision chain and the metrics behind it"}},
      {"keys", {sg::cli::cmd_keys, "add, list or revoke the API keys serve accepts"}},
      {"serve", {sg::cli::cmd_serve, "the OpenAI-compatible API over the stages a policy allows"}},
  };
  return table;
}

void print_usage(std::ostream& out) {
  out << "usage: stagegate <command> [options]   (stagegate <command> --help for details)\n\n"
         "commands:\n";
  for (const auto& [name, cmd] : commands()) {
    out << "  " << name << std::string(12 - name.size(), ' ') << cmd.summary << "\n";
  }
  out << "\noptions:\n  --version   print the version and the commit it was built from\n"
         "  --help      this message\n\n"
         "exit codes: 0 success, 1 runtime failure, 2 usage error, 3 bad input data,\n"
         "            4 decide rejected a stage, 5 stage not available to this audience\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(std::cerr);
    return static_cast<int>(sg::ExitCode::kUsage);
  }
  const std::string name = args.front();
  if (name == "--version" || name == "version") {
    std::cout << "stagegate " << sg::version() << " (commit " << sg::git_commit() << ")\n";
    return 0;
  }
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return 0;
  }
  auto it = commands().find(name);
  if (it == commands().end()) {
    std::cerr << "stagegate: unknown command '" << name << "'\n\n";
    print_usage(std::cerr);
    return static_cast<int>(sg::ExitCode::kUsage);
  }
  try {
    return it->second.run(sg::cli::Args(args.begin() + 1, args.end()));
  } catch (const sg::Error& e) {
    std::cerr << "stagegate " << name << ": " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "stagegate " << name << ": " << e.what() << "\n";
    return static_cast<int>(sg::ExitCode::kRuntime);
  }
}
