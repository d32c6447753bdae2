// Shared by the compute shaders. Activations are F32 rows padded to a multiple of 16
// columns (the padding stays zero); F16 weights are read as packed words and unpacked
// with unpackHalf2x16, which needs no 16-bit shader features.
#extension GL_ARB_gpu_shader_int64 : require

vec4 unpack_half4(uvec2 words) {
  return vec4(unpackHalf2x16(words.x), unpackHalf2x16(words.y));
}
