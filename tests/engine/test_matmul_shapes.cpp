// The matmul for passes of many tokens, in every shape a device may run (the lavapipe GEMV
// over blocks of tokens, from a uniform window or a storage buffer, and the GPUs' split sums
// forced here on whatever device runs the tests): against a CPU reference at odd sizes,
// and bit for bit against the same rows computed one token at a time (batch invariance).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <iostream>
#include <optional>
#include <random>
#include <span>
#include <string>

#include "common/errors.hpp"
#include "engine/activation_io.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/kernels.hpp"
#include "engine/weights.hpp"
#include "model/tensor.hpp"

namespace sg::engine {
namespace {

using testing::random_values;
using testing::read_activation;
using testing::upload_activation;

struct Shape {
  const char* name;
  KernelShapes shapes;
};
const Shape kShapes[] = {
    {"gemv_texels", KernelShapes::cpu()},
    {"gemv_storage", {.serial_rows = false, .texel_x = false, .split_k = false}},
    {"gemv_row_major_texel_weights",
     {.serial_rows = true,
      .texel_x = true,
      .split_k = false,
      .texel_weights = true,
      .interleave_weights = false}},
    {"gemv_interleaved_storage_weights",
     {.serial_rows = true,
      .texel_x = true,
      .split_k = false,
      .texel_weights = false,
      .interleave_weights = true}},
    {"split", KernelShapes::gpu()},
};

struct Case {
  int tokens, k, n;
  bool f16;
  int chunk_rows;  // 0: one chunk
};

using Param = std::tuple<Case, Shape>;

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  const auto& [c, shape] = info.param;
  return std::string(shape.name) + "_T" + std::to_string(c.tokens) + "_K" + std::to_string(c.k) +
         "_N" + std::to_string(c.n) + (c.f16 ? "_f16" : "_f32") + (c.chunk_rows ? "_chunked" : "");
}

class MatmulShapeTest : public testing::GpuTest, public ::testing::WithParamInterface<Param> {
 protected:
  Activation activation(int rows, int cols, const std::vector<float>& values) {
    return upload_activation(gpu(), rows, cols, values);
  }
  static std::vector<float> read(const Activation& a) { return read_activation(a); }
};

double gelu_tanh(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

TEST_P(MatmulShapeTest, MatchesCpuReferenceAndEachTokenAlone) {
  const auto& [c, shape] = GetParam();
  const auto x = random_values(static_cast<std::size_t>(c.tokens * c.k), 11, 1.0f);
  const auto w = random_values(static_cast<std::size_t>(c.n * c.k), 12, 0.2f);
  const auto b = random_values(static_cast<std::size_t>(c.n), 13, 1.0f);
  const auto r = random_values(static_cast<std::size_t>(c.tokens * c.n), 14, 1.0f);
  Kernels kernels(gpu(), 64, shape.shapes);
  auto wm = upload_matrix(gpu(), w, c.n, c.k, c.f16, c.chunk_rows, kernels.weight_layout());
  gpu::Buffer bias(gpu(), b.size() * 4, gpu::Memory::kDevice);
  bias.write(0, std::as_bytes(std::span(b)));
  auto xa = activation(c.tokens, c.k, x);
  auto ya = activation(c.tokens, c.n, r);  // the residual, overwritten in place
  gpu::CommandStream cs(gpu());
  cs.begin();
  kernels.matmul(cs, xa, wm, &bias, &ya, ya, c.tokens, Act::kGeluTanh);
  cs.submit_and_wait();
  const auto batched = read(ya);
  ASSERT_EQ(batched.size(), static_cast<std::size_t>(c.tokens * c.n));
  for (int t = 0; t < c.tokens; ++t) {
    for (int o = 0; o < c.n; ++o) {
      double acc = 0;
      for (int i = 0; i < c.k; ++i) {
        float wv = w[static_cast<std::size_t>(o * c.k + i)];
        if (c.f16) wv = model::half_to_float(model::float_to_half(wv));
        acc += static_cast<double>(wv) * x[static_cast<std::size_t>(t * c.k + i)];
      }
      const double want = gelu_tanh(acc + b[static_cast<std::size_t>(o)]) +
                          r[static_cast<std::size_t>(t * c.n + o)];
      const float got = batched[static_cast<std::size_t>(t * c.n + o)];
      ASSERT_NEAR(got, want, 1e-4 * (1 + std::abs(want))) << "token " << t << " row " << o;
    }
  }
  // Tokens at the ends, at tile and block edges and in the middle, each alone (the decode
  // path: the GEMV), must give the same bits as in the pass.
  std::vector<int> alone{0, c.tokens - 1, c.tokens / 2, 7, 8, 15, 16, 17};
  int compared = 0;
  for (int t : alone) {
    if (t < 0 || t >= c.tokens) continue;
    std::vector<float> one(x.begin() + t * c.k, x.begin() + (t + 1) * c.k);
    std::vector<float> res(r.begin() + t * c.n, r.begin() + (t + 1) * c.n);
    auto x1 = activation(1, c.k, one);
    auto y1 = activation(1, c.n, res);
    cs.begin();
    kernels.matmul(cs, x1, wm, &bias, &y1, y1, 1, Act::kGeluTanh);
    cs.submit_and_wait();
    const auto single = read(y1);
    ASSERT_EQ(0, std::memcmp(single.data(), batched.data() + static_cast<std::size_t>(t * c.n),
                             static_cast<std::size_t>(c.n) * 4))
        << "token " << t << " alone differs from the same token in a pass of " << c.tokens;
    ++compared;
  }
  EXPECT_GE(compared, 1);
}

// One output of the GPUs' split matmul, summed in the order shaders/matmul_split.comp
// documents: 32 k-lanes, each an fma chain over every 32nd block of 16 columns, then a
// pairwise tree. Vulkan lets a device round an fma once or twice (as a multiply and an add):
// `fused` picks which.
float split_sum(std::span<const float> w, std::span<const float> x, bool fused) {
  std::array<float, 32> part{};
  const std::size_t blocks = (w.size() + 15) / 16;
  for (std::size_t lane = 0; lane < part.size(); ++lane)
    for (std::size_t kk = lane; kk < blocks; kk += part.size())
      for (std::size_t i = kk * 16; i < std::min(w.size(), kk * 16 + 16); ++i)
        part[lane] = fused ? std::fma(w[i], x[i], part[lane]) : w[i] * x[i] + part[lane];
  for (std::size_t s = part.size() / 2; s > 0; s /= 2)
    for (std::size_t l = 0; l < s; ++l) part[l] = part[l] + part[l + s];
  return part[0];
}

// The lane-interleaved layout puts every piece of a padded matrix somewhere, once, and one
// step's pieces of a workgroup's lanes side by side.
TEST(WeightLayout, InterleavedPiecesAreAPermutationWithTheLanesAdjacent) {
  const WeightLayout layout{.lanes = 8, .rows_per_lane = 16};
  const int rows = 3 * layout.block_rows(), k16 = 5;
  std::vector<int> seen(static_cast<std::size_t>(rows * k16), 0);
  for (int r = 0; r < rows; ++r)
    for (int kk = 0; kk < k16; ++kk) ++seen.at(weight_piece(layout, r, kk, k16));
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), rows * k16);
  for (int block = 0; block < 3; ++block)
    for (int kk = 0; kk < k16; ++kk)
      for (int j = 0; j < layout.rows_per_lane; ++j)
        for (int lane = 1; lane < layout.lanes; ++lane) {
          const int row = block * layout.block_rows() + lane * layout.rows_per_lane + j;
          EXPECT_EQ(weight_piece(layout, row, kk, k16),
                    weight_piece(layout, row - layout.rows_per_lane, kk, k16) + 1);
        }
  EXPECT_EQ(weight_piece({}, 7, 3, k16), 7u * k16 + 3u);  // row-major
}

