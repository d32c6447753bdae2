#version 450
// Self-attention (causal or whole-sequence, see attention.comp) with one subgroup (8 lanes)
// per (tile of tokens, head) and no shared memory: the shape for CPU devices (see
// layer_norm_serial.comp). Lanes take keys j = lane, lane+8, ...; the max, the exp-sum and
// each output dimension are combined with subgroup reductions. Appends the tile's keys and
// values to the cache as attention.comp does, and reads keys of this batch from qkv (see
// there).
//
// A tile is up to TILE consecutive tokens (the host compiles TILE = 1 for decode steps); a run
// of them from one sequence (one slot, consecutive rows and positions) shares every key and
// value load, which lavapipe makes lane by lane, so the loads, not the arithmetic, set the
// speed. Each key's score is computed
// once and kept per lane for the softmax and the weighted sum. For every (token, head) the
// lanes, the order of every fma chain and reduction, and the operations are those of a tile
// of one token: the result does not depend on the tile, the batch or the pass (tested bit
// for bit).
// VEC4 (head_dim a multiple of 4): every buffer is read and written in vec4s; the arithmetic
// is the scalar variant's, fma for fma, in the same order.
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x = 8) in;
layout(constant_id = 0) const uint MAX_CONTEXT = 1024;
layout(constant_id = 1) const uint TILE = 8;         // tokens a workgroup takes
layout(constant_id = 2) const uint HEAD_DIM = 64;    // the model's, at most 256
const uint KEYS_PER_LANE = (MAX_CONTEXT + 7u) / 8u;  // scores a lane keeps per token

#ifdef VEC4
#define VT vec4
const uint PER = 4u;  // floats per VT
const uint HD = HEAD_DIM / 4u;
float chain(vec4 a, vec4 b, float s) {
  s = fma(a.x, b.x, s);
  s = fma(a.y, b.y, s);
  s = fma(a.z, b.z, s);
  return fma(a.w, b.w, s);
}
#else
#define VT float
const uint PER = 1u;
const uint HD = HEAD_DIM;
float chain(float a, float b, float s) { return fma(a, b, s); }
#endif

layout(std430, binding = 1) readonly buffer Meta { ivec2 meta[]; };  // (slot, position)
layout(std430, binding = 2) writeonly buffer K { VT kc[]; };
layout(std430, binding = 3) writeonly buffer V { VT vc[]; };
layout(std430, binding = 4) writeonly buffer Out { VT o[]; };
// Per token: (n, first): it attends to cache positions 0..n-1; positions from `first` on
// belong to this batch (see attention.comp).
layout(std430, binding = 5) readonly buffer Span { ivec2 span[]; };
#ifdef VEC4
// qkv and the caches are read as RGBA32UI texels: on lavapipe a texel fetch is a vector
// gather, where a storage-buffer load is a loop over the lanes. The caches are written
// through bindings 2 and 3; a pass reads only the positions earlier passes wrote.
layout(binding = 0) uniform usamplerBuffer qkv_texels;
layout(binding = 6) uniform usamplerBuffer k_texels;
layout(binding = 7) uniform usamplerBuffer v_texels;
vec4 load_qkv(uint i) { return uintBitsToFloat(texelFetch(qkv_texels, int(i))); }
vec4 load_k(uint i) { return uintBitsToFloat(texelFetch(k_texels, int(i))); }
vec4 load_v(uint i) { return uintBitsToFloat(texelFetch(v_texels, int(i))); }
#else
layout(std430, binding = 0) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 6) readonly buffer KRead { float k_read[]; };
layout(std430, binding = 7) readonly buffer VRead { float v_read[]; };
float load_qkv(uint i) { return qkv[i]; }
float load_k(uint i) { return k_read[i]; }
float load_v(uint i) { return v_read[i]; }
#endif

layout(push_constant) uniform Push {
  uint tokens;
  uint width;     // E
  uint head_dim;  // HEAD_DIM
  uint qkv_stride;
  uint out_stride;
  uint context;
  float scale;
}
p;

VT q[TILE][HD];
float scores[TILE][KEYS_PER_LANE];  // a lane's keys' scores, then their exponentials

