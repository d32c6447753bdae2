#version 450
// Copies each token's key and value (from the fused q|k|v projection) into its sequence's
// slot of the KV cache at its position. Cache layout: [slot][position][width], F32.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 1) readonly buffer Meta { ivec2 meta[]; };  // (slot, position)
layout(std430, binding = 2) writeonly buffer K { float kc[]; };
layout(std430, binding = 3) writeonly buffer V { float vc[]; };

layout(push_constant) uniform Push {
  uint tokens;
  uint width;       // E
  uint qkv_stride;  // padded 3E
  uint context;     // positions per slot in the cache
}
p;

void main() {
  uint e = gl_GlobalInvocationID.x;
  uint t = gl_GlobalInvocationID.y;
  if (e >= p.width || t >= p.tokens) return;
  ivec2 m = meta[t];
  uint dst = (uint(m.x) * p.context + uint(m.y)) * p.width + e;
  uint src = t * p.qkv_stride;
  kc[dst] = qkv[src + p.width + e];
  vc[dst] = qkv[src + 2u * p.width + e];
}
