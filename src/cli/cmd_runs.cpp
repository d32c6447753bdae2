// `stagegate runs`: the audit runs in a database, newest first, with their progress.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"

namespace sg::cli {

int cmd_runs(const Args& args) {
  po::options_description desc("stagegate runs");
  desc.add_options()("help,h", "show this help")("db", po::value<std::string>()->required(),
                                                 "SQLite audit database")(
      "json", "print a JSON array, one object per run");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, "usage: stagegate runs --db FILE [--json]")) return 0;
  const std::string file = vm["db"].as<std::string>();
  if (!std::filesystem::exists(file)) throw InputError(file + ": no such database");
  db::Store store(file);
  const auto runs = store.runs();
  if (vm.count("json")) {
    auto out = nlohmann::json::array();
    for (const auto& r : runs)
      out.push_back({{"run_id", r.id},
                     {"stage", r.stage},
                     {"checkpoint_sha256", r.checkpoint_sha256},
                     {"plan", r.plan_path},
                     {"status", std::string(db::to_string(r.status))},
                     {"samples_done", r.samples_done},
                     {"samples_planned", r.samples_planned},
                     {"started_at", r.started_at},
                     {"ended_at", r.ended_at ? nlohmann::json(*r.ended_at) : nlohmann::json()}});
    std::cout << out.dump() << "\n";
    return 0;
  }
  if (runs.empty()) {
    std::cout << "no runs in " << file << "\n";
    return 0;
  }
  std::printf("%-6s %-12s %-12s %-13s %-24s %s\n", "run", "stage", "status", "progress",
              "started (UTC)", "plan");
  for (const auto& r : runs) {
    std::string progress = std::to_string(r.samples_done) + "/" + std::to_string(r.samples_planned);
    std::printf("%-6lld %-12s %-12s %-13s %-24s %s\n", static_cast<long long>(r.id),
                r.stage.c_str(), std::string(db::to_string(r.status)).c_str(), progress.c_str(),
                r.started_at.c_str(), r.plan_path.c_str());
  }
  return 0;
}

}  // namespace sg::cli
