// One function per subcommand; each parses its own options (Boost.Program_options) and
// returns the process exit code. Errors are thrown as sg::Error and mapped by main().
#pragma once

#include <string>
#include <vector>

namespace sg::cli {

using Args = std::vector<std::string>;  // the arguments after the subcommand name

int cmd_devices(const Args& args);
int cmd_score(const Args& args);
int cmd_generate(const Args& args);
int cmd_bench(const Args& args);
int cmd_tokenize(const Args& args);
int cmd_audit(const Args& args);
int cmd_runs(const Args& args);
int cmd_show(const Args& args);
int cmd_index(const Args& args);
int cmd_repetition(const Args& args);
int cmd_toxicity(const Args& args);
int cmd_policy(const Args& args);
int cmd_decide(const Args& args);
int cmd_revoke(const Args& args);
int cmd_verify(const Args& args);
int cmd_keys(const Args& args);
int cmd_serve(const Args& args);
int cmd_compare(const Args& args);
int cmd_report(const Args& args);

}  // namespace sg::cli
