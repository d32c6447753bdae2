// The checkpoint's weights on the device, uploaded once: matrices as [out, in] (GPT's
// Conv1D [in, out] transposed, nn.Linear as stored; BERT's separate query/key/value stacked
// into the fused q|k|v projection) and padded; vectors as F32.
#pragma once

#include <optional>
#include <vector>

#include "engine/device_tensors.hpp"
#include "model/checkpoint.hpp"
#include "vk/context.hpp"

namespace sg::engine {

enum class WeightType { kF16, kF32 };

struct LayerWeights {
  gpu::Buffer ln_1_w, ln_1_b, ln_2_w, ln_2_b;
  Matrix c_attn, c_proj, c_fc, mlp_proj;
  gpu::Buffer c_attn_b, c_proj_b, c_fc_b, mlp_proj_b;
};

// A sequence classifier's head on the picked token's hidden state:
// logits = out(tanh(pooler(h))) with the pooler (BERT's, RoBERTa's classifier.dense), or
// logits = out(h) (GPT-2's score, no bias).
struct ClassifierHead {
  std::optional<Matrix> pooler;  // [E, E]
  std::optional<gpu::Buffer> pooler_b;
  Matrix out;  // [num_labels, E]
  std::optional<gpu::Buffer> out_b;
};

struct DeviceWeights {
  Matrix tok_embed;  // [V, E]
  // [P, E], F32. BERT/RoBERTa: position rows from position_offset on, plus token type 0's
  // embedding: a single-segment input has token type 0 everywhere, so adding it here once
  // gives the sum of the three embeddings exactly (only the order of the additions differs).
  Matrix pos_embed;
  std::optional<gpu::Buffer> embed_ln_w, embed_ln_b;  // BERT/RoBERTa: LayerNorm of the sum
  std::optional<ClassifierHead> classifier;
  Matrix lm_head;  // [V, E]; when tied this is tok_embed itself (see `tied`)
  bool tied = true;
  std::vector<LayerWeights> layers;
  std::optional<gpu::Buffer> ln_f_w, ln_f_b;  // GPT-2 only
  std::uint64_t device_bytes = 0;

  const Matrix& head() const { return tied ? tok_embed : lm_head; }
};

// Uploads values laid out [rows, cols] (output-major) as a device matrix in `layout` (the one
// the kernels that read it expect: Kernels::weight_layout). `max_chunk_rows` (0: as many as a
// buffer may hold; else rounded up to the layout's block) lets tests exercise the chunked
// layout on small data.
Matrix upload_matrix(gpu::Context& context, const std::vector<float>& values, int rows, int cols,
                     bool f16, int max_chunk_rows = 0, WeightLayout layout = {});

// Bytes the weights will take on the device with `type` (for the fits-in-memory check).
std::uint64_t planned_weight_bytes(const model::Checkpoint& checkpoint, WeightType type);

// The matmuls' matrices (and the token embedding, the tied head) in `layout`; the position
// table, which only the embedding reads, row-major.
DeviceWeights upload_weights(gpu::Context& context, const model::Checkpoint& checkpoint,
                             WeightType type, const WeightLayout& layout);

}  // namespace sg::engine
