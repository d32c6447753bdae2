#version 450
// y[t, :] = (x[t, :] - mean) / sqrt(var + eps) * w + b, one workgroup per row.
// The reductions run in a fixed tree order, so a row's result never depends on the others.
layout(local_size_x = 64) in;

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

shared float partial[64];

float row_sum(float v) {
  uint l = gl_LocalInvocationID.x;
  partial[l] = v;
  barrier();
  for (uint s = 32u; s > 0u; s >>= 1) {
    if (l < s) partial[l] += partial[l + s];
    barrier();
  }
  float total = partial[0];
  barrier();
  return total;
}

void main() {
  uint row = gl_WorkGroupID.x;
  uint l = gl_LocalInvocationID.x;
  if (row >= p.rows) return;
  uint base = row * p.stride;
  float s = 0.0;
  for (uint e = l; e < p.width; e += 64u) s += x[base + e];
  float mean = row_sum(s) / float(p.width);
  float q = 0.0;
  for (uint e = l; e < p.width; e += 64u) {
    float d = x[base + e] - mean;
    q = fma(d, d, q);
  }
  float var = row_sum(q) / float(p.width);
  float inv = 1.0 / sqrt(var + p.eps);
  for (uint e = l; e < p.width; e += 64u) y[base + e] = (x[base + e] - mean) * inv * w[e] + b[e];
}
