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
std::vector<float> to_f32(const TensorView& t);
std::vector<std::uint16_t> to_f16(const TensorView& t);  // IEEE half bits, round-to-nearest-even
// True when every value converts to F16 without overflow to infinity (BF16 weights become
// F16 only then; otherwise the tensor stays F32).
bool fits_f16(const TensorView& t);

float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);  // round to nearest even; overflow -> inf
float bf16_to_float(std::uint16_t b);

}  // namespace sg::model
