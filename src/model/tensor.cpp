#include "model/tensor.hpp"

#include <bit>
#include <cmath>
#include <cstring>

#include "common/errors.hpp"

namespace sg::model {

std::size_t dtype_size(DType dtype) {
  return dtype == DType::kF32 ? 4 : 2;
}

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
  }
  return "?";
}

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) return std::bit_cast<float>(sign);
    // Subnormal: value = mant * 2^-24, exact in float.
    float v = static_cast<float>(mant) * 0x1.0p-24f;
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(v) | sign);
  }
  if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

std::uint16_t float_to_half(float f) {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);   // NaN
  if (x >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (x < 0x38800000u) {
    // Subnormal or zero in half: round |f| * 2^24 to the nearest integer, ties to even.
    float a = std::bit_cast<float>(x) * 0x1.0p24f;
    auto m = static_cast<std::uint32_t>(std::nearbyint(a));  // default rounding: to even
    return static_cast<std::uint16_t>(sign | m);
  }
  // Normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even.
  std::uint32_t rounded = x + 0x0fffu + ((x >> 13) & 1u);
  return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

float bf16_to_float(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

namespace {

template <typename F>
void for_each_value(const TensorView& t, F f) {
  const std::size_t n = static_cast<std::size_t>(t.numel());
  const std::byte* p = t.data.data();
  switch (t.dtype) {
    case DType::kF32:
      for (std::size_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, p + 4 * i, 4);
        f(i, v);
      }
      break;
    case DType::kF16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        f(i, half_to_float(h));
      }
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        f(i, bf16_to_float(h));
      }
      break;
  }
}

[[noreturn]] void not_finite(const TensorView& t, std::size_t i) {
  throw InputError(t.file + ": tensor '" + t.name + "' holds a non-finite value at element " +
                   std::to_string(i) + " (a corrupt or diverged checkpoint)");
}

}  // namespace

std::vector<float> to_f32(const TensorView& t) {
  std::vector<float> out(static_cast<std::size_t>(t.numel()));
  bool finite = true;
  for_each_value(t, [&](std::size_t i, float v) {
    out[i] = v;
    finite &= std::isfinite(v);
  });
  if (!finite)
    for (std::size_t i = 0; i < out.size(); ++i)
      if (!std::isfinite(out[i])) not_finite(t, i);
  return out;
}

std::vector<std::uint16_t> to_f16(const TensorView& t) {
  std::vector<std::uint16_t> out(static_cast<std::size_t>(t.numel()));
  if (t.dtype == DType::kF16) {
    std::memcpy(out.data(), t.data.data(), out.size() * 2);
    return out;
  }
  for_each_value(t, [&](std::size_t i, float v) { out[i] = float_to_half(v); });
  return out;
}

bool fits_f16(const TensorView& t) {
  if (t.dtype == DType::kF16) return true;
  bool fits = true;
  for_each_value(t, [&](std::size_t, float v) {
    if (std::isfinite(v) && (float_to_half(v) & 0x7c00u) == 0x7c00u) fits = false;
  });
  return fits;
}

}  // namespace sg::model
