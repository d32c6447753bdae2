// The options every model command shares (--model, --device, --dtype, --strict) and the
// loading they imply: checkpoint, device, engine and, when present, the tokenizer.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli/options.hpp"
#include "engine/model.hpp"
#include "model/checkpoint.hpp"
#include "tokenizer/tokenizer.hpp"
#include "vk/context.hpp"

namespace sg::cli {

// `require_model` false: --model may be absent (generate --policy names the checkpoint itself).
void add_model_options(po::options_description& desc, bool require_model = true);

struct LoadedModel {
  std::unique_ptr<gpu::Context> gpu;
  std::unique_ptr<model::Checkpoint> checkpoint;
  std::unique_ptr<engine::Model> engine;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;  // null when the directory has none

  // Throws InputError when there is no tokenizer ("use --ids").
  const tokenizer::Tokenizer& require_tokenizer(const std::string& option) const;
};

// Called once the checkpoint, its tokenizer (null when none) and the device are open, before
// any weight is uploaded: to refuse bad input cheaply, or to size the engine to the device.
using BeforeUpload = std::function<void(const model::Checkpoint&, const tokenizer::Tokenizer*,
                                        const gpu::Context&, engine::EngineOptions&)>;

// Opens the checkpoint named by --model and uploads it. `size` sets the engine's sequence
// slots and context; its dtype is overridden by --dtype.
LoadedModel load_model(const po::variables_map& vm, engine::EngineOptions size,
                       const BeforeUpload& before_upload = {});

// Opens only the checkpoint (for commands that first need its config to size the engine).
std::unique_ptr<model::Checkpoint> open_checkpoint(const po::variables_map& vm);

// Token ids from --ids, or from text options encoded with the tokenizer.
std::vector<std::int32_t> ids_from(const po::variables_map& vm, const LoadedModel& m,
                                   const std::string& text_option,
                                   const std::string& file_option = "");

}  // namespace sg::cli
