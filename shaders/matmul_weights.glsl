// The matmuls' weight reads and their 16-column fma chain, shared by matmul.comp and
// matmul_split.comp. Include after the W binding (w_texels by W_TEXELS, else w16 or w4 by
// WEIGHT_F16). load_w reads a row's 16-column piece by its index in the buffer (the caller
// knows the layout: src/engine/device_tensors.hpp, weight_piece).

void load_w(uint piece, out vec4 w[4]) {
#if defined(WEIGHT_F16) && defined(W_TEXELS)
  uint base = piece * 2u;
  uvec4 lo = texelFetch(w_texels, int(base)), hi = texelFetch(w_texels, int(base + 1u));
  w[0] = unpack_half4(lo.xy);
  w[1] = unpack_half4(lo.zw);
  w[2] = unpack_half4(hi.xy);
  w[3] = unpack_half4(hi.zw);
#elif defined(W_TEXELS)
  uint base = piece * 4u;
  for (uint i = 0u; i < 4u; ++i) w[i] = uintBitsToFloat(texelFetch(w_texels, int(base + i)));
#elif defined(WEIGHT_F16)
  u64vec4 v = w16[piece];
  w[0] = unpack_half4(unpackUint2x32(v.x));
  w[1] = unpack_half4(unpackUint2x32(v.y));
  w[2] = unpack_half4(unpackUint2x32(v.z));
  w[3] = unpack_half4(unpackUint2x32(v.w));
#else
  uint base = piece * 4u;
  w[0] = w4[base];
  w[1] = w4[base + 1u];
  w[2] = w4[base + 2u];
  w[3] = w4[base + 3u];
#endif
}

float dot16(vec4 w[4], vec4 a, vec4 b, vec4 c, vec4 d, float acc) {
  acc = fma(w[0].x, a.x, acc);
  acc = fma(w[0].y, a.y, acc);
  acc = fma(w[0].z, a.z, acc);
  acc = fma(w[0].w, a.w, acc);
  acc = fma(w[1].x, b.x, acc);
  acc = fma(w[1].y, b.y, acc);
  acc = fma(w[1].z, b.z, acc);
  acc = fma(w[1].w, b.w, acc);
  acc = fma(w[2].x, c.x, acc);
  acc = fma(w[2].y, c.y, acc);
  acc = fma(w[2].z, c.z, acc);
  acc = fma(w[2].w, c.w, acc);
  acc = fma(w[3].x, d.x, acc);
  acc = fma(w[3].y, d.y, acc);
  acc = fma(w[3].z, d.z, acc);
  acc = fma(w[3].w, d.w, acc);
  return acc;
}
