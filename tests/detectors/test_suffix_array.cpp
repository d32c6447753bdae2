#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "memorization/suffix_array.hpp"

namespace {

namespace mem = sg::detectors::memorization;

template <typename Sym>
std::vector<std::uint32_t> naive_suffix_array(const std::vector<Sym>& text) {
  std::vector<std::uint32_t> sa(text.size());
  std::iota(sa.begin(), sa.end(), 0u);
  std::sort(sa.begin(), sa.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::lexicographical_compare(text.begin() + a, text.end(), text.begin() + b, text.end());
  });
  return sa;
}

template <typename Sym>
void expect_sorted(const std::vector<Sym>& text, std::uint32_t alphabet) {
  std::vector<std::uint32_t> sa(text.size());
  mem::suffix_sort(std::span<const Sym>(text), sa, alphabet);
  ASSERT_EQ(sa, naive_suffix_array(text)) << "text of " << text.size();
}

TEST(SuffixSort, EmptyAndOneSymbol) {
  expect_sorted(std::vector<std::uint16_t>{}, 4);
  expect_sorted(std::vector<std::uint16_t>{3}, 4);
  expect_sorted(std::vector<std::uint32_t>{0}, 1);
}

TEST(SuffixSort, RepetitiveTexts) {
  expect_sorted(std::vector<std::uint16_t>(100, 2), 3);  // one run: no LMS positions
  std::vector<std::uint16_t> periodic, decreasing;
  for (int i = 0; i < 120; ++i) periodic.push_back(static_cast<std::uint16_t>(i % 3));
  for (int i = 50; i > 0; --i) decreasing.push_back(static_cast<std::uint16_t>(i));
  expect_sorted(periodic, 3);
  expect_sorted(decreasing, 51);
  // Deep recursion: a Fibonacci word repeats at every scale.
  std::vector<std::uint16_t> a{0}, b{0, 1};
  while (b.size() < 3000) {
    auto next = b;
    next.insert(next.end(), a.begin(), a.end());
    a = std::move(b);
    b = std::move(next);
  }
  expect_sorted(b, 2);
}

TEST(SuffixSort, RandomTextsMatchNaiveSort) {
  std::mt19937 rng(7);
  for (std::uint32_t alphabet : {2u, 3u, 5u, 300u}) {
    for (int round = 0; round < 40; ++round) {
      std::uniform_int_distribution<std::uint32_t> sym(0, alphabet - 1);
      std::uniform_int_distribution<int> len(0, 400);
      std::vector<std::uint16_t> t16(static_cast<std::size_t>(len(rng)));
      for (auto& s : t16) s = static_cast<std::uint16_t>(sym(rng));
      expect_sorted(t16, alphabet);
      std::vector<std::uint32_t> t32(t16.begin(), t16.end());
      for (auto& s : t32) s += 70000;
      expect_sorted(t32, alphabet + 70000);
    }
  }
}

}  // namespace
