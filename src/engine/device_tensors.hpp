// Weights and activations as they live on the device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vk/buffer.hpp"

namespace sg::engine {

constexpr int kColumnAlign = 16;  // the matmul reads 16 values at a time
// Rows of a weight chunk are padded to a multiple of this and of its layout's block, so no
// invocation reads past it.
constexpr int kRowAlign = 64;

inline int round_up(int n, int m) {
  return (n + m - 1) / m * m;
}

// How a weight matrix's 16-column pieces (a row's columns 16 kk .. 16 kk + 15) follow each
// other in its buffers. Row-major (lanes 0): row by row. Lane-interleaved: in blocks of
// lanes x rows_per_lane rows, the rows shaders/matmul.comp's workgroup owns (lane l: rows
// l * rows_per_lane ..). Within a block, column group kk holds piece j of every lane in turn,
// so the lanes' loads of one step are adjacent and a workgroup streams its block front to
// back: on lavapipe that made a GPT-2 124M decode step's matmuls 1.5-1.7x faster than rows
// read side by side (bench/README.md, "Lane-interleaved weights").
// The largest block a layout uses (the CPU matmul's 8 x 16 rows); planned_weight_bytes pads
// every matrix to it, so the plan never falls short of the upload.
constexpr int kMaxBlockRows = 128;

struct WeightLayout {
  int lanes = 0;
  int rows_per_lane = 0;
  int block_rows() const { return lanes > 0 ? lanes * rows_per_lane : 1; }
  bool operator==(const WeightLayout&) const = default;
};

// The index of row `row`'s piece `kk` (in 16-column pieces from the buffer's start) for a
// matrix of `k16` pieces a row (shaders/weight_piece.glsl is the shaders' copy).
inline std::size_t weight_piece(const WeightLayout& layout, int row, int kk, int k16) {
  const auto r = static_cast<std::size_t>(row), k = static_cast<std::size_t>(kk),
             n = static_cast<std::size_t>(k16);
  if (layout.lanes == 0) return r * n + k;
  const auto block = static_cast<std::size_t>(layout.block_rows()),
             per_lane = static_cast<std::size_t>(layout.rows_per_lane),
             lanes = static_cast<std::size_t>(layout.lanes);
  return (r / block * n + k) * block + r % per_lane * lanes + r % block / per_lane;
}

// A weight matrix stored as [rows, cols] (output-major) in `layout`, row length padded to
// `stride`, F16 or F32, split into chunks of rows so that no buffer exceeds the device's
// maxStorageBufferRange (GPT-2 1.5B's 160 MB token embedding on lavapipe's 128 MB).
struct Matrix {
  int rows = 0;
  int cols = 0;
  int stride = 0;
  bool f16 = false;
  WeightLayout layout;
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
