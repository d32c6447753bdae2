#include "model/tensor.hpp"

#include <bit>
#include <cstring>

#include "common/errors.hpp"

namespace sg::model {

namespace {

// The conversions run over every weight at upload (1.5B values for GPT-2 XL), so they are
// written without branches: selects by mask instead of `?:`, which lets the compiler
// vectorize the bulk loops below (see CMakeLists.txt). The bit tricks follow Marat
// Dukhan's FP16 library; tests check them against every half and a sweep of floats.

constexpr std::uint32_t kF32ExpMask = 0x7f800000u;

inline std::uint32_t select(bool condition, std::uint32_t if_true, std::uint32_t if_false) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(condition);
  return (if_true & mask) | (if_false & ~mask);
}

inline float half_bits_to_float(std::uint16_t h) {
  const std::uint32_t w = static_cast<std::uint32_t>(h) << 16;
  const std::uint32_t sign = w & 0x80000000u;
  const std::uint32_t two_w = w + w;  // exponent and mantissa, sign shifted out
  // Normal, inf and NaN: move the fields into place and rebias by multiplying (exact).
  const float normal = std::bit_cast<float>((two_w >> 4) + (0xe0u << 23)) * 0x1.0p-112f;
  // Subnormal: the mantissa placed under 0.5's exponent, minus 0.5 (exact).
  const float subnormal = std::bit_cast<float>((two_w >> 17) | (126u << 23)) - 0.5f;
  return std::bit_cast<float>(sign |
                              select(two_w < (1u << 27), std::bit_cast<std::uint32_t>(subnormal),
                                     std::bit_cast<std::uint32_t>(normal)));
}

inline std::uint16_t float_to_half_bits(float f) {
  const std::uint32_t w = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t two_w = w + w;
  const std::uint32_t sign = w & 0x80000000u;
  // Scaling up then down makes values beyond half's range overflow to inf in F32.
  float base = (std::bit_cast<float>(w & 0x7fffffffu) * 0x1.0p+112f) * 0x1.0p-110f;
  // Adding a power of two whose ulp is half's ulp at this exponent makes the FPU round the
  // mantissa to nearest even (the default mode); subnormals share the smallest exponent.
  std::uint32_t bias = two_w & 0xff000000u;
  bias = select(bias < 0x71000000u, 0x71000000u, bias);
  base = std::bit_cast<float>((bias >> 1) + 0x07800000u) + base;
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(base);
  const std::uint32_t magnitude = ((bits >> 13) & 0x7c00u) + (bits & 0x0fffu);
  return static_cast<std::uint16_t>((sign >> 16) | select(two_w > 0xff000000u, 0x7e00u, magnitude));
}

// |x| >= 65520 rounds to infinity in F16 (65504 is the largest half; ties go to even).
constexpr std::uint32_t kF16OverflowBits = 0x477ff000u;

// Typed loads from a mapped file: the data may sit at any alignment.
template <typename T>
inline T load(const std::byte* p, std::size_t i) {
  T v;
  std::memcpy(&v, p + sizeof(T) * i, sizeof(T));
  return v;
}

std::size_t checked_numel(const TensorView& t) {
  const auto n = static_cast<std::size_t>(t.numel());
  if (t.data.size() != n * dtype_size(t.dtype))
    throw InputError(t.file + ": tensor '" + t.name + "' has " + std::to_string(t.data.size()) +
                     " bytes for " + std::to_string(n) + " values of " + to_string(t.dtype));
  return n;
}

// Infinity or NaN in a weight means a corrupt or diverged checkpoint: refused by name rather
// than uploaded to produce NaN logits later.
[[noreturn]] void not_finite(const TensorView& t, std::size_t i) {
  throw InputError(t.file + ": tensor '" + t.name +
                   "' holds a non-finite value (inf or NaN) at element " + std::to_string(i) +
                   ": a corrupt or diverged checkpoint");
}

// Returns the first element whose bits (F32 layout) have an all-ones exponent, or n.
std::size_t first_non_finite(const TensorView& t, std::size_t n) {
  const std::byte* p = t.data.data();
  auto bits = [&](std::size_t i) -> std::uint32_t {
    switch (t.dtype) {
      case DType::kF32:
        return load<std::uint32_t>(p, i);
      case DType::kF16: {
        const std::uint32_t h = load<std::uint16_t>(p, i);
        return select((h & 0x7c00u) == 0x7c00u, kF32ExpMask, 0u);
      }
      case DType::kBF16:
        return static_cast<std::uint32_t>(load<std::uint16_t>(p, i)) << 16;
    }
    return 0;
  };
  for (std::size_t i = 0; i < n; ++i)
    if ((bits(i) & kF32ExpMask) == kF32ExpMask) return i;
  return n;
}

// A vectorizable any-of: cheap enough to run before every conversion.
bool all_finite(const TensorView& t, std::size_t n) {
  const std::byte* p = t.data.data();
  std::uint32_t bad = 0;
  switch (t.dtype) {
    case DType::kF32:
      for (std::size_t i = 0; i < n; ++i)
        bad |= static_cast<std::uint32_t>((load<std::uint32_t>(p, i) & kF32ExpMask) == kF32ExpMask);
      break;
    case DType::kF16:
      for (std::size_t i = 0; i < n; ++i)
        bad |= static_cast<std::uint32_t>((load<std::uint16_t>(p, i) & 0x7c00u) == 0x7c00u);
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < n; ++i)
        bad |= static_cast<std::uint32_t>((load<std::uint16_t>(p, i) & 0x7f80u) == 0x7f80u);
      break;
  }
  return bad == 0;
}

