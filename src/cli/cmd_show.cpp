// `stagegate show`: one audit run's facts and aggregates.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/run_report.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"

namespace sg::cli {

int cmd_show(const Args& args) {
  po::options_description desc("stagegate show");
  desc.add_options()("help,h", "show this help")("db", po::value<std::string>()->required(),
                                                 "SQLite audit database")(
      "run", po::value<std::int64_t>()->required(), "run id (see `stagegate runs`)")(
      "json", "print one JSON object");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, "usage: stagegate show --db FILE --run ID [--json]")) return 0;
  const std::string file = vm["db"].as<std::string>();
  if (!std::filesystem::exists(file)) throw InputError(file + ": no such database");
  db::Store store(file);
  const auto id = vm["run"].as<std::int64_t>();
  const auto run = store.run(id);
  if (!run) throw InputError(file + ": no run " + std::to_string(id));
  const auto aggregates = store.aggregates(id);
  if (vm.count("json")) {
    nlohmann::json out{
        {"run_id", run->id},
        {"stage", run->stage},
        {"checkpoint_sha256", run->checkpoint_sha256},
        {"plan", run->plan_path},
        {"plan_hash", run->plan_hash},
        {"status", std::string(db::to_string(run->status))},
        {"tool_version", run->tool_version},
        {"tool_commit", run->tool_commit},
        {"device", run->device},
        {"started_at", run->started_at},
        {"ended_at", run->ended_at ? nlohmann::json(*run->ended_at) : nlohmann::json()},
        {"samples_done", run->samples_done},
        {"samples_planned", run->samples_planned},
        {"aggregates", aggregates_json(aggregates)}};
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << "run " << run->id << ": " << run->stage << " ("
            << run->checkpoint_sha256.substr(0, 12) << "), " << db::to_string(run->status) << ", "
            << run->samples_done << "/" << run->samples_planned << " samples\n"
            << "plan " << run->plan_path << " (" << run->plan_hash.substr(0, 12) << ")\n"
            << "stagegate " << run->tool_version << " (" << run->tool_commit << ") on "
            << run->device << ", " << run->started_at << " .. " << run->ended_at.value_or("")
            << "\n";
  if (!run->error.empty()) std::cout << "note: " << run->error << "\n";
  print_aggregates(std::cout, aggregates);
  return 0;
}

}  // namespace sg::cli
