#version 450
// y[t, o] = act(x[t, :] . W[o, :] + b[o]) (+ r[t, o])       x: [T, Kp]  W: [rows, Kp]  y: [T, Np]
// W is stored transposed from Hugging Face's Conv1D ([in, out]) to [out, in], padded with
// zeros to Kp = a multiple of 16 columns and to a multiple of 64 rows and of the workgroup's
// rows, row-major or lane-interleaved (INTERLEAVED).
// Each invocation owns ROWS consecutive output rows and walks the tokens in blocks of TB,
// so a block of W is read once per TB tokens. Every output is one fma chain over k in
// order: its bits do not depend on how many tokens share the dispatch (batch invariance).
#include "common.glsl"
#include "activation.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ROWS = 8;
layout(constant_id = 2) const uint TB = 8;
// The weights are lane-interleaved in blocks of the workgroup's rows (WeightLayout in
// src/engine/device_tensors.hpp), else row-major.
layout(constant_id = 3) const bool INTERLEAVED = false;

#ifdef X_TEXELS
// On lavapipe a texel fetch is a vector gather, where a storage-buffer load is a loop over the
// lanes with a bounds check for each component.
layout(binding = 0) uniform usamplerBuffer x_texels;  // RGBA32UI: 4 floats a texel
vec4 load_x(uint i) { return uintBitsToFloat(texelFetch(x_texels, int(i))); }
#else
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
vec4 load_x(uint i) { return x4[i]; }
#endif
#ifdef W_TEXELS
layout(binding = 1) uniform usamplerBuffer w_texels;  // RGBA32UI: 8 halves or 4 floats a texel
#elif defined(WEIGHT_F16)
layout(std430, binding = 1) readonly buffer W { u64vec4 w16[]; };  // 16 halves each
#else
layout(std430, binding = 1) readonly buffer W { vec4 w4[]; };
#endif
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) readonly buffer Res { float res[]; };
layout(std430, binding = 4) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
  uint tokens;     // tokens in this dispatch
  uint k16;        // Kp / 16
  uint rows;       // rows of W in this chunk (real, not padded)
  uint row_begin;  // first output column of this chunk
  uint y_stride;   // padded row length of y and r
  uint flags;      // bit 0: bias, bit 1: residual, bits 2-4: activation code
}
p;

#include "matmul_weights.glsl"

// Ceiling probes for `bench_matmul --ceiling`, never run by the engine: x (CEILING_FREE_X) or the
// weights (CEILING_FREE_W) come from arithmetic on values already in registers instead of
// memory, so the timing shows what those loads cost. The results are meaningless, but every
// product differs (per token, row, column and component): lavapipe computes fma as a multiply
// and an add, and equal products would be computed once.
const vec4 kProbeSpread = vec4(0.0, 0.25, 0.5, 0.75);
#ifdef CEILING_FREE_X
#define load_x(i) (vec4(float(i)) + kProbeSpread)
#endif
#ifdef CEILING_FREE_W
#define load_w(piece, w) \
  for (uint i = 0u; i < 4u; ++i) w[i] = vec4(float((piece)*4u + i)) * 0.5 + kProbeSpread
#endif

#include "weight_piece.glsl"
uint piece(uint row, uint kk) {
  return weight_piece(row, kk, p.k16, INTERLEAVED ? gl_WorkGroupSize.x : 0u, ROWS);
}

void main() {
  uint r0 = gl_GlobalInvocationID.x * ROWS;
  if (r0 >= p.rows) return;
  uint act = (p.flags >> 2) & 7u;
  for (uint t0 = 0u; t0 < p.tokens; t0 += TB) {
    float acc[ROWS][TB];
    for (uint r = 0u; r < ROWS; ++r)
      for (uint tt = 0u; tt < TB; ++tt) acc[r][tt] = 0.0;
    for (uint kk = 0u; kk < p.k16; ++kk) {
      vec4 w[ROWS][4];
      for (uint r = 0u; r < ROWS; ++r) load_w(piece(r0 + r, kk), w[r]);
      for (uint tt = 0u; tt < TB; ++tt) {
        uint t = t0 + tt;
        if (t >= p.tokens) break;
        uint xb = (t * p.k16 + kk) * 4u;
        vec4 a = load_x(xb), b = load_x(xb + 1u), c = load_x(xb + 2u), d = load_x(xb + 3u);
        for (uint r = 0u; r < ROWS; ++r) acc[r][tt] = dot16(w[r], a, b, c, d, acc[r][tt]);
      }
    }
    for (uint tt = 0u; tt < TB; ++tt) {
      uint t = t0 + tt;
      if (t >= p.tokens) break;
      for (uint r = 0u; r < ROWS; ++r) {
        uint row = r0 + r;
        if (row >= p.rows) break;
        uint o = p.row_begin + row;
        float v = acc[r][tt];
        if ((p.flags & 1u) != 0u) v += bias[o];
        v = activate(v, act);
        uint yi = t * p.y_stride + o;
        if ((p.flags & 2u) != 0u) v = res[yi] + v;
        y[yi] = v;
      }
    }
  }
}
