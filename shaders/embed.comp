#version 450
// x[t, :] = tok_embed[ids[t], :] + pos_embed[position[t], :]
// tok_embed may be split into row chunks (a buffer holds at most maxStorageBufferRange
// bytes); this dispatch handles the tokens whose id falls in [row_begin, row_begin+rows).
#include "common.glsl"
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Ids { int ids[]; };
layout(std430, binding = 1) readonly buffer Meta { ivec2 meta[]; };  // (slot, position)
#ifdef WEIGHT_F16
layout(std430, binding = 2) readonly buffer Tok { uint tok[]; };  // two halves per word
#else
layout(std430, binding = 2) readonly buffer Tok { float tok[]; };
#endif
layout(std430, binding = 3) readonly buffer PosEmb { float pos_emb[]; };
layout(std430, binding = 4) writeonly buffer Out { float x[]; };

layout(push_constant) uniform Push {
  uint tokens;  // T
  uint width;   // E, the real number of columns
  uint stride;  // padded row length of x, tok_embed and pos_embed
  uint row_begin;
  uint rows;
  uint lanes;  // tok_embed's WeightLayout (src/engine/device_tensors.hpp); 0: row-major
  uint rows_per_lane;
}
p;

#include "weight_piece.glsl"

void main() {
  uint e = gl_GlobalInvocationID.x;
  uint t = gl_GlobalInvocationID.y;
  if (e >= p.width || t >= p.tokens) return;
  int id = ids[t];
  if (id < int(p.row_begin) || id >= int(p.row_begin + p.rows)) return;
  uint piece =
      weight_piece(uint(id - int(p.row_begin)), e / 16u, p.stride / 16u, p.lanes, p.rows_per_lane);
  uint i = piece * 16u + e % 16u;
#ifdef WEIGHT_F16
  float w = unpackHalf2x16(tok[i >> 1])[i & 1u];
#else
  float w = tok[i];
#endif
  x[t * p.stride + e] = w + pos_emb[uint(meta[t].y) * p.stride + e];
}
