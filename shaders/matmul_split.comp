#version 450
// The matmul of shaders/matmul.comp for GPUs, for one token (decode) or many (prefill,
// batches): y[t, o] = act(x[t, :] . W[o, :] + b[o]) (+ r[t, o]), with the same bindings
// (x from a storage buffer), push constants and layouts.
//
// A GPU needs many lanes on each output row to keep its memory busy, and a sum split over
// lanes must still be added up in one order whatever the dispatch, or a sequence's bits would
// depend on its batch. So every output is summed in this order, by every variant:
//   partial[l] = one fma chain over the 16-column blocks kk = l, l + 32, l + 64, ... (each
//                block's columns in order), for the 32 k-lanes l;
//   sum        = the pairwise tree: partial[l] += partial[l + s] for s = 16, 8, 4, 2, 1.
// A workgroup is GROUPS x 32 invocations: 32 k-lanes for each of GROUPS row groups of ROWS
// output rows, and TOKENS tokens. Each weight block is read once per TOKENS tokens (the
// decode variant: 1 row, 1 token; the GEMM variant: 4 rows x 8 tokens). The k-lanes of a
// row read its consecutive blocks, so a group's loads are contiguous.
#include "common.glsl"
#include "activation.glsl"

layout(local_size_x = 32, local_size_y_id = 0) in;  // y: GROUPS
layout(constant_id = 1) const uint ROWS = 1;
layout(constant_id = 2) const uint TOKENS = 1;
const uint SPLIT = 32u;  // k-lanes per output: part of the summation order above

layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
#ifdef WEIGHT_F16
layout(std430, binding = 1) readonly buffer W { u64vec4 w16[]; };  // 16 halves each
#else
layout(std430, binding = 1) readonly buffer W { vec4 w4[]; };
#endif
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) readonly buffer Res { float res[]; };
layout(std430, binding = 4) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
  uint tokens;
  uint k16;   // Kp / 16
  uint rows;  // rows of W in this chunk (real; the buffer is padded to 64)
  uint row_begin;
  uint y_stride;
  uint flags;  // bit 0: bias, bit 1: residual, bits 2-4: activation code
}
p;

// Each invocation's partial sums, [group][k-lane][row * TOKENS + token], for the tree.
shared float partials[gl_WorkGroupSize.y * SPLIT * ROWS * TOKENS];

#include "matmul_weights.glsl"

void main() {
  const uint OUTS = ROWS * TOKENS;
  uint lane = gl_LocalInvocationID.x, group = gl_LocalInvocationID.y;
  uint row0 = (gl_WorkGroupID.x * gl_WorkGroupSize.y + group) * ROWS;
  uint tok0 = gl_WorkGroupID.y * TOKENS;
  // Rows past the chunk's real ones are its zero padding (a multiple of 64 rows, which the
  // tiles divide) and tokens past the end repeat the last one: computed, never stored.
  // precise: no compiler may fuse, reassociate or reorder these sums (NoContraction).
  precise float acc[ROWS][TOKENS];
  for (uint r = 0u; r < ROWS; ++r)
    for (uint t = 0u; t < TOKENS; ++t) acc[r][t] = 0.0;
  for (uint kk = lane; kk < p.k16; kk += SPLIT) {
    vec4 w[ROWS][4];
    for (uint r = 0u; r < ROWS; ++r) load_w((row0 + r) * p.k16 + kk, w[r]);
    for (uint t = 0u; t < TOKENS; ++t) {
      uint xb = (min(tok0 + t, p.tokens - 1u) * p.k16 + kk) * 4u;
      vec4 a = x4[xb], b = x4[xb + 1u], c = x4[xb + 2u], d = x4[xb + 3u];
      for (uint r = 0u; r < ROWS; ++r) acc[r][t] = dot16(w[r], a, b, c, d, acc[r][t]);
    }
  }
  uint base = (group * SPLIT + lane) * OUTS;
  for (uint r = 0u; r < ROWS; ++r)
    for (uint t = 0u; t < TOKENS; ++t) partials[base + r * TOKENS + t] = acc[r][t];
  barrier();
  // Lane l adds up outputs l, l + 32, ... of its group, in the tree's order.
  uint act = (p.flags >> 2) & 7u;
  for (uint out_i = lane; out_i < OUTS; out_i += SPLIT) {
    precise float v[SPLIT];
    for (uint l = 0u; l < SPLIT; ++l) v[l] = partials[(group * SPLIT + l) * OUTS + out_i];
    for (uint s = SPLIT / 2u; s > 0u; s /= 2u)
      for (uint l = 0u; l < s; ++l) v[l] = v[l] + v[l + s];
    uint row = row0 + out_i / TOKENS, t = tok0 + out_i % TOKENS;
    if (row >= p.rows || t >= p.tokens) continue;
    uint o = p.row_begin + row;
    float sum = v[0];
    if ((p.flags & 1u) != 0u) sum += bias[o];
    sum = activate(sum, act);
    uint yi = t * p.y_stride + o;
    if ((p.flags & 2u) != 0u) sum = res[yi] + sum;
    y[yi] = sum;
  }
}
