#version 450
// What sampling needs of each picked logits row, without reading the row back
// (engine/logit_summary.hpp merges the lanes on the host). Lane j of a row reads
// the ids j, j + L, j + 2L, ... in order and keeps: its largest logit m and the first id
// holding it, the sums of exp(l - m) and exp((l - m) / t) (t: the row's temperature), and its
// M best logits with their ids, best first (ties: the lower id first). There is no barrier
// and no cross-lane reduction: lavapipe runs a barrier as a switch between lanes, and the
// host merging lanes in a fixed order keeps every figure independent of the batch.
// A row's L lanes are split over workgroups of 64, so that a CPU device spreads even one
// row over its cores.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint L = 256;  // lanes per row
layout(constant_id = 1) const uint M = 8;    // best logits kept per lane

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) readonly buffer Temperatures { float temperature[]; };
// Per (row, lane), 4 + 2M words: m, its id, the two sums, M logits, M ids (floats as bits).
layout(std430, binding = 2) writeonly buffer Records { uint records[]; };

layout(push_constant) uniform Push {
  uint rows;
  uint width;   // logits per row
  uint stride;  // floats between rows
}
p;

void main() {
  const uint row = gl_WorkGroupID.y;
  const uint lane = gl_GlobalInvocationID.x;
  const uint lanes = L;
  if (row >= p.rows || lane >= L) return;
  const float t = temperature[row];
  const float neg_inf = uintBitsToFloat(0xff800000u);

  float m = neg_inf;
  uint arg = 0xffffffffu;
  float s1 = 0.0;
  float st = 0.0;
  float best[M];
  uint best_id[M];
  for (uint k = 0; k < M; ++k) {
    best[k] = neg_inf;
    best_id[k] = 0xffffffffu;
  }
  const uint base = row * p.stride;
  for (uint i = lane; i < p.width; i += lanes) {
    const float l = logits[base + i];
    if (l == neg_inf) continue;  // adds nothing; exp(-inf - -inf) would be NaN
    if (l > m) {
      // Rescale the sums to the new maximum (online softmax).
      s1 *= exp(m - l);
      st *= exp((m - l) / t);
      m = l;
      arg = i;
    }
    s1 += exp(l - m);  // a NaN logit makes the sums NaN, which the host refuses
    st += exp((l - m) / t);
    if (l > best[M - 1]) {
      // Insert (l, i), keeping the list ordered by logit, then id.
      float v = l;
      uint id = i;
      for (uint k = 0; k < M; ++k) {
        if (v > best[k] || (v == best[k] && id < best_id[k])) {
          const float sv = best[k];
          const uint si = best_id[k];
          best[k] = v;
          best_id[k] = id;
          v = sv;
          id = si;
        }
      }
    }
  }
  const uint at = (row * lanes + lane) * (4u + 2u * M);
  records[at] = floatBitsToUint(m);
  records[at + 1u] = arg;
  records[at + 2u] = floatBitsToUint(s1);
  records[at + 3u] = floatBitsToUint(st);
  for (uint k = 0; k < M; ++k) {
    records[at + 4u + k] = floatBitsToUint(best[k]);
    records[at + 4u + M + k] = best_id[k];
  }
}
