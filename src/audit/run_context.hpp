// What the runner lends detectors over one run: the store's samples, read through the
// detectors' RunReader, and second models loaded once per run on the audit's device.
#pragma once

#include <filesystem>
#include <map>
#include <memory>

#include "db/store.hpp"
#include "engine/model.hpp"
#include "seam/detector.hpp"

namespace sg::audit {

class StoreRunReader : public detectors::RunReader {
 public:
  StoreRunReader(db::Store& store, std::int64_t run_id) : store_(store), run_id_(run_id) {}
  std::vector<detectors::StoredSample> samples(const detectors::SampleQuery& query) override;

 private:
  db::Store& store_;
  std::int64_t run_id_;
};

// A checkpoint opened as a second model: its weights on `gpu` with `options`, and its
// tokenizer when its directory holds one. The audit's loader and the commands' share it.
struct OpenedModel {
  std::unique_ptr<model::Checkpoint> checkpoint;
  std::unique_ptr<engine::Model> engine;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  detectors::AuxiliaryModel view() const { return {*checkpoint, *engine, tokenizer.get()}; }
};
OpenedModel open_model(const std::filesystem::path& dir, gpu::Context& gpu,
                       const engine::EngineOptions& options);

class RunModels : public detectors::ModelLoader {
 public:
  // Second models get the audited model's device and slot count.
  explicit RunModels(const engine::Model& audited) : audited_(audited) {}
  detectors::AuxiliaryModel load(const std::filesystem::path& dir) override;

 private:
  const engine::Model& audited_;
  std::map<std::filesystem::path, OpenedModel> loaded_;
};

}  // namespace sg::audit
