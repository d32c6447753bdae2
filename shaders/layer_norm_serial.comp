#version 450
// Layer norm with one subgroup (8 lanes, one SIMD vector on lavapipe) per row, reduced with
// subgroupAdd instead of shared memory and barriers: the shape for CPU devices, where a
// workgroup barrier is an expensive switch between lanes. Each row always meets the same
// lane layout, so its result never depends on the batch.
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x = 8) in;

layout(std430, binding = 0) readonly buffer In { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Out { float y[]; };

layout(push_constant) uniform Push {
  uint rows;
  uint width;
  uint stride;
  float eps;
}
p;

void main() {
  uint row = gl_WorkGroupID.x;
  uint l = gl_LocalInvocationID.x;
  if (row >= p.rows) return;
  uint base = row * p.stride;
  float s = 0.0;
  for (uint e = l; e < p.width; e += 8u) s += x[base + e];
  float mean = subgroupAdd(s) / float(p.width);
  float q = 0.0;
  for (uint e = l; e < p.width; e += 8u) {
    float d = x[base + e] - mean;
    q = fma(d, d, q);
  }
  float inv = 1.0 / sqrt(subgroupAdd(q) / float(p.width) + p.eps);
  for (uint e = l; e < p.width; e += 8u) y[base + e] = (x[base + e] - mean) * inv * w[e] + b[e];
}
