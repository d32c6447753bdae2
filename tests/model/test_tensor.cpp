// F16/BF16 conversions used when weights are uploaded.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

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

// An obviously correct reference: the nearest of all finite halves by exhaustive search of a
// sorted table, ties to the even bit pattern, and |f| >= 65520 (half-way past 65504) to inf.
std::uint16_t reference_half(float f) {
  static const std::vector<double> positive = [] {
    std::vector<double> v;
    for (std::uint32_t h = 0; h <= 0x7bff; ++h)
      v.push_back(half_to_float(static_cast<std::uint16_t>(h)));
    return v;
  }();
  const std::uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7c00;
  auto hi = static_cast<std::uint16_t>(std::lower_bound(positive.begin(), positive.end(), a) -
                                       positive.begin());
  if (hi == positive.size()) return sign | 0x7bff;  // in (65504, 65520): rounds down
  if (positive[hi] == a || hi == 0) return sign | hi;
  const auto lo = static_cast<std::uint16_t>(hi - 1);
  const double below = a - positive[lo], above = positive[hi] - a;
  if (below < above || (below == above && lo % 2 == 0)) return sign | lo;
  return sign | hi;
}

TEST(Half, MatchesAReferenceOnASweepOfFloats) {
  // Every 9973rd float (a prime stride touches every exponent and many mantissas), plus the
  // exact midpoints between neighbouring halves and their float neighbours.
  std::vector<float> inputs;
  for (std::uint64_t u = 0; u < (1ull << 32); u += 9973) {
    float f = std::bit_cast<float>(static_cast<std::uint32_t>(u));
    if (!std::isnan(f) && !std::isinf(f)) inputs.push_back(f);
  }
  for (std::uint32_t h = 0; h < 0x7bff; ++h) {
    float mid = (half_to_float(static_cast<std::uint16_t>(h)) +
                 half_to_float(static_cast<std::uint16_t>(h + 1))) /
                2;  // exact in float
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)})
      inputs.insert(inputs.end(), {f, -f});
  }
  std::vector<std::uint16_t> bulk(inputs.size());
  floats_to_halves(inputs, bulk);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto want = reference_half(inputs[i]);
    ASSERT_EQ(float_to_half(inputs[i]), want) << std::hexfloat << inputs[i];
    ASSERT_EQ(bulk[i], want) << std::hexfloat << inputs[i];
  }
}

TEST(Half, BulkAndScalarAgreeOnSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> in{0.0f,    -0.0f,    inf,      -inf,        std::nanf(""), 1e-45f,
                        -1e-45f, 65504.0f, 65520.0f, 1.0f / 3.0f, 0x1.0p-14f,    0x1.ffcp-15f};
  std::vector<std::uint16_t> out(in.size());
  floats_to_halves(in, out);
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], float_to_half(in[i])) << i;
  EXPECT_EQ(out[2], 0x7c00);
  EXPECT_EQ(out[3], 0xfc00);
  EXPECT_GT(out[4] & 0x7fff, 0x7c00);  // NaN stays NaN
  EXPECT_EQ(out[5], 0x0000);           // float subnormals underflow to zero
  EXPECT_EQ(out[6], 0x8000);
  EXPECT_EQ(out[10], 0x0400);  // smallest normal half
  EXPECT_EQ(out[11], 0x0400);  // largest subnormal + half an ulp rounds up to the normal
  std::vector<std::uint16_t> too_short(3);
  EXPECT_THROW(floats_to_halves(in, too_short), RuntimeError);
}

TEST(Tensor, NonFiniteWeightsAreRefusedByEveryConversion) {
  std::vector<float> f32{1.0f, 2.0f, std::nanf("")};
  std::vector<std::uint16_t> f16{0x3c00, 0x7c00};        // 1, inf
  std::vector<std::uint16_t> bf16{0x3f80, 0x0, 0xff80};  // 1, 0, -inf
  const TensorView views[] = {
      {"h.0.mlp.c_fc.bias", "model.safetensors", DType::kF32, {3}, std::as_bytes(std::span(f32))},
      {"h.0.mlp.c_fc.bias", "model.safetensors", DType::kF16, {2}, std::as_bytes(std::span(f16))},
      {"h.0.mlp.c_fc.bias",
       "model.safetensors",
       DType::kBF16,
       {3},
       std::as_bytes(std::span(bf16))}};
  const char* element[] = {"element 2", "element 1", "element 2"};
  for (int i = 0; i < 3; ++i) {
    for (bool half : {false, true}) {
      try {
        half ? (void)to_f16(views[i]) : (void)to_f32(views[i]);
        ADD_FAILURE() << "converted " << to_string(views[i].dtype);
      } catch (const InputError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("model.safetensors"), std::string::npos) << m;
        EXPECT_NE(m.find("h.0.mlp.c_fc.bias"), std::string::npos) << m;
        EXPECT_NE(m.find(element[i]), std::string::npos) << m;
      }
    }
    EXPECT_TRUE(fits_f16(views[i]));  // range only: non-finite values are the conversion's call
  }
}

TEST(Tensor, ViewSizeMustMatchItsShape) {
  std::vector<float> v{1.0f, 2.0f};
  TensorView t{"x", "model.safetensors", DType::kF32, {3}, std::as_bytes(std::span(v))};
  EXPECT_THROW(to_f32(t), InputError);
  EXPECT_THROW(to_f16(t), InputError);
}

// Found by fuzz_safetensors: an empty tensor was memcpy'd into a vector without storage
// (null), undefined behaviour that UBSan reports even for 0 bytes.
TEST(Tensor, EmptyTensorsConvertToNothing) {
  const std::byte bytes[4] = {};
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    TensorView t{"z", "model.safetensors", dtype, {0, 3}, std::span(bytes).subspan(4)};
    EXPECT_TRUE(to_f32(t).empty());
    EXPECT_TRUE(to_f16(t).empty());
    EXPECT_TRUE(fits_f16(t));
  }
}

TEST(Tensor, F32FitsF16ByRounding) {
  std::vector<float> fits{65519.0f, -65519.0f, 1e-30f};
  std::vector<float> over{1.0f, -65520.0f};
  TensorView a{"a", "f", DType::kF32, {3}, std::as_bytes(std::span(fits))};
  TensorView b{"b", "f", DType::kF32, {2}, std::as_bytes(std::span(over))};
  EXPECT_TRUE(fits_f16(a));
  EXPECT_FALSE(fits_f16(b));
  EXPECT_EQ(to_f16(a), (std::vector<std::uint16_t>{0x7bff, 0xfbff, 0x0000}));
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
