// The checkpoint's weights on the device, uploaded once: matrices transposed from
// Hugging Face's Conv1D [in, out] to [out, in] and padded; vectors as F32.
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

struct DeviceWeights {
  Matrix tok_embed;  // [V, E]
  Matrix pos_embed;  // [P, E], F32
  Matrix lm_head;    // [V, E]; when tied this is tok_embed itself (see `tied`)
  bool tied = true;
  std::vector<LayerWeights> layers;
  std::optional<gpu::Buffer> ln_f_w, ln_f_b;  // GPT-2 only
  std::uint64_t device_bytes = 0;

  const Matrix& head() const { return tied ? tok_embed : lm_head; }
};

// Uploads values laid out [rows, cols] (output-major) as a device matrix. `max_chunk_rows`
// (0: as many as a buffer may hold) lets tests exercise the chunked layout on small data.
Matrix upload_matrix(gpu::Context& context, const std::vector<float>& values, int rows, int cols,
                     bool f16, int max_chunk_rows = 0);

// Bytes the weights will take on the device with `type` (for the fits-in-memory check).
std::uint64_t planned_weight_bytes(const model::Checkpoint& checkpoint, WeightType type);

DeviceWeights upload_weights(gpu::Context& context, const model::Checkpoint& checkpoint,
                             WeightType type);

}  // namespace sg::engine
