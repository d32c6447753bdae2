#version 450
// The matmul of shaders/matmul.comp for passes of several tokens on GPUs: y[t, o] =
// act(x[t, :] . W[o, :] + b[o]) (+ r[t, o]), with the same bindings (x from a storage
// buffer), push constants and layouts.
// A workgroup of 64 invocations computes a tile of 64 output rows x 16 tokens. Per step of
// 16 columns it unpacks the tile's 64 x 16 weights into shared memory once (one 16-half
// word per invocation) with the 16 tokens' x, and every invocation then computes 4 rows x
// 4 tokens from shared memory: each weight is read from device memory once per 16 tokens
// instead of once per token. Each output is still one fma chain over k in order starting
// at 0, as in the GEMV, so its bits do not depend on which kernel or how many tokens
// computed it (batch invariance across the GEMV and this kernel on one device).
#include "common.glsl"
#include "activation.glsl"

layout(local_size_x = 64) in;

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
  uint token_base;  // unused: x is bound whole
  uint k16;         // Kp / 16
  uint rows;        // rows of W in this chunk (real, not padded to 64)
  uint row_begin;
  uint y_stride;
  uint flags;
}
p;

const uint TILE_ROWS = 64u;
const uint TILE_TOKENS = 16u;

shared float w_tile[16][TILE_ROWS];  // [column][row]
shared vec4 x_tile[TILE_TOKENS][4];  // [token][4-column group]

void main() {
  uint lid = gl_LocalInvocationID.x;
  uint row0 = gl_WorkGroupID.x * TILE_ROWS;
  uint tok0 = gl_WorkGroupID.y * TILE_TOKENS;
  // This invocation's outputs: rows row0 + (lid % 16) + 16 i, tokens tok0 + (lid / 16) + 4 j.
  uint my_row = lid % 16u, my_tok = lid / 16u;
  float acc[4][4];
  for (uint i = 0u; i < 4u; ++i)
    for (uint j = 0u; j < 4u; ++j) acc[i][j] = 0.0;
  // Chunks are padded with zero rows to a multiple of 64, so every row of the tile exists;
  // tokens past the end repeat the last one and are not stored.
  uint load_tok = min(tok0 + lid / 4u, p.tokens - 1u);
  for (uint kk = 0u; kk < p.k16; ++kk) {
    uint wi = (row0 + lid) * p.k16 + kk;
#ifdef WEIGHT_F16
    u64vec4 v = w16[wi];
    vec4 w0 = unpack_half4(unpackUint2x32(v.x)), w1 = unpack_half4(unpackUint2x32(v.y));
    vec4 w2 = unpack_half4(unpackUint2x32(v.z)), w3 = unpack_half4(unpackUint2x32(v.w));
#else
    vec4 w0 = w4[wi * 4u], w1 = w4[wi * 4u + 1u], w2 = w4[wi * 4u + 2u], w3 = w4[wi * 4u + 3u];
#endif
    for (uint c = 0u; c < 4u; ++c) {
      w_tile[c][lid] = w0[c];
      w_tile[4u + c][lid] = w1[c];
      w_tile[8u + c][lid] = w2[c];
      w_tile[12u + c][lid] = w3[c];
    }
    x_tile[lid / 4u][lid % 4u] = x4[(load_tok * p.k16 + kk) * 4u + lid % 4u];
    barrier();
    for (uint q = 0u; q < 4u; ++q) {
      vec4 xs[4];
      for (uint j = 0u; j < 4u; ++j) xs[j] = x_tile[my_tok + 4u * j][q];
      for (uint c = 0u; c < 4u; ++c) {
        for (uint i = 0u; i < 4u; ++i) {
          float w = w_tile[4u * q + c][my_row + 16u * i];
          for (uint j = 0u; j < 4u; ++j) acc[i][j] = fma(w, xs[j][c], acc[i][j]);
        }
      }
    }
    barrier();
  }
  uint act = (p.flags >> 2) & 7u;
  for (uint j = 0u; j < 4u; ++j) {
    uint t = tok0 + my_tok + 4u * j;
    if (t >= p.tokens) break;
    for (uint i = 0u; i < 4u; ++i) {
      uint row = row0 + my_row + 16u * i;
      if (row >= p.rows) continue;
      uint o = p.row_begin + row;
      float v = acc[i][j];
      if ((p.flags & 1u) != 0u) v += bias[o];
      v = activate(v, act);
      uint yi = t * p.y_stride + o;
      if ((p.flags & 2u) != 0u) v = res[yi] + v;
      y[yi] = v;
    }
  }
}