// Tokens a..b-1 of one sequence against head h's keys. Lavapipe keeps an array indexed by a
// loop counter in memory and reads it lane by lane, so the loops over the tile are unrolled
// (their arrays stay in registers) and each pass keeps one operand there: the scores while
// a key is loaded, the accumulators of one dimension while the values are walked. A token
// past nq is computed on a copy of the last one and never stored.
void attend(uint a, uint b, uint h) {
  uint l = gl_LocalInvocationID.x;
  uint nq = b - a;
  ivec2 m = meta[a];
  uint first = uint(span[a].y);
  uint width = p.width / PER, qkv_stride = p.qkv_stride / PER;
  uint cache = uint(m.x) * p.context * width + h * HD;
  uint k_col = width + h * HD;  // this head's key in a qkv row; its value follows at +E
  uint row0 = a - uint(m.y);    // key j >= first sits in qkv row row0 + j
  uint n[TILE];
  uint n_max = 0u;
  [[unroll]] for (uint i = 0u; i < TILE; ++i) {
    uint t = a + min(i, nq - 1u);
    n[i] = uint(span[t].x);
    n_max = max(n_max, n[i]);
    uint qb = t * qkv_stride + h * HD;
    for (uint d = 0u; d < HD; ++d) q[i][d] = load_qkv(qb + d);
  }
  uint keys = (n_max + 7u) / 8u;  // scores[i][jj] belongs to key j = 8 jj + lane

  for (uint jj = 0u; jj < keys; ++jj) {
    uint j = 8u * jj + l;
    float s[TILE];
    [[unroll]] for (uint i = 0u; i < TILE; ++i) s[i] = 0.0;
    if (j < n_max) {
      if (j < first) {
        uint kb = cache + j * width;
        for (uint d = 0u; d < HD; ++d) {
          VT k = load_k(kb + d);
          [[unroll]] for (uint i = 0u; i < TILE; ++i) s[i] = chain(q[i][d], k, s[i]);
        }
      } else {
        uint kb = (row0 + j) * qkv_stride + k_col;
        for (uint d = 0u; d < HD; ++d) {
          VT k = load_qkv(kb + d);
          [[unroll]] for (uint i = 0u; i < TILE; ++i) s[i] = chain(q[i][d], k, s[i]);
        }
      }
    }
    [[unroll]] for (uint i = 0u; i < TILE; ++i) scores[i][jj] = s[i];
  }

  float row_sum[TILE];
  [[unroll]] for (uint i = 0u; i < TILE; ++i) {
    float local_max = -3.402823466e+38;
    for (uint jj = 0u; jj < keys; ++jj)
      if (8u * jj + l < n[i]) local_max = max(local_max, scores[i][jj] * p.scale);
    float mx = subgroupMax(local_max);
    row_sum[i] = 0.0;
    for (uint jj = 0u; jj < keys; ++jj) {
      float e = 0.0;
      if (8u * jj + l < n[i]) {
        e = exp(scores[i][jj] * p.scale - mx);
        row_sum[i] += e;
      }
      scores[i][jj] = e;
    }
  }

  float inv[TILE];
  [[unroll]] for (uint i = 0u; i < TILE; ++i) inv[i] = 1.0 / subgroupAdd(row_sum[i]);
  for (uint d = 0u; d < HD; ++d) {
    VT acc[TILE];
    [[unroll]] for (uint i = 0u; i < TILE; ++i) acc[i] = VT(0.0);
    for (uint jj = 0u; jj < keys; ++jj) {
      uint j = 8u * jj + l;
      if (j >= n_max) continue;
      VT v;
      if (j < first)
        v = load_v(cache + j * width + d);
      else
        v = load_qkv((row0 + j) * qkv_stride + k_col + width + d);
      [[unroll]] for (uint i = 0u; i < TILE; ++i) {
        if (j < n[i]) acc[i] = fma(VT(scores[i][jj]), v, acc[i]);
      }
    }
    [[unroll]] for (uint i = 0u; i < TILE; ++i) {
      VT v = subgroupAdd(acc[i]) * inv[i];
      if (l == 0u && i < nq) o[(a + i) * (p.out_stride / PER) + h * HD + d] = v;
    }
  }
}

// Token t follows token t - 1 in one sequence's run: same slot and first batch position,
// the next position.
bool continues(uint t) {
  return t > 0u && t < p.tokens && meta[t].x == meta[t - 1u].x && span[t].y == span[t - 1u].y &&
         meta[t].y == meta[t - 1u].y + 1;
}

// A token alone in its sequence's part of the batch (a decode step's).
bool single(uint t) { return !continues(t) && !continues(t + 1u); }

void append_kv(uint t, uint h) {
  uint l = gl_LocalInvocationID.x;
  uint width = p.width / PER, qkv_stride = p.qkv_stride / PER;
  ivec2 m = meta[t];
  uint qb = t * qkv_stride + h * HD;
  uint cb = (uint(m.x) * p.context + uint(m.y)) * width + h * HD;
  for (uint d = l; d < HD; d += 8u) {
    kc[cb + d] = load_qkv(qb + width + d);
    vc[cb + d] = load_qkv(qb + 2u * width + d);
  }
}

// TILE = 1: a workgroup per (token, head), for the batch's single tokens only. TILE > 1: a
// workgroup per (TILE tokens, head), for the tokens of runs only (a run cut by the tile's end
// goes on in the next). A pass with both dispatches both, so a decode token in a mixed pass
// costs no more than in a decode step.
void main() {
  uint heads = p.width / (HD * PER);
  uint begin = (gl_WorkGroupID.x / heads) * TILE;
  uint h = gl_WorkGroupID.x % heads;
  if (begin >= p.tokens) return;
  if (TILE == 1u) {
    if (single(begin)) {
      append_kv(begin, h);
      attend(begin, begin + 1u, h);
    }
    return;
  }
  uint end = min(begin + TILE, p.tokens);
  uint a = begin;
  while (a < end) {
    uint b = a + 1u;
    while (b < end && continues(b)) ++b;
    if (b - a > 1u || !single(a)) {
      for (uint t = a; t < b; ++t) append_kv(t, h);
      attend(a, b, h);
    }
    a = b;
  }
}
