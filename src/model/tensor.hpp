// A read-only view of one tensor in a memory-mapped weight file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sg::model {

enum class DType { kF32, kF16, kBF16 };

std::size_t dtype_size(DType dtype);
std::string to_string(DType dtype);

struct TensorView {
  std::string name;  // as in the file, e.g. "transformer.h.0.attn.c_attn.weight"
  std::string file;  // the file it lives in, for error messages
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;  // little-endian, row-major, dtype_size * numel bytes

  std::int64_t numel() const;
};

// Conversions used when uploading weights. Each returns row-major values.
// An inf or NaN in the source is a corrupt or diverged checkpoint: to_f32 and to_f16 throw
// sg::InputError naming the file, tensor and element, rather than upload it.
std::vector<float> to_f32(const TensorView& t);
// IEEE half bits, round-to-nearest-even; a finite value beyond F16's range becomes inf, so
// convert F32/BF16 sources only when fits_f16() says so.
std::vector<std::uint16_t> to_f16(const TensorView& t);
// True when every finite value converts to F16 without overflow to infinity, i.e. |x| rounds
// to at most 65504 (BF16 weights become F16 only then; otherwise the tensor stays F32).
// Always true for F16. Inf/NaN in the source do not count here: the conversion refuses them.
bool fits_f16(const TensorView& t);

float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);  // round to nearest even; overflow -> inf
float bf16_to_float(std::uint16_t b);
// float_to_half over a whole row, vectorized: for callers that convert into their own layout
// (padded rows) instead of calling float_to_half once per value. Sizes must match.
void floats_to_halves(std::span<const float> in, std::span<std::uint16_t> out);

}  // namespace sg::model
