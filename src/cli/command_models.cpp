#include "cli/command_models.hpp"

#include <cstdlib>
#include <string>

#include "common/log.hpp"

namespace sg::cli {

detectors::AuxiliaryModel CommandModels::load(const std::filesystem::path& dir) {
  const auto key = std::filesystem::absolute(dir).lexically_normal();
  auto it = loaded_.find(key);
  if (it == loaded_.end()) {
    Loaded m;
    m.checkpoint = std::make_unique<model::Checkpoint>(model::Checkpoint::open(key));
    for (const auto& w : m.checkpoint->warnings()) log::warn(w);
    if (tokenizer::has_tokenizer_files(key))
      m.tokenizer = tokenizer::load(key, model::to_string(m.checkpoint->config().arch));
    if (!gpu_) {
      gpu::ContextOptions options;
      options.device_index = gpu::device_index_from(device_);
      const char* validation = std::getenv("STAGEGATE_VALIDATION");
      options.validation = validation && std::string(validation) == "1";
      gpu_ = std::make_unique<gpu::Context>(options);
    }
    m.engine = std::make_unique<engine::Model>(*gpu_, *m.checkpoint, options_);
    it = loaded_.emplace(key, std::move(m)).first;
  }
  return {*it->second.checkpoint, *it->second.engine, it->second.tokenizer.get()};
}

}  // namespace sg::cli
