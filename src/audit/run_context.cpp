#include "audit/run_context.hpp"

#include "audit/jobs.hpp"

namespace sg::audit {

std::vector<detectors::StoredSample> StoreRunReader::samples(const detectors::SampleQuery& query) {
  db::SampleSelection selection;
  selection.source = query.source;
  selection.strategy = query.strategy;
  selection.tokens = query.tokens;
  selection.text = query.text;
  selection.logprobs = query.logprobs;
  if (!query.metric_prefix.empty()) selection.metric_prefix = query.metric_prefix;
  std::vector<detectors::StoredSample> out;
  for (auto& r : store_.select_samples(run_id_, selection)) {
    detectors::StoredSample s;
    s.source = std::move(r.source);
    s.prompt_id = std::string(local_prompt_id(r.key.prompt_id));
    s.strategy = std::move(r.key.strategy);
    s.index = r.key.sample_index;
    s.finish_reason = std::move(r.finish_reason);
    s.token_count = r.token_count;
    s.tokens = std::move(r.token_ids);
    s.text = std::move(r.text);
    s.logprobs = std::move(r.logprobs);
    for (auto& m : r.metrics) s.metrics.push_back({std::move(m.metric), m.value});
    out.push_back(std::move(s));
  }
  return out;
}

OpenedModel open_model(const std::filesystem::path& dir, gpu::Context& gpu,
                       const engine::EngineOptions& options) {
  OpenedModel m;
  m.checkpoint = std::make_unique<model::Checkpoint>(model::Checkpoint::open(dir));
  if (tokenizer::has_tokenizer_files(dir))
    m.tokenizer = tokenizer::load(dir, model::to_string(m.checkpoint->config().arch));
  m.engine = std::make_unique<engine::Model>(gpu, *m.checkpoint, options);
  return m;
}

detectors::AuxiliaryModel RunModels::load(const std::filesystem::path& dir) {
  const auto key = std::filesystem::absolute(dir).lexically_normal();
  auto it = loaded_.find(key);
  if (it == loaded_.end()) {
    // The context defaults to the checkpoint's positions (a classifier's max_position_embeddings,
    // less RoBERTa's offset), and a classifier's passes hold a whole context (Model).
    engine::EngineOptions options;
    options.dtype = audited_.dtype();
    options.max_sequences = audited_.max_sequences();
    it = loaded_.emplace(key, open_model(key, audited_.gpu(), options)).first;
  }
  return it->second.view();
}

}  // namespace sg::audit
