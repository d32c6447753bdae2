#include <gtest/gtest.h>

#include <vector>

#include "repetition/loop.hpp"

namespace sg::detectors::repetition {
namespace {

std::vector<std::int32_t> repeat(std::vector<std::int32_t> head, std::vector<std::int32_t> unit,
                                 int times) {
  for (int i = 0; i < times; ++i) head.insert(head.end(), unit.begin(), unit.end());
  return head;
}

TEST(TerminalLoop, FindsTheShortestPeriod) {
  auto t = repeat({9, 8, 7}, {1, 2, 3, 4}, 6);  // 24 looping tokens after 3 others
  auto loop = terminal_loop(t);
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->period, 4);
  EXPECT_EQ(loop->length, 24);
}

TEST(TerminalLoop, RunMayStartMidUnitAndEndMidUnit) {
  auto t = repeat({5, 6}, {3, 4, 6}, 7);  // the 6 before the loop also fits the period
  t.push_back(3);
  auto loop = terminal_loop(t);
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->period, 3);
  EXPECT_EQ(loop->length, 23);
}

TEST(TerminalLoop, NeedsThreePeriodsAndSixteenTokens) {
  EXPECT_FALSE(terminal_loop(repeat({}, {1, 2, 3, 4, 5, 6}, 2)));           // 12 tokens, 2 periods
  EXPECT_FALSE(terminal_loop(repeat({}, {1, 2, 3, 4, 5, 6, 7}, 2)));        // 14 tokens
  EXPECT_FALSE(terminal_loop(repeat({}, {7}, 15)));                         // 15 < 16
  EXPECT_TRUE(terminal_loop(repeat({}, {7}, 16)));                          // 16 tokens, p = 1
  EXPECT_FALSE(terminal_loop(repeat({}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, 2)));  // 18 < 3p
  EXPECT_TRUE(terminal_loop(repeat({}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3)));
}

TEST(TerminalLoop, ALoopThatStoppedIsNotTerminal) {
  auto t = repeat({}, {1, 2}, 20);
  t.push_back(99);
  EXPECT_FALSE(terminal_loop(t));
}

TEST(TerminalLoop, RespectsTheLongestPeriodAllowed) {
  std::vector<std::int32_t> unit(300);
  for (int i = 0; i < 300; ++i) unit[static_cast<std::size_t>(i)] = i;
  auto t = repeat({}, unit, 3);
  EXPECT_FALSE(terminal_loop(t, 256));
  ASSERT_TRUE(terminal_loop(t, 300));
  EXPECT_EQ(terminal_loop(t, 300)->period, 300);
}

TEST(TerminalLoop, EmptyAndShortTexts) {
  EXPECT_FALSE(terminal_loop({}));
  EXPECT_FALSE(terminal_loop(std::vector<std::int32_t>{1, 1}));
}

TEST(LoopWithPeriod, JudgesOnePeriod) {
  const auto t = repeat({5}, {1, 2}, 10);  // 20 looping tokens after one other
  ASSERT_TRUE(loop_with_period(t, 4));     // multiples of the period qualify on their own
  EXPECT_EQ(loop_with_period(t, 4)->length, 20);
  EXPECT_FALSE(loop_with_period(t, 3));
  EXPECT_FALSE(loop_with_period(t, 0));
  EXPECT_FALSE(loop_with_period(t, 8));  // 3 · 8 > 21 tokens
}

}  // namespace
}  // namespace sg::detectors::repetition
