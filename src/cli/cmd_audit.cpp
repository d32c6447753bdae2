// `stagegate audit`: runs an audit plan on one checkpoint into the SQLite store, resumably.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "audit/family_manifest.hpp"
#include "audit/plan.hpp"
#include "audit/runner.hpp"
#include "cli/commands.hpp"
#include "cli/model_setup.hpp"
#include "cli/run_report.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/progress.hpp"
#include "db/store.hpp"

namespace sg::cli {

namespace {

namespace fs = std::filesystem;

// Enough sequences at once to keep a GPU busy; lavapipe gains little past ~16.
constexpr int kDefaultMaxBatch = 64;

// A signal handler may only touch a lock-free atomic: this flag is the one piece of state
// the handler and the runner share, for the life of the command.
std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int) {
  stop_requested.store(true);
}

// Installs the handlers for the command's life and restores the defaults after, so that a
// second Ctrl-C during the final transaction still ends the process.
class StopOnSignal {
 public:
  StopOnSignal() {
    stop_requested.store(false);
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
  }
  ~StopOnSignal() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
};

}  // namespace

int cmd_audit(const Args& args) {
  po::options_description desc("stagegate audit");
  add_model_options(desc);
  desc.add_options()("help,h", "show this help")("plan", po::value<std::string>()->required(),
                                                 "audit plan (INI; see policies/plans/)")(
      "db", po::value<std::string>()->required(), "SQLite audit database (created if missing)")(
      "stage", po::value<std::string>(),
      "stage name (default: from the family.json beside the model directory)")(
      "new-run",
      "start a fresh run even when this plan's last run on this checkpoint is "
      "unfinished or complete")(
      "max-batch", po::value<int>(),
      "most sequences to run at once (default: as many as the device's free memory holds, up "
      "to 64 and to the plan's number of jobs)")(
      "db-max-mb", po::value<double>(),
      "cap the database's size in MiB; reaching it stops the audit as a full disk would, "
      "resumable once the cap is raised or removed")("json", "print a JSON summary at the end");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate audit --model DIR --plan FILE --db FILE [--stage NAME] "
                    "[--new-run] [--json]"))
    return 0;

  // Everything that can be refused is checked before the model is uploaded.
  const fs::path model_dir = vm["model"].as<std::string>();
  std::string family, stage;
  if (vm.count("stage")) {
    stage = vm["stage"].as<std::string>();
    if (auto member = audit::find_family_member(model_dir)) family = member->family;
  } else if (auto member = audit::find_family_member(model_dir)) {
    stage = member->stage;
    family = member->family;
  } else {
    throw UsageError("--stage is needed: no family.json beside " + model_dir.string() +
                     " lists it");
  }
  // A plan may name a file per stage (`{stage}`, e.g. the corpus index of its training data).
  const auto plan = audit::Plan::load(vm["plan"].as<std::string>(), detectors::builtin_registry(),
                                      {{"stage", stage}});
  db::Store::Options store_options;
  if (vm.count("db-max-mb")) {
    // Bounded so that the byte count fits the integer it becomes: converting 1e300, NaN or
    // infinity to an integer is undefined, and in practice silently lifted the cap.
    constexpr double kMinMb = 0.001;
    constexpr double kMaxMb = 1e9;
    const double mb = vm["db-max-mb"].as<double>();
    if (!(mb >= kMinMb && mb <= kMaxMb))
      throw UsageError("--db-max-mb must be between 0.001 and 1e9 (megabytes), not " +
                       std::to_string(mb));
    store_options.max_size_bytes = static_cast<std::int64_t>(mb * 1024 * 1024);
  }
  db::Store store(vm["db"].as<std::string>(), store_options);

  engine::EngineOptions size;
  size.max_sequences = kDefaultMaxBatch;
  if (vm.count("max-batch")) {
    size.max_sequences = vm["max-batch"].as<int>();
    if (size.max_sequences < 1) throw UsageError("--max-batch must be at least 1");
  }
  // More slots than jobs would only hold memory.
  size.max_sequences =
      static_cast<int>(std::clamp<std::int64_t>(plan.jobs_planned(), 1, size.max_sequences));
  auto m = load_model(vm, size,
                      [&](const model::Checkpoint& checkpoint, const tokenizer::Tokenizer* tok,
                          const gpu::Context& gpu, engine::EngineOptions& options) {
                        if (!tok)
                          throw InputError("--model: " + model_dir.string() +
                                           " has no tokenizer (vocab.json + merges.txt); an "
                                           "audit needs one");
                        plan.check_texts(*tok, checkpoint.config().n_positions);
                        plan.check_indexes(checkpoint.dir());
                        const int fit = engine::Model::slots_that_fit(gpu, checkpoint, options);
                        if (fit < 1)
                          throw RuntimeError("device '" + gpu.info().name +
                                             "' has not the memory for this model and one "
                                             "sequence");
                        options.max_sequences = fit;
                      });
  const auto& tok = m.require_tokenizer("--model");
  const auto target = audit::audit_target(*m.checkpoint, family, stage, m.gpu->info().name);

  StopOnSignal signals;
  // Created at the first report, once the runner knows how many samples are already stored.
  std::optional<ProgressBar> bar;
  audit::RunnerOptions options;
  options.new_run = vm.count("new-run") > 0;
  options.stop = &stop_requested;
  options.on_progress = [&](std::int64_t done, std::int64_t planned) {
    if (!bar) {
      bar.emplace("audit " + target.checkpoint.stage, static_cast<std::uint64_t>(planned),
                  "samples", static_cast<std::uint64_t>(done));
    }
    bar->set(static_cast<std::uint64_t>(done));
  };
  audit::Runner runner(*m.engine, tok, store, plan, target);
  const auto summary = runner.run(options);
  if (bar) bar->finish();

  if (vm.count("json")) {
    nlohmann::json out{
        {"run_id", summary.run_id},
        {"stage", target.checkpoint.stage},
        {"checkpoint_sha256", target.checkpoint.sha256},
        {"plan_hash", plan.hash()},
        {"db", store.file().string()},
        {"outcome", summary.outcome},
        {"resumed", summary.resumed},
        {"recovered", summary.recovered},
        {"samples_planned", summary.planned},
        {"samples_done", summary.done},
        {"samples_new", summary.new_samples},
        {"abandoned_run",
         summary.abandoned_run ? nlohmann::json(*summary.abandoned_run) : nlohmann::json(nullptr)},
        {"slots", summary.slots},
        {"generated_tokens", summary.generated_tokens},
        {"seconds", summary.seconds},
        {"store_seconds", summary.store_seconds},
        {"aggregates", aggregates_json(summary.aggregates)}};
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "run " << summary.run_id << " (" << target.checkpoint.stage << ", "
              << store.file().string() << "): " << summary.outcome;
    if (summary.outcome == "already completed")
      std::cout << "; nothing to do (--new-run starts a fresh run)";
    else
      std::cout << ", " << summary.new_samples << " new samples, " << summary.done << "/"
                << summary.planned << " stored"
                << (summary.recovered ? " (resumed after its process died)"
                    : summary.resumed ? " (resumed)"
                                      : "");
    std::cout << "\n";
    if (summary.abandoned_run)
      std::cout << "run " << *summary.abandoned_run << " (unfinished) was marked abandoned\n";
    print_aggregates(std::cout, summary.aggregates);
  }
  if (summary.outcome == "interrupted") {
    log::warn("interrupted: run the same command to resume run " + std::to_string(summary.run_id));
    return static_cast<int>(ExitCode::kRuntime);
  }
  return 0;
}

}  // namespace sg::cli
