// A safetensors file's header and data layout, read from memory: it must accept or refuse
// with sg::InputError, and every tensor it accepts lies inside the file's data, overlaps no
// other, and holds exactly dtype size x product(shape) bytes (computed here without
// overflow). Accepted small tensors are also converted, so that ASan sees every byte read.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "model/safetensors_reader.hpp"
#include "model/tensor.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// dtype size x product(shape), or nothing on overflow.
bool byte_size(const sg::model::TensorView& t, std::uint64_t& out) {
  out = sg::model::dtype_size(t.dtype);
  for (auto d : t.shape) {
    if (d < 0 || __builtin_mul_overflow(out, static_cast<std::uint64_t>(d), &out)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    // Names ending in ".skip" take the mask buffers' path (any dtype, bounds-checked, unlisted).
    const auto tensors = sg::model::parse_safetensors(
        bytes, "fuzz.safetensors", [](const std::string& n) { return n.ends_with(".skip"); });
    check(size >= 8);
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
    check(header_len <= size - 8);
    const std::byte* data_begin = bytes.data() + 8 + header_len;
    const std::byte* file_end = bytes.data() + size;
    std::vector<std::span<const std::byte>> extents;
    for (const auto& [name, t] : tensors) {
      check(t.name == name && !name.ends_with(".skip") && t.file == "fuzz.safetensors");
      check(t.data.data() >= data_begin && t.data.data() <= file_end);
      check(t.data.size() <= static_cast<std::size_t>(file_end - t.data.data()));
      std::uint64_t expected = 0;
      check(byte_size(t, expected));
      check(expected == t.data.size());
      check(static_cast<std::uint64_t>(t.numel()) * sg::model::dtype_size(t.dtype) == expected);
      if (!t.data.empty()) extents.push_back(t.data);
      if (t.data.size() <= 4096) {
        try {
          check(sg::model::to_f32(t).size() == static_cast<std::size_t>(t.numel()));
          if (sg::model::fits_f16(t))
            check(sg::model::to_f16(t).size() == static_cast<std::size_t>(t.numel()));
        } catch (const sg::InputError&) {
          // inf or NaN in the weights: refused, as it should be.
        }
      }
    }
    std::sort(extents.begin(), extents.end(),
              [](const auto& a, const auto& b) { return a.data() < b.data(); });
    for (std::size_t i = 1; i < extents.size(); ++i)
      check(extents[i].data() >= extents[i - 1].data() + extents[i - 1].size());
  } catch (const sg::InputError&) {
    // A refusal is a correct answer to bad input.
  }
  return 0;
}
