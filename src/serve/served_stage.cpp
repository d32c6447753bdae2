#include "serve/served_stage.hpp"

#include "common/errors.hpp"
#include "engine/model.hpp"

namespace sg::serve {

std::shared_ptr<ServedStage> load_stage(const std::string& name, const std::filesystem::path& dir,
                                        const std::string& sha256,
                                        const StageLoadOptions& options) {
  auto s = std::make_shared<ServedStage>();
  s->name = name;
  s->sha256 = sha256;
  s->dir = dir;
  gpu::ContextOptions g;
  g.device_index = gpu::device_index_from(options.device);
  // Each stage gets its own context: its engine thread submits to its own queue, with no
  // lock shared with the other stages'.
  s->gpu = std::make_unique<gpu::Context>(g);
  engine::EngineOptions e;
  e.max_sequences = options.max_batch;
  s->model = audit::open_model(dir, *s->gpu, e);
  if (!s->model.tokenizer)
    throw InputError(dir.string() + ": stage " + name +
                     " has no tokenizer files (vocab.json + merges.txt): the API takes text");
  s->models = std::make_unique<audit::RunModels>(*s->model.engine);
  s->worker =
      std::make_unique<StageWorker>(*s->model.engine, *s->model.tokenizer,
                                    s->model.checkpoint->config().eos_token_id, options.queue);
  return s;
}

}  // namespace sg::serve
