// A ModelLoader for commands that run without an audit (`stagegate toxicity`): checkpoints
// a scorer asks for are opened on one Vulkan device, chosen by --device / --dtype as for
// --model, and the device is opened only when the first model is asked for, so a scorer
// that needs none (the lexicon) never touches the GPU.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "audit/run_context.hpp"
#include "engine/model.hpp"
#include "model/checkpoint.hpp"
#include "seam/detector.hpp"
#include "tokenizer/tokenizer.hpp"
#include "vk/context.hpp"

namespace sg::cli {

class CommandModels : public detectors::ModelLoader {
 public:
  // `device`: a Vulkan device index, or the default (STAGEGATE_DEVICE, else the first
  // discrete GPU). `options`: the engine's dtype and slot count for every model.
  CommandModels(std::optional<int> device, engine::EngineOptions options)
      : device_(device), options_(options) {}
  detectors::AuxiliaryModel load(const std::filesystem::path& dir) override;

 private:
  std::optional<int> device_;
  engine::EngineOptions options_;
  std::unique_ptr<gpu::Context> gpu_;  // declared before loaded_: outlives the models
  std::map<std::filesystem::path, audit::OpenedModel> loaded_;
};

}  // namespace sg::cli
