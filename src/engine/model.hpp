// A checkpoint resident on a Vulkan device: weights uploaded once, a KV cache with one slot
// per concurrent sequence, and the forward pass over a packed batch of sequence chunks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/kernels.hpp"
#include "engine/weights.hpp"
#include "model/checkpoint.hpp"
#include "vk/command_stream.hpp"
#include "vk/context.hpp"

namespace sg::engine {

struct EngineOptions {
  std::optional<WeightType> dtype;  // default: F16 where the device stores 16-bit values
  int max_sequences = 1;            // KV-cache slots
  int context = 0;                  // positions per slot; 0: the model's n_positions
  int max_step_tokens = 128;        // tokens per submission (prefill is split into these)
  bool profile = false;             // per-operation timestamps
};

// New tokens of one sequence: they sit at positions start_pos.. of the sequence in `slot`,
// whose earlier positions are already in the KV cache.
struct SequenceChunk {
  int slot = 0;
  int start_pos = 0;
  std::span<const std::int32_t> tokens;
  bool all_logits = false;  // logits for every token (scoring), else for the last only
};

// Called once per logits row, in batch order: (chunk index, token index in the chunk, logits).
using LogitsSink = std::function<void(std::size_t, int, std::span<const float>)>;

class Model {
 public:
  Model(gpu::Context& context, const model::Checkpoint& checkpoint, const EngineOptions& options);

  const model::Config& config() const { return config_; }
  int max_sequences() const { return slots_; }
  int context() const { return context_len_; }
  WeightType dtype() const { return dtype_; }
  std::uint64_t weight_bytes() const { return weights_.device_bytes; }
  gpu::Context& gpu() const { return *gpu_; }

  void forward(std::span<const SequenceChunk> batch, const LogitsSink& sink);

  // Per-operation times of the last submission when profiling, summed over its passes.
  const std::vector<gpu::OpTime>& profile() const { return profile_; }
  void set_profiling(bool on) { profiling_ = on; }

 private:
  struct Token {
    std::size_t chunk;
    int index;
    std::int32_t id;
    int slot;
    int pos;
    bool logits;
  };
  void run_pass(std::span<const Token> tokens, const LogitsSink& sink);
  void record_layers(int n_tokens);

  gpu::Context* gpu_;
  model::Config config_;
  WeightType dtype_;
  int slots_;
  int context_len_;
  int max_tokens_;
  Kernels kernels_;
  DeviceWeights weights_;
  std::vector<gpu::Buffer> k_cache_, v_cache_;
  gpu::Buffer ids_, meta_, logit_rows_;
  Activation x_, xn_, tmp_, qkv_, att_, hidden_, picked_, picked_norm_, logits_;
  gpu::CommandStream stream_;
  bool profiling_ = false;
  std::vector<gpu::OpTime> profile_;
};

}  // namespace sg::engine
