// Bootstrap intervals against an independent implementation of their written definition
// (tools/bootstrap_reference.py, fixtures in tests/fixtures/intervals/): the same draws, so
// the same interval to the last bit; and no interval where fewer than two values leave
// nothing to resample.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "seam/intervals.hpp"

namespace sg::detectors {
namespace {

using nlohmann::json;

json fixture() {
  std::ifstream in(std::string(STAGEGATE_FIXTURES) + "/intervals/bootstrap.json");
  if (!in) throw std::runtime_error("missing tests/fixtures/intervals/bootstrap.json");
  return json::parse(in);
}

void expect_interval(const Interval& got, const json& want, const std::string& name) {
  EXPECT_DOUBLE_EQ(got.value, want["value"].get<double>()) << name;
  if (want["low"].is_null()) {
    EXPECT_FALSE(got.low) << name;
    EXPECT_FALSE(got.high) << name;
    return;
  }
  ASSERT_TRUE(got.low && got.high) << name;
  EXPECT_DOUBLE_EQ(*got.low, want["low"].get<double>()) << name;
  EXPECT_DOUBLE_EQ(*got.high, want["high"].get<double>()) << name;
  EXPECT_LE(*got.low, *got.high) << name;
}

TEST(Intervals, BootstrapMeanMatchesTheIndependentReference) {
  const auto cases = fixture()["mean"];
  ASSERT_GE(cases.size(), 5u);
  for (const auto& c : cases) {
    const auto values = c["values"].get<std::vector<double>>();
    expect_interval(bootstrap_mean(values), c["expected"], c["name"]);
  }
}

TEST(Intervals, BootstrapPerplexityMatchesTheIndependentReference) {
  const auto cases = fixture()["perplexity"];
  ASSERT_GE(cases.size(), 2u);
  for (const auto& c : cases) {
    const auto texts = c["texts"].get<std::vector<std::vector<double>>>();
    expect_interval(bootstrap_perplexity(texts), c["expected"], c["name"]);
  }
}

TEST(Intervals, BootstrapRatioMatchesTheIndependentReference) {
  const auto cases = fixture()["ratio"];
  ASSERT_GE(cases.size(), 3u);
  for (const auto& c : cases) {
    const auto num = c["numerators"].get<std::vector<double>>();
    const auto den = c["denominators"].get<std::vector<double>>();
    expect_interval(bootstrap_ratio(num, den), c["expected"], c["name"]);
  }
  EXPECT_THROW(bootstrap_ratio(std::vector<double>{1.0}, std::vector<double>{}),
               std::invalid_argument);
}

TEST(Intervals, WilsonMatchesTheClosedFormAndIsExactAtTheEnds) {
  // Reference values: Wilson's formula evaluated independently in Python (z = 1.95996).
  auto iv = wilson_interval(5, 10);
  EXPECT_DOUBLE_EQ(iv.value, 0.5);
  EXPECT_NEAR(*iv.low, 0.236593, 1e-6);
  EXPECT_NEAR(*iv.high, 0.763407, 1e-6);
  iv = wilson_interval(0, 10);
  EXPECT_EQ(*iv.low, 0.0);
  EXPECT_NEAR(*iv.high, 0.277533, 1e-6);
  iv = wilson_interval(7, 7);
  EXPECT_EQ(*iv.high, 1.0);
  EXPECT_NEAR(*iv.low, 0.645670, 1e-6);
  EXPECT_FALSE(wilson_interval(0, 0).low);
}

TEST(Intervals, FewerThanTwoValuesHaveNoInterval) {
  EXPECT_FALSE(bootstrap_mean(std::vector<double>{}).low);
  const auto one = bootstrap_mean(std::vector<double>{7.0});
  EXPECT_EQ(one.value, 7.0);
  EXPECT_FALSE(one.low);
  EXPECT_FALSE(one.high);
  const std::vector<std::vector<double>> text = {{-1.0, -2.0}};
  EXPECT_FALSE(bootstrap_perplexity(text).low);
}

// The written-out draw is the one libstdc++'s uniform_int_distribution makes from a 64-bit
// generator today, so intervals stored before it was written out are unchanged (the
// before-the-seam database test relies on it).
TEST(Intervals, UniformIndexIsLibstdcxxsDraw) {
  for (std::uint64_t n : {2ull, 3ull, 7ull, 33ull, 1000ull, (1ull << 63) + 5}) {
    std::mt19937_64 a(n), b(n);
    std::uniform_int_distribution<std::uint64_t> dist(0, n - 1);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(uniform_index(a, n), dist(b)) << n;
  }
}

}  // namespace
}  // namespace sg::detectors
