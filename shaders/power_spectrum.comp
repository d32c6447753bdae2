#version 450
// x[i] = |x[i]|² (as a complex number with zero imaginary part): between VkFFT's forward and
// inverse transforms it turns a spectrum into the transform of the autocorrelation.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Data { vec2 x[]; };

layout(push_constant) uniform Push {
  uint count;
  uint row;  // elements per dispatch row (gl_NumWorkGroups.x * 256)
}
p;

void main() {
  uint i = gl_GlobalInvocationID.y * p.row + gl_GlobalInvocationID.x;
  if (i >= p.count) return;
  vec2 v = x[i];
  x[i] = vec2(dot(v, v), 0.0);
}
