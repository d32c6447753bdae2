// The loop stop: fed one token at a time, as the generator does, it stops at the first
// output that ends in a loop by terminal_loop's definition, and names the loop.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <vector>

#include "repetition/loop.hpp"
#include "repetition/loop_stop.hpp"

namespace sg::detectors::repetition {
namespace {

struct Stopped {
  std::size_t tokens = 0;  // output length when it stopped
  engine::FilterStop stop;
};

// Feeds `tokens` one by one; the first stop, if any.
std::optional<Stopped> feed(const std::vector<std::int32_t>& tokens,
                            const LoopStopSettings& settings = {}) {
  const std::vector<std::int32_t> prompt{1, 2, 3};
  auto filter = LoopStopFactory(settings).make();
  std::vector<std::int32_t> out;
  for (auto t : tokens) {
    EXPECT_FALSE(filter->veto({prompt, out}, t));  // it never vetoes
    out.push_back(t);
    if (auto s = filter->stop({prompt, out})) return Stopped{out.size(), std::move(*s)};
  }
  return std::nullopt;
}

std::vector<std::int32_t> repeat(std::vector<std::int32_t> head, std::vector<std::int32_t> unit,
                                 int times) {
  for (int i = 0; i < times; ++i) head.insert(head.end(), unit.begin(), unit.end());
  return head;
}

TEST(LoopStop, StopsWhenTheLoopReachesSixteenTokensAndThreePeriods) {
  // 5 tokens, then 1 2 3 over and over: the run from index 5 reaches 16 tokens at output 21.
  const auto s = feed(repeat({9, 8, 7, 6, 5}, {1, 2, 3}, 10));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->tokens, 21u);
  EXPECT_EQ(s->stop.finish_reason, "loop");
  EXPECT_EQ(s->stop.event.filter, "repetition.loop_stop");
  EXPECT_EQ(s->stop.event.action, "stop");
  EXPECT_EQ(s->stop.event.position, 20);
  EXPECT_EQ(nlohmann::json::parse(s->stop.event.detail_json),
            (nlohmann::json{{"period", 3}, {"start", 5}, {"length", 16}}));
  // A period of 9 needs 27 tokens (three periods).
  const auto long_period = feed(repeat({}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, 4));
  ASSERT_TRUE(long_period);
  EXPECT_EQ(long_period->tokens, 27u);
  auto almost = repeat({}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3);
  almost.pop_back();
  EXPECT_FALSE(feed(almost));
}

TEST(LoopStop, NoLoopNoStop) {
  std::vector<std::int32_t> t;
  for (int i = 0; i < 300; ++i) t.push_back(i);
  EXPECT_FALSE(feed(t));
  // 15 equal tokens are short of 16.
  EXPECT_FALSE(feed(repeat({}, {4}, 15)));
}

TEST(LoopStop, PeriodRangeRepeatsAndLengthAreSettings) {
  LoopStopSettings s;
  s.min_period = 2;  // a run of one token is also 2-periodic: found as period 2
  const auto zeros = feed(repeat({}, {0}, 40), s);
  ASSERT_TRUE(zeros);
  EXPECT_EQ(zeros->tokens, 16u);
  EXPECT_EQ(nlohmann::json::parse(zeros->stop.event.detail_json)["period"], 2);
  LoopStopSettings four;
  four.min_repeats = 4;
  four.min_length = 1;
  const auto pairs = feed(repeat({7}, {1, 2}, 10), four);  // 4 periods of 2 after the 7
  ASSERT_TRUE(pairs);
  EXPECT_EQ(pairs->tokens, 9u);
  LoopStopSettings three = four;
  three.min_repeats = 3;
  EXPECT_EQ(feed(repeat({7}, {1, 2}, 10), three)->tokens, 7u);
  LoopStopSettings short_periods;
  short_periods.max_period = 8;  // a loop of period 9 is not one
  EXPECT_FALSE(feed(repeat({}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, 6), short_periods));
  EXPECT_THROW(LoopStopFactory({3, 2, 3, 16}), std::invalid_argument);
  EXPECT_THROW(LoopStopFactory({1, 256, 1, 16}), std::invalid_argument);
}

TEST(LoopStop, StopsWhereTerminalLoopFirstFindsALoop) {
  // Random outputs over small alphabets, some with planted loops (noisy starts, long
  // periods): the filter stops at the first prefix terminal_loop calls a loop, and names the
  // same period and length.
  std::mt19937 rng(2024);
  int stopped = 0, ran_out = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int alphabet = 2 + static_cast<int>(rng() % 6);
    std::vector<std::int32_t> t;
    const int len = 20 + static_cast<int>(rng() % 200);
    for (int i = 0; i < len; ++i) t.push_back(static_cast<std::int32_t>(rng() % alphabet));
    if (trial % 2 == 0) {
      std::vector<std::int32_t> unit;
      const int period = 1 + static_cast<int>(rng() % 40);
      for (int i = 0; i < period; ++i) unit.push_back(static_cast<std::int32_t>(rng() % 50));
      t = repeat(t, unit, 2 + static_cast<int>(rng() % 6));
    }
    std::optional<std::size_t> first;
    std::optional<Loop> want;
    for (std::size_t n = 1; n <= t.size() && !first; ++n)
      if ((want = terminal_loop(std::span(t).first(n)))) first = n;
    const auto got = feed(t);
    ASSERT_EQ(got.has_value(), first.has_value()) << "trial " << trial;
    if (!got) {
      ++ran_out;
      continue;
    }
    ++stopped;
    EXPECT_EQ(got->tokens, *first) << "trial " << trial;
    const auto detail = nlohmann::json::parse(got->stop.event.detail_json);
    EXPECT_EQ(detail["period"], want->period) << "trial " << trial;
    EXPECT_EQ(detail["length"], want->length) << "trial " << trial;
    EXPECT_EQ(detail["start"], static_cast<int>(*first) - want->length) << "trial " << trial;
  }
  // Both kinds of outcome were compared.
  EXPECT_GT(stopped, 100);
  EXPECT_GT(ran_out, 20);
}

}  // namespace
}  // namespace sg::detectors::repetition
