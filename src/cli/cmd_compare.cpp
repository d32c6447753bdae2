// `stagegate compare`: stages (or checkpoints) side by side, every figure their audits stored.
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"
#include "model/checkpoint.hpp"
#include "model/checkpoint_facts.hpp"
#include "report/compare.hpp"
#include "report/compare_format.hpp"

namespace sg::cli {

int cmd_compare(const Args& args) {
  po::options_description desc("stagegate compare");
  desc.add_options()("help,h", "show this help")("db", po::value<std::string>()->required(),
                                                 "SQLite audit database")(
      "stage", po::value<std::vector<std::string>>(),
      "a stage to compare (repeat: two or more; the first is the baseline)")(
      "model", po::value<std::vector<std::string>>(),
      "a checkpoint directory to compare, found by its weights' SHA-256 (repeat)")(
      "plan", po::value<std::vector<std::string>>(),
      "only runs of the plan with this file name, e.g. demo.ini (repeat; default: every plan)")(
      "metric", po::value<std::vector<std::string>>(),
      "only figures whose metric starts with this, e.g. capability. (repeat; default: all)")(
      "json", "print JSON instead of a table");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate compare --db FILE (--stage A --stage B ... | --model DIR "
                    "--model DIR ...) [--plan NAME] [--metric PREFIX] [--json]"))
    return 0;
  const bool stages = vm.count("stage") > 0, models = vm.count("model") > 0;
  if (stages == models)
    throw UsageError("give either --stage (two or more) or --model (two or more), not both");
  const std::string file = vm["db"].as<std::string>();
  if (!std::filesystem::exists(file)) throw InputError(file + ": no such database");

  std::vector<report::CompareTarget> targets;
  if (stages) {
    for (const auto& s : vm["stage"].as<std::vector<std::string>>()) targets.push_back({s, s, ""});
  } else {
    for (const auto& dir : vm["model"].as<std::vector<std::string>>()) {
      // The weights as they are now: a checkpoint changed since its audit matches no run.
      const auto facts = model::checkpoint_facts(model::Checkpoint::open(dir));
      targets.push_back({dir, "", facts.sha256});
    }
  }
  if (targets.size() < 2) throw UsageError("compare needs at least two stages or models");
  report::CompareOptions options;
  if (vm.count("plan")) options.plans = vm["plan"].as<std::vector<std::string>>();
  if (vm.count("metric")) options.metrics = vm["metric"].as<std::vector<std::string>>();

  db::Store store(file);
  const auto comparison = report::compare(store, targets, options);
  std::cout << (vm.count("json") ? report::comparison_json(comparison) + "\n"
                                 : report::comparison_table(comparison));
  return 0;
}

}  // namespace sg::cli
