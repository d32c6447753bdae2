// Weights and activations as they live on the device.
#pragma once

#include <cstdint>
#include <vector>

#include "vk/buffer.hpp"

namespace sg::engine {

constexpr int kColumnAlign = 16;  // the matmul reads 16 values at a time
constexpr int kRowAlign = 64;     // rows of a weight chunk, so no invocation reads past it

inline int round_up(int n, int m) {
  return (n + m - 1) / m * m;
}

// A weight matrix stored as [rows, cols] (output-major), row length padded to `stride`,
// F16 or F32, split into chunks of rows so that no buffer exceeds the device's
// maxStorageBufferRange (GPT-2 1.5B's 160 MB token embedding on lavapipe's 128 MB).
struct Matrix {
  int rows = 0;
  int cols = 0;
  int stride = 0;
  bool f16 = false;
  struct Chunk {
    gpu::Buffer buffer;
    int row_begin;
    int rows;
  };
  std::vector<Chunk> chunks;
  std::uint64_t bytes() const;
};

// An activation: `rows` rows of `stride` floats (the first `cols` used, the rest zero).
struct Activation {
  gpu::Buffer buffer;
  int rows = 0;
  int cols = 0;
  int stride = 0;
};

}  // namespace sg::engine