class LayoutMismatchTest : public testing::GpuTest {};

// A matrix laid out for other kernels is refused, not read as garbage.
TEST_F(LayoutMismatchTest, MatmulRefusesWeightsInAnotherLayout) {
  Kernels cpu_shape(gpu(), 64, KernelShapes::cpu()), split(gpu(), 64, KernelShapes::gpu());
  ASSERT_NE(cpu_shape.weight_layout(), split.weight_layout());
  const int k = 32, n = 8;
  auto wm = upload_matrix(gpu(), random_values(static_cast<std::size_t>(n * k), 23, 0.2f), n, k,
                          true, 0, split.weight_layout());
  auto xa = upload_activation(gpu(), 1, k, random_values(static_cast<std::size_t>(k), 24, 1.0f));
  auto ya = upload_activation(gpu(), 1, n);
  gpu::CommandStream cs(gpu());
  cs.begin();
  EXPECT_THROW(cpu_shape.matmul(cs, xa, wm, nullptr, nullptr, ya, 1), RuntimeError);
}

bool same_bits(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The order is what makes one token alone and the same token in a tile give the same bits;
// emulated here in float, bit for bit, for one token and for a tile, with the device's fma
// (once or twice rounded, the same for every output).
class SplitMatmulTest : public testing::GpuTest {};

TEST_F(SplitMatmulTest, SumsInTheDocumentedOrder) {
  const int k = 1000, n = 37, tokens = 11;  // 63 blocks: k-lanes with 1 and 2 blocks
  const auto x = random_values(static_cast<std::size_t>(tokens * k), 21, 1.0f);
  auto w = random_values(static_cast<std::size_t>(n * k), 22, 0.2f);
  Kernels kernels(gpu(), 64, KernelShapes::gpu());
  auto wm = upload_matrix(gpu(), w, n, k, true, 0, kernels.weight_layout());
  for (auto& v : w) v = model::half_to_float(model::float_to_half(v));  // as stored
  std::optional<bool> fused;
  for (int pass_tokens : {1, tokens}) {
    auto xa = upload_activation(gpu(), pass_tokens, k,
                                std::vector<float>(x.begin(), x.begin() + pass_tokens * k));
    auto ya = upload_activation(gpu(), pass_tokens, n);
    gpu::CommandStream cs(gpu());
    cs.begin();
    kernels.matmul(cs, xa, wm, nullptr, nullptr, ya, pass_tokens);
    cs.submit_and_wait();
    const auto got = read_activation(ya);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(pass_tokens * n));
    for (int t = 0; t < pass_tokens; ++t) {
      for (int o = 0; o < n; ++o) {
        std::span row(w.data() + static_cast<std::ptrdiff_t>(o) * k, static_cast<std::size_t>(k));
        std::span xt(x.data() + static_cast<std::ptrdiff_t>(t) * k, static_cast<std::size_t>(k));
        const float g = got[static_cast<std::size_t>(t * n + o)];
        if (!fused) {
          if (same_bits(g, split_sum(row, xt, true)))
            fused = true;
          else if (same_bits(g, split_sum(row, xt, false)))
            fused = false;
          else
            FAIL() << "the first output " << g << " is neither order's: fused "
                   << split_sum(row, xt, true) << ", unfused " << split_sum(row, xt, false);
        }
        ASSERT_TRUE(same_bits(g, split_sum(row, xt, *fused)))
            << "token " << t << " row " << o << " of a pass of " << pass_tokens << ": " << g
            << " vs " << split_sum(row, xt, *fused) << (*fused ? " (fused)" : " (unfused)");
      }
    }
  }
  ASSERT_TRUE(fused.has_value());
  std::cout << "device fma: " << (*fused ? "one rounding" : "a multiply and an add") << "\n";
}

INSTANTIATE_TEST_SUITE_P(
    OddSizes, MatmulShapeTest,
    ::testing::Combine(::testing::Values(Case{1, 131, 257, true, 0}, Case{3, 131, 257, true, 0},
                                         Case{8, 97, 131, false, 0}, Case{17, 131, 257, true, 128},
                                         Case{127, 37, 67, true, 0}, Case{129, 53, 71, false, 64},
                                         Case{700, 29, 41, true, 0}),
                       ::testing::ValuesIn(kShapes)),
    param_name);

}  // namespace
}  // namespace sg::engine
