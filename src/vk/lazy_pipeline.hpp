// A compute pipeline built on first use. Lavapipe compiles each pipeline on the CPU when it is
// created, and a holder of many variants (engine::Kernels) uses only those its device and
// passes pick: every command and test process would otherwise pay for all of them.
#pragma once

#include <mutex>
#include <optional>
#include <utility>

#include "vk/pipeline.hpp"

namespace sg::gpu {

class LazyPipeline {
 public:
  LazyPipeline(const Context& context, PipelineDesc desc)
      : context_(&context), desc_(std::move(desc)) {}
  // Holders hand out references to the pipeline, so it never moves.
  LazyPipeline(const LazyPipeline&) = delete;
  LazyPipeline& operator=(const LazyPipeline&) = delete;

  // Thread-safe: the first caller builds the pipeline (a failure is thrown to that caller
  // and the next one tries again), the others wait for it.
  const Pipeline& get() const {
    std::call_once(built_, [this] { pipeline_.emplace(*context_, desc_); });
    return *pipeline_;
  }

 private:
  const Context* context_;
  PipelineDesc desc_;
  mutable std::once_flag built_;
  mutable std::optional<Pipeline> pipeline_;
};

}  // namespace sg::gpu
