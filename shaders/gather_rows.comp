#version 450
// out[i, :] = x[rows[i], :] — picks the rows that need logits (e.g. each sequence's last).
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer In { float x[]; };
layout(std430, binding = 1) readonly buffer Rows { int rows[]; };
layout(std430, binding = 2) writeonly buffer Out { float y[]; };

layout(push_constant) uniform Push {
  uint count;
  uint stride;
}
p;

void main() {
  uint e = gl_GlobalInvocationID.x;
  uint i = gl_GlobalInvocationID.y;
  if (e >= p.stride || i >= p.count) return;
  y[i * p.stride + e] = x[uint(rows[i]) * p.stride + e];
}
