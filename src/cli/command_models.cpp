#include "cli/command_models.hpp"

#include <cstdlib>
#include <string>

#include "common/log.hpp"

namespace sg::cli {

detectors::AuxiliaryModel CommandModels::load(const std::filesystem::path& dir) {
  const auto key = std::filesystem::absolute(dir).lexically_normal();
  auto it = loaded_.find(key);
  if (it == loaded_.end()) {
    if (!gpu_) {
      gpu::ContextOptions options;
      options.device_index = gpu::device_index_from(device_);
      const char* validation = std::getenv("STAGEGATE_VALIDATION");
      options.validation = validation && std::string(validation) == "1";
      gpu_ = std::make_unique<gpu::Context>(options);
    }
    auto m = audit::open_model(key, *gpu_, options_);
    for (const auto& w : m.checkpoint->warnings()) log::warn(w);
    it = loaded_.emplace(key, std::move(m)).first;
  }
  return it->second.view();
}

}  // namespace sg::cli
