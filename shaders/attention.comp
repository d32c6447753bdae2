#version 450
// Self-attention for one (token, head) per workgroup: the token's query against the keys of
// its own sequence at positions 0..n-1, softmax, and the weighted sum of values. Scores are
// kept in shared memory (context <= MAX_CONTEXT); the reductions run in a fixed order, so the
// result never depends on the batch.
//
// The workgroup also appends its token's key and value to the KV cache (for later batches),
// so no separate dispatch and barrier precede it. A workgroup may not read a cache row that
// another one writes in the same dispatch, so keys and values of this batch's tokens
// (positions `first` and on) are read from qkv, where they came from: the same floats, so the
// result is bitwise the one read from the cache. A sequence's tokens in a batch are
// consecutive rows of consecutive positions: position j is in row t + j - position.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint MAX_CONTEXT = 1024;

layout(std430, binding = 0) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 1) readonly buffer Meta { ivec2 meta[]; };  // (slot, position)
layout(std430, binding = 2) buffer K { float kc[]; };
layout(std430, binding = 3) buffer V { float vc[]; };
layout(std430, binding = 4) writeonly buffer Out { float o[]; };
// Per token: (n, first). n: how many cache positions (0..n-1) it attends to: position + 1
// (causal), or the whole sequence (an encoder, whose tokens are all in one batch). first: the
// position of its sequence's first token in this batch.
layout(std430, binding = 5) readonly buffer Span { ivec2 span[]; };

layout(push_constant) uniform Push {
  uint tokens;
  uint width;  // E
  uint head_dim;
  uint qkv_stride;
  uint out_stride;
  uint context;  // positions per slot in the cache
  float scale;
}
p;

shared float scores[MAX_CONTEXT];
shared float q[256];
shared float red[64];

float reduce_max(float v) {
  uint l = gl_LocalInvocationID.x;
  red[l] = v;
  barrier();
  for (uint s = 32u; s > 0u; s >>= 1) {
    if (l < s) red[l] = max(red[l], red[l + s]);
    barrier();
  }
  float r = red[0];
  barrier();
  return r;
}

float reduce_sum(float v) {
  uint l = gl_LocalInvocationID.x;
  red[l] = v;
  barrier();
  for (uint s = 32u; s > 0u; s >>= 1) {
    if (l < s) red[l] += red[l + s];
    barrier();
  }
  float r = red[0];
  barrier();
  return r;
}

void main() {
  uint t = gl_WorkGroupID.x;
  uint h = gl_WorkGroupID.y;
  uint l = gl_LocalInvocationID.x;
  if (t >= p.tokens) return;
  ivec2 m = meta[t];
  uint n = uint(span[t].x);
  uint first = uint(span[t].y);
  uint pos = uint(m.y);
  uint hd = p.head_dim;
  uint head = h * hd;
  uint cache = uint(m.x) * p.context * p.width + head;
  uint qb = t * p.qkv_stride + head;
  uint k_col = p.width + head;  // this head's key in a qkv row; its value follows at +E
  uint in_cache = min(n, first);

  for (uint d = l; d < hd; d += 64u) {
    q[d] = qkv[qb + d];
    kc[cache + pos * p.width + d] = qkv[qb + p.width + d];
    vc[cache + pos * p.width + d] = qkv[qb + 2u * p.width + d];
  }
  barrier();

  float local_max = -3.402823466e+38;
  for (uint j = l; j < n; j += 64u) {
    float s = 0.0;
    if (j < first) {
      uint kb = cache + j * p.width;
      for (uint d = 0u; d < hd; ++d) s = fma(q[d], kc[kb + d], s);
    } else {
      uint kb = (t + j - pos) * p.qkv_stride + k_col;
      for (uint d = 0u; d < hd; ++d) s = fma(q[d], qkv[kb + d], s);
    }
    s *= p.scale;
    scores[j] = s;
    local_max = max(local_max, s);
  }
  float mx = reduce_max(local_max);
  float local_sum = 0.0;
  for (uint j = l; j < n; j += 64u) {
    float e = exp(scores[j] - mx);
    scores[j] = e;
    local_sum += e;
  }
  float total = reduce_sum(local_sum);  // its barriers also publish scores[]
  float inv = 1.0 / total;
  for (uint d = l; d < hd; d += 64u) {
    float acc = 0.0;
    for (uint j = 0u; j < in_cache; ++j) acc = fma(scores[j], vc[cache + j * p.width + d], acc);
    for (uint j = in_cache; j < n; ++j)
      acc = fma(scores[j], qkv[(t + j - pos) * p.qkv_stride + k_col + p.width + d], acc);
    o[t * p.out_stride + head + d] = acc * inv;
  }
}
