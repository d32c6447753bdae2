// `stagegate decide` and `stagegate revoke`: a policy and the audits in a database turned into
// recorded release decisions (src/release/decide.hpp).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"
#include "release/dates.hpp"
#include "release/decide.hpp"
#include "release/evidence.hpp"
#include "release/policy.hpp"

namespace sg::cli {

namespace {

std::string required_text(const po::variables_map& vm, const std::string& option) {
  const auto value = vm[option].as<std::string>();
  if (value.empty()) throw UsageError("--" + option + ": must not be empty");
  return value;
}

// decide and revoke record into an existing audit database: creating an empty one here
// would only record "pending" for lack of the audits it was meant to read.
std::filesystem::path existing_db(const po::variables_map& vm) {
  const std::filesystem::path file = vm["db"].as<std::string>();
  if (!std::filesystem::exists(file)) throw InputError(file.string() + ": no such database");
  return file;
}

// A decision's reason, one part per line ("; " separates the failed requirements or the
// reasons a stage waits).
std::vector<std::string> reason_lines(const std::string& reason) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t at; (at = reason.find("; ", start)) != std::string::npos; start = at + 2)
    lines.push_back(reason.substr(start, at - start));
  lines.push_back(reason.substr(start));
  return lines;
}

void print_table(const release::DecideResult& result) {
  std::size_t width = 5;
  for (const auto& s : result.stages) width = std::max(width, s.row.stage.size());
  const int w = static_cast<int>(width);
  std::printf("%-*s  %-8s  %s\n", w, "stage", "decision", "reason");
  for (const auto& s : result.stages) {
    const auto lines = reason_lines(s.row.reason);
    std::printf("%-*s  %-8s  %s\n", w, s.row.stage.c_str(), s.row.decision.c_str(),
                lines.front().c_str());
    for (std::size_t i = 1; i < lines.size(); ++i)
      std::printf("%-*s  %-8s  %s\n", w, "", "", lines[i].c_str());
  }
}

nlohmann::json row_json(const db::DecisionRecord& row) {
  return {{"decision_id", row.id},
          {"stage", row.stage},
          {"decision", row.decision},
          {"reason", row.reason},
          {"decided_by", row.decided_by},
          {"decided_at", row.decided_at},
          {"policy_hash", row.policy_hash},
          {"hash", row.hash.value_or("")},
          {"evidence", nlohmann::json::parse(row.evidence_json)}};
}

}  // namespace

int cmd_decide(const Args& args) {
  po::options_description desc("stagegate decide");
  desc.add_options()("help,h", "show this help")("policy", po::value<std::string>()->required(),
                                                 "release policy (INI, policies/README.md)")(
      "db", po::value<std::string>()->required(), "SQLite audit database")(
      "reviewer", po::value<std::string>()->required(), "who decides: recorded with each row")(
      "today", po::value<std::string>(), "the date held against not_before (default: UTC today)")(
      "json", "print the decisions and the chain head as JSON");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate decide --policy FILE --db FILE --reviewer NAME "
                    "[--today YYYY-MM-DD] [--json]"))
    return 0;
  release::DecideOptions options;
  options.reviewer = required_text(vm, "reviewer");
  if (vm.count("today")) {
    options.today = vm["today"].as<std::string>();
    if (!release::is_iso_date(options.today))
      throw UsageError("--today: '" + options.today + "' is not a date (YYYY-MM-DD)");
  }
  const auto policy = release::Policy::load(vm["policy"].as<std::string>());
  db::Store store(existing_db(vm));
  const auto result = release::decide(policy, store, options);

  if (vm.count("json")) {
    auto stages = nlohmann::json::array();
    for (const auto& s : result.stages) {
      auto j = row_json(s.row);
      j["checkpoint_sha256"] = policy.stage(s.row.stage).sha256;
      stages.push_back(std::move(j));
    }
    const nlohmann::json out{{"policy", policy.file.string()},
                             {"policy_hash", policy.sha256},
                             {"stages", stages},
                             {"head", result.head},
                             {"rejected", result.any_rejected()}};
    std::cout << out.dump() << "\n";
  } else {
    print_table(result);
    // Kept elsewhere (a release note, a tag), the head lets `verify --head` catch a chain
    // rewritten whole.
    std::cout << "chain head: " << result.head << "\n";
  }
  return static_cast<int>(result.any_rejected() ? ExitCode::kRejected : ExitCode::kOk);
}

int cmd_revoke(const Args& args) {
  po::options_description desc("stagegate revoke");
  desc.add_options()("help,h", "show this help")("policy", po::value<std::string>()->required(),
                                                 "release policy (INI, policies/README.md)")(
      "db", po::value<std::string>()->required(), "SQLite audit database")(
      "stage", po::value<std::string>()->required(), "the stage whose checkpoint is withdrawn")(
      "reason", po::value<std::string>()->required(), "why, in words: recorded")(
      "reviewer", po::value<std::string>()->required(), "who revokes: recorded")(
      "json", "print the recorded row as JSON");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate revoke --policy FILE --db FILE --stage NAME --reason TEXT "
                    "--reviewer NAME [--json]"))
    return 0;
  const auto reason = required_text(vm, "reason");
  const auto reviewer = required_text(vm, "reviewer");
  const auto policy = release::Policy::load(vm["policy"].as<std::string>());
  db::Store store(existing_db(vm));
  const auto row = release::revoke(policy, store, vm["stage"].as<std::string>(), reason, reviewer);
  if (vm.count("json")) {
    auto j = row_json(row);
    j["checkpoint_sha256"] = policy.stage(row.stage).sha256;
    j["head"] = row.hash.value_or("");
    std::cout << j.dump() << "\n";
  } else {
    std::cout << row.stage << ": revoked (decision " << row.id << ")\n"
              << "chain head: " << row.hash.value_or("") << "\n";
  }
  return 0;
}

}  // namespace sg::cli
