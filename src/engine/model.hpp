// A checkpoint resident on a Vulkan device: weights uploaded once, a KV cache with one slot
// per concurrent sequence, and the forward pass over a packed batch of sequence chunks. The
// same pass runs the sequence classifiers (BERT/RoBERTa encoders, GPT-2 with a score head):
// the architecture decides the embedding norm, the attention span, the norm placement and
// the head, never a second copy of the pass.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/kernels.hpp"
#include "engine/logit_summary.hpp"
#include "engine/weights.hpp"
#include "model/checkpoint.hpp"
#include "vk/command_stream.hpp"
#include "vk/context.hpp"

namespace sg::engine {

struct EngineOptions {
  std::optional<WeightType> dtype;  // default: F16 where the device stores 16-bit values
  int max_sequences = 1;            // KV-cache slots
  int context = 0;                  // positions per slot; 0: the model's n_positions
  int max_step_tokens = 512;        // tokens per submission (prefill is split into these);
                                    // classifiers: at least the context, so that every
                                    // sequence is whole in one pass
  int max_logit_rows = 128;         // rows of logits per submission (a language model's
                                    // logits buffer: scoring, which wants every row, is
                                    // split into passes of this many)
  bool profile = false;             // per-operation timestamps
  gpu::StreamLimits stream_limits;  // descriptor sets and pass recordings kept for reuse
  // Another device kind's shaders (tests run the GPUs' on lavapipe); default: this device's.
  std::optional<KernelShapes> kernel_shapes;
};

// New tokens of one sequence: they sit at positions start_pos.. of the sequence in `slot`,
// whose earlier positions are already in the KV cache.
struct SequenceChunk {
  int slot = 0;
  int start_pos = 0;
  std::span<const std::int32_t> tokens;
  bool all_logits = false;  // logits for every token (scoring), else for the last only
  // Also summarize the last token's logits on the device for the sampler, with the
  // normalizer at this temperature (logit_summary.hpp).
  std::optional<float> summarize;
};

// What bounds the number of KV-cache slots, in bytes.
struct SlotBudget {
  std::uint64_t available = 0;          // free device memory before the model is loaded
  double usable_fraction = 0.8;         // of `available`: room for the driver and the rest
  std::uint64_t fixed = 0;              // weights and activations, whatever the slot count
  std::uint64_t kv_per_slot = 0;        // K and V of every layer, for one slot
  std::uint64_t kv_layer_per_slot = 0;  // one layer's K (or V) buffer, for one slot
  std::uint64_t max_buffer = 0;         // the device's largest storage-buffer range
  int max_slots = 1;                    // the caller's cap
};

// The largest slot count in [0, max_slots] within the budget; 0 when not even one fits.
int slots_within(const SlotBudget& budget);

// How many leading tokens `a` and `b` share, at most `cap`: what a sequence starting with `b`
// may take from a slot holding `a` (Model::cached_tokens).
inline std::size_t shared_prefix(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                                 std::size_t cap) {
  const std::size_t n = std::min({a.size(), b.size(), cap});
  return static_cast<std::size_t>(
      std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin()).first -
      a.begin());
}

// Keys and values of a slot's first `positions` positions, copied into another slot.
struct KvCopy {
  int from_slot = 0;
  int to_slot = 0;
  int positions = 0;
};

// Called once per logits row, in batch order: (chunk index, token index in the chunk, logits,
// the row's device summary: null unless the chunk asked for one and the row is finite).
using LogitsSink =
    std::function<void(std::size_t, int, std::span<const float>, const LogitSummary*)>;

class Model {
 public:
  Model(gpu::Context& context, const model::Checkpoint& checkpoint, const EngineOptions& options);

