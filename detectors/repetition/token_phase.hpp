// Token ids as points on the unit circle, for autocorrelation by FFT: the correlation of two
// positions is cos(θa − θb), exactly 1 where the tokens are equal and, for unequal tokens,
// a pseudo-random number that averages to zero.
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>
#include <numbers>

namespace sg::detectors::repetition {

inline std::complex<float> token_phase(std::int32_t id) {
  // A fixed integer mix (splitmix64's finaliser) so neighbouring ids get unrelated angles.
  auto x = static_cast<std::uint64_t>(static_cast<std::uint32_t>(id)) + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  const double angle = 2 * std::numbers::pi * static_cast<double>(x >> 11) * 0x1p-53;
  return {static_cast<float>(std::cos(angle)), static_cast<float>(std::sin(angle))};
}

}  // namespace sg::detectors::repetition
