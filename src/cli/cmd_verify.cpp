// `stagegate verify`: recomputes the decision chain and the metrics behind each decision.
// Prints the rows checked and the chain's head; a problem (a row altered, deleted or
// reordered, a metric changed under a decision, a head that does not match) is printed with
// the first row at fault, and the exit code is 3, as for any input that cannot be trusted.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"
#include "release/decision_chain.hpp"

namespace sg::cli {

namespace {

std::string checked_head(std::string head) {
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool hex =
      std::all_of(head.begin(), head.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
  if (head.size() != 64 || !hex)
    throw UsageError("stagegate verify: --head: expected a SHA-256 (64 hex digits), got '" + head +
                     "'");
  return head;
}

}  // namespace

int cmd_verify(const Args& args) {
  po::options_description desc("stagegate verify");
  desc.add_options()("help,h", "show this help")("db", po::value<std::string>()->required(),
                                                 "SQLite audit database")(
      "head", po::value<std::string>(),
      "the chain head kept elsewhere (printed by decide): the chain must end at it")(
      "json", "print a JSON object");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, "usage: stagegate verify --db FILE [--head HASH] [--json]"))
    return 0;
  const std::string file = vm["db"].as<std::string>();
  std::optional<std::string> head;
  if (vm.count("head")) head = checked_head(vm["head"].as<std::string>());
  if (!std::filesystem::exists(file)) throw InputError(file + ": no such database");
  db::Store store(file);
  const auto report = release::verify_chain(store, head);
  const int code = report.ok() ? 0 : static_cast<int>(ExitCode::kBadInput);

  if (vm.count("json")) {
    auto problems = nlohmann::json::array();
    for (const auto& p : report.problems)
      problems.push_back({{"row_id", p.row_id}, {"kind", p.kind}, {"message", p.message}});
    const nlohmann::json out = {{"db", file},
                                {"rows", report.rows},
                                {"head", report.head},
                                {"ok", report.ok()},
                                {"problems", std::move(problems)}};
    std::cout << out.dump() << "\n";
    return code;
  }
  std::cout << file << ": " << report.rows << (report.rows == 1 ? " decision" : " decisions")
            << " checked\nchain head: " << report.head << "\n";
  if (report.ok()) {
    std::cout << (head ? "ok: the chain and the metrics behind it hold, and it ends at the "
                         "given head\n"
                       : "ok: the chain and the metrics behind it hold (give --head to check it "
                         "against a head kept elsewhere)\n");
    return code;
  }
  // The first row at fault first; later rows of a broken chain are not reported (their
  // positions moved), but each metric change is.
  for (const auto& p : report.problems)
    std::cerr << "stagegate verify: " << p.kind << ": " << p.message << "\n";
  return code;
}

}  // namespace sg::cli
