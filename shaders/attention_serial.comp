#version 450
// Self-attention (causal or whole-sequence, see attention.comp) with one subgroup (8 lanes)
// per (token, head) and no shared memory: the shape for CPU devices (see
// layer_norm_serial.comp). Lanes take keys j = lane, lane+8, ...; the max, the exp-sum and
// each output dimension are combined with subgroup reductions. Each (token, head) always
// meets the same lane layout: batch invariant. Appends the token's key and value to the
// cache as attention.comp does, and reads keys of this batch from qkv (see there).
// VEC4 (head_dim a multiple of 4): every buffer is read and written in vec4s. Lavapipe loads
// a storage buffer lane by lane, so the bytes per load set the speed; the arithmetic is the
// scalar variant's, fma for fma, in the same order.
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x = 8) in;

#ifdef VEC4
#define VT vec4
const uint PER = 4u;  // floats per VT
float chain(vec4 a, vec4 b, float s) {
  s = fma(a.x, b.x, s);
  s = fma(a.y, b.y, s);
  s = fma(a.z, b.z, s);
  return fma(a.w, b.w, s);
}
#else
#define VT float
const uint PER = 1u;
float chain(float a, float b, float s) { return fma(a, b, s); }
#endif

layout(std430, binding = 0) readonly buffer Qkv { VT qkv[]; };
layout(std430, binding = 1) readonly buffer Meta { ivec2 meta[]; };  // (slot, position)
layout(std430, binding = 2) buffer K { VT kc[]; };
layout(std430, binding = 3) buffer V { VT vc[]; };
layout(std430, binding = 4) writeonly buffer Out { VT o[]; };
// Per token: (n, first): it attends to cache positions 0..n-1; positions from `first` on
// belong to this batch (see attention.comp).
layout(std430, binding = 5) readonly buffer Span { ivec2 span[]; };

layout(push_constant) uniform Push {
  uint tokens;
  uint width;     // E
  uint head_dim;  // at most 256
  uint qkv_stride;
  uint out_stride;
  uint context;
  float scale;
}
p;

void main() {
  uint heads = p.width / p.head_dim;
  uint t = gl_WorkGroupID.x / heads;
  uint h = gl_WorkGroupID.x % heads;
  uint l = gl_LocalInvocationID.x;
  if (t >= p.tokens) return;
  ivec2 m = meta[t];
  uint n = uint(span[t].x);
  uint first = uint(span[t].y);
  uint pos = uint(m.y);
  // Offsets below count VTs: with VEC4 every width, stride and head offset is a multiple of 4.
  uint hd = p.head_dim / PER;
  uint width = p.width / PER, qkv_stride = p.qkv_stride / PER;
  uint qb = t * qkv_stride + h * hd;
  uint cache = uint(m.x) * p.context * width + h * hd;
  uint k_col = width + h * hd;  // this head's key in a qkv row; its value follows at +E

  for (uint d = l; d < hd; d += 8u) {
    kc[cache + pos * width + d] = qkv[qb + width + d];
    vc[cache + pos * width + d] = qkv[qb + 2u * width + d];
  }

  VT q[256 / PER];
  for (uint d = 0u; d < hd; ++d) q[d] = qkv[qb + d];

  float local_max = -3.402823466e+38;
  for (uint j = l; j < n; j += 8u) {
    float s = 0.0;
    if (j < first) {
      uint kb = cache + j * width;
      for (uint d = 0u; d < hd; ++d) s = chain(q[d], kc[kb + d], s);
    } else {
      uint kb = (t + j - pos) * qkv_stride + k_col;  // key j's row in this batch
      for (uint d = 0u; d < hd; ++d) s = chain(q[d], qkv[kb + d], s);
    }
    local_max = max(local_max, s * p.scale);
  }
  float mx = subgroupMax(local_max);
  VT acc[256 / PER];
  for (uint d = 0u; d < hd; ++d) acc[d] = VT(0.0);
  float local_sum = 0.0;
  for (uint j = l; j < n; j += 8u) {
    float s = 0.0;
    if (j < first) {
      uint kb = cache + j * width;
      for (uint d = 0u; d < hd; ++d) s = chain(q[d], kc[kb + d], s);
      float e = exp(s * p.scale - mx);
      local_sum += e;
      for (uint d = 0u; d < hd; ++d) acc[d] = fma(VT(e), vc[kb + d], acc[d]);
    } else {
      uint kb = (t + j - pos) * qkv_stride + k_col;  // key j's row in this batch
      for (uint d = 0u; d < hd; ++d) s = chain(q[d], qkv[kb + d], s);
      float e = exp(s * p.scale - mx);
      local_sum += e;
      for (uint d = 0u; d < hd; ++d) acc[d] = fma(VT(e), qkv[kb + width + d], acc[d]);
    }
  }
  float inv = 1.0 / subgroupAdd(local_sum);
  uint ob = t * (p.out_stride / PER) + h * hd;
  for (uint d = 0u; d < hd; ++d) {
    VT v = subgroupAdd(acc[d]) * inv;
    if (l == 0u) o[ob + d] = v;
  }
}
