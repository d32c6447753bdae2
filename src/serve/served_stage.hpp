// A stage the server has loaded: its device, weights, tokenizer, second models (a toxicity
// filter's classifier) and the engine thread that batches its requests. Shared by the access
// snapshots that grant it, so a reload that keeps a stage keeps it loaded, and one that
// drops it frees it once the last request on it has finished.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "audit/run_context.hpp"
#include "serve/stage_worker.hpp"
#include "vk/context.hpp"

namespace sg::serve {

struct ServedStage {
  std::string name;
  std::string sha256;  // what the policy and the decision name, checked when it was loaded
  std::filesystem::path dir;
  std::optional<std::int64_t> checkpoint_id;  // in the store, for the request log
  // Declared in the order they are built; destroyed in reverse, the engine thread first.
  std::unique_ptr<gpu::Context> gpu;
  audit::OpenedModel model;
  std::unique_ptr<audit::RunModels> models;
  std::unique_ptr<StageWorker> worker;

  const tokenizer::Tokenizer& tokenizer() const { return *model.tokenizer; }
  int context() const { return model.engine->context(); }
};

struct StageLoadOptions {
  int max_batch = 8;
  std::size_t queue = 256;
  std::optional<int> device;
};

// Opens the stage's checkpoint on its own device context and starts its engine thread.
// InputError when the checkpoint has no tokenizer (the API takes text).
std::shared_ptr<ServedStage> load_stage(const std::string& name, const std::filesystem::path& dir,
                                        const std::string& sha256, const StageLoadOptions& options);

}  // namespace sg::serve
