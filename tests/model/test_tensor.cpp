// F16/BF16 conversions used when weights are uploaded.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/errors.hpp"
#include "model/tensor.hpp"

namespace sg::model {
namespace {

TEST(Half, RoundTripsEveryHalf) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    auto v = static_cast<std::uint16_t>(h);
    float f = half_to_float(v);
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_half(f), v) << std::hex << h;
  }
}

TEST(Half, RoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
  EXPECT_EQ(float_to_half(1.0f + 0x1.0p-11f), 0x3C00);
  // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
  EXPECT_EQ(float_to_half(1.0f + 3 * 0x1.0p-11f), 0x3C02);
  EXPECT_EQ(float_to_half(1.0f + 0x1.2p-11f), 0x3C01);  // above halfway rounds up
}

TEST(Half, SubnormalsOverflowAndNan) {
  EXPECT_EQ(float_to_half(0x1.0p-24f), 0x0001);   // smallest subnormal
  EXPECT_EQ(float_to_half(0x1.0p-26f), 0x0000);   // below half of it: zero
  EXPECT_EQ(float_to_half(-0x1.8p-24f), 0x8002);  // 1.5 ulp ties to even (2)
  EXPECT_EQ(float_to_half(65504.0f), 0x7BFF);     // largest half
  EXPECT_EQ(float_to_half(65519.0f), 0x7BFF);     // still rounds down
  EXPECT_EQ(float_to_half(65520.0f), 0x7C00);     // ties to even: infinity
  EXPECT_EQ(float_to_half(-1e6f), 0xFC00);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::nanf("")))));
  EXPECT_FLOAT_EQ(half_to_float(0x0001), 0x1.0p-24f);
}

TEST(Bf16, FitsF16OnlyWhenEveryValueDoes) {
  auto bf16 = [](float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return static_cast<std::uint16_t>(u >> 16);
  };
  std::vector<std::uint16_t> small{bf16(1.0f), bf16(-300.0f), bf16(60000.0f)};
  std::vector<std::uint16_t> large{bf16(1.0f), bf16(70000.0f)};
  TensorView a{"a", "f", DType::kBF16, {3}, std::as_bytes(std::span(small))};
  TensorView b{"b", "f", DType::kBF16, {2}, std::as_bytes(std::span(large))};
  EXPECT_TRUE(fits_f16(a));
  EXPECT_FALSE(fits_f16(b));
  EXPECT_FLOAT_EQ(to_f32(b)[1], 69632.0f);  // 70000 with its mantissa truncated to bf16
}

TEST(Tensor, NonFiniteWeightsAreRefused) {
  std::vector<float> v{1.0f, std::numeric_limits<float>::infinity()};
  TensorView t{
      "h.0.ln_1.weight", "model.safetensors", DType::kF32, {2}, std::as_bytes(std::span(v))};
  try {
    to_f32(t);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("h.0.ln_1.weight"), std::string::npos);
  }
}

}  // namespace
}  // namespace sg::model
