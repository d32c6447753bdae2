#version 450
// Self-attention for one (token, head) per workgroup: the token's query against the keys of
// its own sequence at positions 0..span-1 (all already in the KV cache), softmax, and
// the weighted sum of values. Scores are kept in shared memory (context <= MAX_CONTEXT);
// the reductions run in a fixed order, so the result never depends on the batch.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint MAX_CONTEXT = 1024;

layout(std430, binding = 0) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 1) readonly buffer Meta { ivec2 meta[]; };  // (slot, position)
layout(std430, binding = 2) readonly buffer K { float kc[]; };
layout(std430, binding = 3) readonly buffer V { float vc[]; };
layout(std430, binding = 4) writeonly buffer Out { float o[]; };
// How many cache positions (0..n-1) each token attends to: position + 1 (causal), or the
// whole sequence (an encoder, whose tokens are all in the cache before attention runs).
layout(std430, binding = 5) readonly buffer Span { int span[]; };

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
  uint n = uint(span[t]);
  uint hd = p.head_dim;
  uint head = h * hd;
  uint cache = uint(m.x) * p.context * p.width + head;

  for (uint d = l; d < hd; d += 64u) q[d] = qkv[t * p.qkv_stride + head + d];
  barrier();

  float local_max = -3.402823466e+38;
  for (uint j = l; j < n; j += 64u) {
    uint kb = cache + j * p.width;
    float s = 0.0;
    for (uint d = 0u; d < hd; ++d) s = fma(q[d], kc[kb + d], s);
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
    for (uint j = 0u; j < n; ++j) acc = fma(scores[j], vc[cache + j * p.width + d], acc);
    o[t * p.out_stride + head + d] = acc * inv;
  }
}
