// Test helpers shared by the shader tests: random inputs, and activations moved between the
// host's dense [rows, cols] layout and the device's rows padded to kColumnAlign.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "engine/device_tensors.hpp"
#include "vk/context.hpp"

namespace sg::testing {

inline std::vector<float> random_values(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

// A device activation holding `values` ([rows, cols]), or zeros when `values` is empty.
inline engine::Activation upload_activation(gpu::Context& context, int rows, int cols,
                                            const std::vector<float>& values = {}) {
  const int stride = engine::round_up(cols, engine::kColumnAlign);
  std::vector<float> padded(static_cast<std::size_t>(rows * stride), 0.0f);
  for (int r = 0; r < rows && !values.empty(); ++r)
    for (int c = 0; c < cols; ++c)
      padded[static_cast<std::size_t>(r * stride + c)] =
          values[static_cast<std::size_t>(r * cols + c)];
  engine::Activation a{gpu::Buffer(context, padded.size() * 4, gpu::Memory::kDevice), rows, cols,
                       stride};
  a.buffer.write(0, std::as_bytes(std::span(padded)));
  return a;
}

inline std::vector<float> read_activation(const engine::Activation& a) {
  std::vector<float> padded(static_cast<std::size_t>(a.rows * a.stride));
  a.buffer.read(0, std::as_writable_bytes(std::span(padded)));
  std::vector<float> out(static_cast<std::size_t>(a.rows * a.cols));
  for (int r = 0; r < a.rows; ++r)
    for (int c = 0; c < a.cols; ++c)
      out[static_cast<std::size_t>(r * a.cols + c)] =
          padded[static_cast<std::size_t>(r * a.stride + c)];
  return out;
}

}  // namespace sg::testing
