// One function per shader: each records one operation into a command stream. The forward
// pass (forward.cpp) calls them in the order of the architecture; the shader tests call
// them against CPU references.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "engine/device_tensors.hpp"
#include "vk/command_stream.hpp"
#include "vk/context.hpp"
#include "vk/lazy_pipeline.hpp"

namespace sg::engine {

enum class Act : std::uint32_t { kNone = 0, kGeluTanh = 1, kGeluErf = 2, kRelu = 3, kTanh = 4 };

// Which variant of each shader runs, chosen per device (never per batch, so a sequence's
// results do not depend on its batch). CPU devices want no workgroup barriers (lavapipe runs
// a barrier as a costly switch between lanes) and fetch matmul operands as texels.
struct KernelShapes {
  bool serial_rows = false;  // layer norm and attention: one invocation per row / head
  // matmul.comp fetches activations as texels: on lavapipe a texel fetch is a vector gather,
  // where a storage-buffer load is a loop over the lanes (and a uniform buffer's 64 KB window
  // held 21 of GPT-2 124M's rows; its gathers cost more too).
  bool texel_x = false;
  // GPUs: every matmul splits each output's sum over 32 lanes and adds the parts in one fixed
  // order (shaders/matmul_split.comp), one token with 32 lanes a row, passes of several tokens
  // in register tiles of 4 rows x 8 tokens. CPU devices keep one lane an output (matmul.comp):
  // lavapipe runs the barrier the split needs as a switch between lanes (bench/README.md).
  bool split_k = false;
  // matmul.comp fetches weights as texels, and the weights are lane-interleaved
  // (WeightLayout): each texel fetch loads the 8 lanes' pieces from one run of memory.
  // Row-major weights read as texels were slower than storage loads from memory; interleaved,
  // a GPT-2 124M decode step's matmuls take 0.6x the time of row-major storage loads.
  bool texel_weights = false;
  bool interleave_weights = false;
  // `bench_matmul --ceiling` only: matmul.comp's F16 texel variants take x, the weights or both
  // from registers instead of memory (shaders/matmul.comp), to time what those loads cost.
  // Their results are meaningless.
  enum class Ceiling { kNone, kFreeX, kFreeW, kFreeLoads };
  Ceiling matmul_ceiling = Ceiling::kNone;
  static KernelShapes cpu() {
    return {.serial_rows = true,
            .texel_x = true,
            .split_k = false,
            .texel_weights = true,
            .interleave_weights = true};
  }
  static KernelShapes gpu() { return {.serial_rows = false, .texel_x = false, .split_k = true}; }
  static KernelShapes for_device(const gpu::Context& context);
};

// What a batch holds for attention: tokens alone in their sequence's part of it (a decode
// step's), and runs of one sequence's consecutive tokens (a prompt's, a scored text's). The
// CPU shape attends runs in tiles that share every key and value load, and single tokens a
// workgroup each; the bits are the same either way.
struct TokenRuns {
  bool singles = false;
  bool runs = false;
  static TokenRuns of(std::span<const std::int32_t> meta, std::span<const std::int32_t> spans);
};

class Kernels {
 public:
  // `max_context`: the longest sequence attention must handle (sizes shared memory).
  Kernels(gpu::Context& context, int max_context, std::optional<KernelShapes> shapes = {});
  const KernelShapes& shapes() const { return shapes_; }
  // How the matrices given to matmul() (and the token embedding given to embed()) must be laid
  // out: lane-interleaved in blocks of the CPU matmul's workgroup rows, else row-major.
  WeightLayout weight_layout() const;

  // x[t, :] = tok[ids[t], :] + pos[meta[t].position, :]
  //   ids: int[T]   meta: (slot, position)[T]   tok: [V, E]   pos: [P, E] F32   x: [T, E]
  void embed(gpu::CommandStream& cs, const Matrix& tok, const Matrix& pos, const gpu::Buffer& ids,
             const gpu::Buffer& meta, const Activation& x, int tokens) const;

  // y[t, :] = layer_norm(x[t, :]) * w + b     x, y: [T, E]   w, b: F32 [E]
  void layer_norm(gpu::CommandStream& cs, const Activation& x, const gpu::Buffer& w,
                  const gpu::Buffer& b, const Activation& y, int rows, float eps) const;

  // y[t, o] = act(x[t, :] . W[o, :] + bias[o]) (+ residual[t, o])
  //   x: [T, K]   W: [N, K]   bias: F32 [N] or null   residual, y: [T, N] (may alias)
  void matmul(gpu::CommandStream& cs, const Activation& x, const Matrix& w, const gpu::Buffer* bias,
              const Activation* residual, const Activation& y, int tokens,
              Act act = Act::kNone) const;

  // Appends each token's key and value to the KV cache, K/V cache[slot, position, :] =
  // qkv[t, E:2E] / qkv[t, 2E:3E] (cache: F32 [S, C, E]), and attends:
  // out[t, h] = softmax(q[t, h] . K[slot, 0..n-1, h] * scale) . V[slot, 0..n-1, h]
  //   qkv: [T, 3E]   meta: (slot, position)[T]   out: [T, E]   heads of head_dim columns
  //   span: (n, first)[T]: n is position + 1 for causal attention, the sequence's length for
  //   an encoder; first is the position of the token's sequence's first token in this batch.
  // A sequence's tokens in the batch must be consecutive rows of consecutive positions (its
  // positions from `first` on are read from their qkv rows, not from the cache being written).
  // `kinds`: which tokens the batch holds (see TokenRuns); the CPU shape dispatches for each
  // kind present.
  void attention(gpu::CommandStream& cs, const Activation& qkv, const gpu::Buffer& meta,
                 const gpu::Buffer& span, const gpu::Buffer& k_cache, const gpu::Buffer& v_cache,
                 const Activation& out, int tokens, int n_head, int head_dim, int context,
                 float scale, TokenRuns kinds) const;

  // y[i, :] = x[rows[i], :]     rows: int[count]
  void gather_rows(gpu::CommandStream& cs, const Activation& x, const gpu::Buffer& rows,
                   const Activation& y, int count) const;

  // Lane records of each logits row for the sampler (shaders/logit_summary.comp,
  // engine/logit_summary.hpp): kSummaryLanes records of kSummaryWords words per row.
  //   logits: [R, V]   temperatures: F32 [R]   records: uint [R, kSummaryLanes, kSummaryWords]
  void logit_summary(gpu::CommandStream& cs, const Activation& logits,
                     const gpu::Buffer& temperatures, const gpu::Buffer& records, int rows) const;

 private:
  gpu::Context* context_;
  gpu::Buffer dummy_;
  KernelShapes shapes_;
  gpu::LazyPipeline embed_f16_, embed_f32_, layer_norm_, attention_, gather_rows_, logit_summary_;
  // matmul.comp by weight type, token block and whether x and the weights are read as texels
  std::vector<std::unique_ptr<gpu::LazyPipeline>> matmul_;
  // GPUs: by weight type, one token or a tile of several
  std::vector<std::unique_ptr<gpu::LazyPipeline>> matmul_split_;
  std::uint32_t matmul_group_ = 8;
  std::uint32_t matmul_rows_ = 8;
  // Serial rows: attention_serial by (head_dim, tokens a workgroup takes), made on first use,
  // since the head size is compiled in.
  const gpu::Pipeline& serial_attention(int head_dim, std::uint32_t tile) const;
  int max_context_;
  mutable std::mutex serial_attention_mutex_;
  mutable std::map<std::pair<int, std::uint32_t>, std::unique_ptr<gpu::Pipeline>> serial_attention_;
};

}  // namespace sg::engine