void require_finite(const TensorView& t, std::size_t n) {
  if (!all_finite(t, n)) not_finite(t, first_non_finite(t, n));
}

}  // namespace

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
  return half_bits_to_float(h);
}

std::uint16_t float_to_half(float f) {
  return float_to_half_bits(f);
}

float bf16_to_float(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

void floats_to_halves(std::span<const float> in, std::span<std::uint16_t> out) {
  if (in.size() != out.size())
    throw RuntimeError("floats_to_halves: " + std::to_string(in.size()) + " values into " +
                       std::to_string(out.size()));
  const float* src = in.data();
  std::uint16_t* dst = out.data();
  for (std::size_t i = 0; i < in.size(); ++i) dst[i] = float_to_half_bits(src[i]);
}

std::vector<float> to_f32(const TensorView& t) {
  const std::size_t n = checked_numel(t);
  require_finite(t, n);
  std::vector<float> out(n);
  const std::byte* p = t.data.data();
  float* dst = out.data();
  switch (t.dtype) {
    case DType::kF32:
      // An empty tensor's vector has no storage: memcpy from or to null is undefined even
      // for 0 bytes.
      if (n != 0) std::memcpy(dst, p, n * sizeof(float));
      break;
    case DType::kF16:
      for (std::size_t i = 0; i < n; ++i) dst[i] = half_bits_to_float(load<std::uint16_t>(p, i));
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < n; ++i) dst[i] = bf16_to_float(load<std::uint16_t>(p, i));
      break;
  }
  return out;
}

std::vector<std::uint16_t> to_f16(const TensorView& t) {
  const std::size_t n = checked_numel(t);
  require_finite(t, n);
  std::vector<std::uint16_t> out(n);
  const std::byte* p = t.data.data();
  std::uint16_t* dst = out.data();
  switch (t.dtype) {
    case DType::kF32:
      for (std::size_t i = 0; i < n; ++i) dst[i] = float_to_half_bits(load<float>(p, i));
      break;
    case DType::kF16:
      if (n != 0) std::memcpy(dst, p, n * sizeof(std::uint16_t));  // as in to_f32
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < n; ++i)
        dst[i] = float_to_half_bits(bf16_to_float(load<std::uint16_t>(p, i)));
      break;
  }
  return out;
}

bool fits_f16(const TensorView& t) {
  const std::size_t n = checked_numel(t);
  if (t.dtype == DType::kF16) return true;
  const std::byte* p = t.data.data();
  std::uint32_t overflow = 0;
  // Finite values only: inf/NaN are left to the conversion, which refuses them by name.
  auto check = [&](std::uint32_t bits) {
    const std::uint32_t magnitude = bits & 0x7fffffffu;
    overflow |=
        static_cast<std::uint32_t>(magnitude >= kF16OverflowBits && magnitude < kF32ExpMask);
  };
  if (t.dtype == DType::kF32) {
    for (std::size_t i = 0; i < n; ++i) check(load<std::uint32_t>(p, i));
  } else {
    for (std::size_t i = 0; i < n; ++i)
      check(static_cast<std::uint32_t>(load<std::uint16_t>(p, i)) << 16);
  }
  return overflow == 0;
}

}  // namespace sg::model