  // How many KV-cache slots a Model made with `options` could have: the most, up to
  // options.max_sequences, whose weights, KV cache and activations fit in `usable_fraction`
  // of the device's free memory and whose per-layer KV buffer fits the device's buffer
  // range; 0 when not even one does. Call it before loading the model, whose weights would
  // otherwise be counted twice.
  static int slots_that_fit(const gpu::Context& context, const model::Checkpoint& checkpoint,
                            const EngineOptions& options, double usable_fraction = 0.8);

  const model::Config& config() const { return config_; }
  int max_sequences() const { return slots_; }
  int context() const { return context_len_; }
  WeightType dtype() const { return dtype_; }
  std::uint64_t weight_bytes() const { return weights_.device_bytes; }
  gpu::Context& gpu() const { return *gpu_; }

  // Language models only (a classifier has no LM head: InputError). Each chunk of a batch
  // has a slot of its own.
  void forward(std::span<const SequenceChunk> batch, const LogitsSink& sink);

  // The tokens whose keys and values slot `slot` holds, at positions 0.. (what forward() and
  // copy_kv() put there). A causal model's key and value at a position depend only on the
  // tokens up to it, and the engine is batch invariant, so a sequence that starts with these
  // tokens may take them from the cache instead of computing them again: its results are the
  // same, bit for bit. Empty for bidirectional encoders, whose keys depend on every token.
  std::span<const std::int32_t> cached_tokens(int slot) const;

  // Copies keys and values between slots, every layer, in one submission; each copy's
  // `positions` must be cached in its source slot (cached_tokens), and no slot may be both a
  // source and a destination. Prefix caching: a new sequence whose prompt starts like a
  // cached one starts after the shared part.
  void copy_kv(std::span<const KvCopy> copies);

  // Sequence classifiers only: the head's logits (config().num_labels of them) for each
  // sequence, in order. Sequences are batched, each whole in one pass (an encoder's tokens
  // attend to the entire sequence, so they must all be in the cache before attention runs),
  // up to max_sequences() sequences per pass. The head reads the first token (BERT's [CLS],
  // RoBERTa's <s>) or, for GPT-2, the last token whose id is not pad_token_id (the first
  // when all are), as Hugging Face does. Throws InputError, naming the sequence, for an
  // empty sequence, one longer than context(), an id outside the vocabulary, or RoBERTa's
  // padding id inside a sequence (Hugging Face would not advance its position).
  std::vector<std::vector<float>> classify(std::span<const std::vector<std::int32_t>> sequences);

  // Per-operation times of the last submission when profiling, summed over its passes.
  const std::vector<gpu::OpTime>& profile() const { return profile_; }
  void set_profiling(bool on) { profiling_ = on; }
  // How often passes found their descriptor sets and recordings ready (tests, benchmarks).
  gpu::StreamStats stream_stats() const { return stream_.stats(); }

 private:
  struct Token {
    std::size_t chunk;
    int index;
    std::int32_t id;
    int slot;
    int pos;
    int span;  // cache positions it attends to (see Kernels::attention)
    bool logits;
    std::optional<float> summarize;
  };
  void record_head(int picked, bool summarize);
  void record_pass(int n, int picked, bool summarize, TokenRuns kinds);
  void run_pass(std::span<const Token> tokens, const LogitsSink& sink);
  void record_layers(int n_tokens, TokenRuns kinds);

  gpu::Context* gpu_;
  model::Config config_;
  WeightType dtype_;
  int slots_;
  int context_len_;
  int max_tokens_;
  int max_rows_;  // logits rows per pass
  Kernels kernels_;
  DeviceWeights weights_;
  std::vector<gpu::Buffer> k_cache_, v_cache_;
  std::vector<std::vector<std::int32_t>> cached_;  // per slot: see cached_tokens()
  gpu::Buffer ids_, meta_, spans_, logit_rows_, summary_temperatures_, summary_records_;
  Activation x_, xn_, tmp_, qkv_, att_, hidden_, picked_, picked_norm_, logits_;
  gpu::CommandStream stream_;
  bool profiling_ = false;
  std::vector<gpu::OpTime> profile_;
};

}  // namespace sg::engine
