// The arithmetic of the memorization figures against exact answers: Wilson intervals,
// duplication buckets, canary exposure (exact rank, and the sampled estimate against the
// exact rank on a space small enough to enumerate), secret spaces, the novelty curve and the
// ranking precision.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "memorization/memorization_stats.hpp"
#include "memorization/planted_files.hpp"
#include "memorization/ranking.hpp"
#include "memorization/verbatim.hpp"
#include "plan_files.hpp"

namespace sg::detectors::memorization {
namespace {

TEST(DupBucket, UsesCarliniEtAl2022Bins) {
  EXPECT_EQ(dup_bucket(1), "1");
  EXPECT_EQ(dup_bucket(2), "2-4");
  EXPECT_EQ(dup_bucket(4), "2-4");
  EXPECT_EQ(dup_bucket(5), "5-16");
  EXPECT_EQ(dup_bucket(16), "5-16");
  EXPECT_EQ(dup_bucket(17), "17-64");
  EXPECT_EQ(dup_bucket(64), "17-64");
  EXPECT_EQ(dup_bucket(65), ">64");
}

TEST(Exposure, ExactRankCountsTiesAgainstTheSecret) {
  const std::vector<double> candidates = {3, 1, 2, 2, 5};
  EXPECT_EQ(exact_rank(0.5, candidates), 1);
  EXPECT_EQ(exact_rank(2, candidates), 3);  // 1 below, two equal
  EXPECT_EQ(exact_rank(9, candidates), 6);
  EXPECT_DOUBLE_EQ(exposure_from_rank(1024, 1), 10);
  EXPECT_DOUBLE_EQ(exposure_from_rank(1024, 1024), 0);
  EXPECT_DOUBLE_EQ(exposure_from_rank(1024, 0.01), 10);  // never above log2 |space|
}

// A 4-digit space scored as a model scores secrets: each digit position has its own
// distribution over the ten digits, and a candidate's log-perplexity is the sum of its
// digits' -log p. The estimate from 500 sampled candidates is within a bit of the exact
// exposure from the middle of the space to its 1-in-100 tail, and within 1.5 bits beyond
// the sample's reach (rank 20 of 10,000: the extrapolation the paper's fit is for).
TEST(Exposure, SampledEstimateTracksTheExactRankOnAnEnumerableSpace) {
  std::mt19937_64 rng(2019);
  std::gamma_distribution<double> gamma(1.0, 1.0);
  std::array<std::array<double, 10>, 4> nll{};
  for (auto& position : nll) {
    double sum = 0;
    for (auto& p : position) sum += (p = gamma(rng));
    for (auto& p : position) p = -std::log(p / sum);
  }
  std::vector<double> space;
  for (int i = 0; i < 10000; ++i)
    space.push_back(nll[0][i / 1000] + nll[1][i / 100 % 10] + nll[2][i / 10 % 10] + nll[3][i % 10]);
  std::vector<double> sample;
  std::uniform_int_distribution<std::size_t> pick(0, space.size() - 1);
  for (int i = 0; i < 500; ++i) sample.push_back(space[pick(rng)]);
  auto sorted = space;
  std::sort(sorted.begin(), sorted.end());
  int compared = 0;
  for (const auto& [rank, tolerance] : std::vector<std::pair<std::size_t, double>>{
           {5000, 1.0}, {1000, 1.0}, {100, 1.0}, {20, 1.5}}) {
    const double secret = sorted[rank - 1];
    const double exact = exposure_from_rank(1e4, static_cast<double>(exact_rank(secret, space)));
    const double estimate = exposure_from_rank(1e4, estimated_rank(secret, sample, 1e4));
    EXPECT_NEAR(estimate, exact, tolerance) << "secret of rank " << rank;
    ++compared;
  }
  EXPECT_EQ(compared, 4);
  EXPECT_THROW(estimated_rank(1, std::vector<double>{1, 2}, 100), std::invalid_argument);
}

TEST(SecretSpace, EnumeratesAndDrawsSecretsOfTheCanarysForm) {
  testing::PlanDir dir;
  const auto file = dir.write(
      "c.jsonl",
      "{\"id\": \"c/0\", \"prefix\": \"code\", \"secret\": \"4 2\", \"secret_space\": \"2 decimal "
      "digits\", \"count\": 3}\n");
  const auto read = read_canaries(file);
  ASSERT_EQ(read.canaries.size(), 1u);
  const auto& space = read.canaries[0].space;
  EXPECT_EQ(space.size(), 100);
  EXPECT_EQ(space.secret(0), "0 0");
  EXPECT_EQ(space.secret(42), "4 2");
  EXPECT_EQ(space.secret(99), "9 9");
  std::mt19937_64 rng(1);
  EXPECT_EQ(space.draw(rng).size(), 3u);

  const auto bad = dir.write("bad.jsonl",
                             "{\"id\": \"c/0\", \"prefix\": \"code\", \"secret\": \"4 2 1\", "
                             "\"secret_space\": \"2 decimal "
                             "digits\", \"count\": 3}\n");
  try {
    read_canaries(bad);
    FAIL() << "a secret outside its space was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:1"), std::string::npos) << e.what();
  }
  const auto unknown = dir.write(
      "unknown.jsonl",
      "{\"id\": \"c/0\", \"prefix\": \"p\", \"secret\": \"ab\", \"secret_space\": \"2 letters\", "
      "\"count\": 1}\n");
  EXPECT_THROW(read_canaries(unknown), std::exception);
}

TEST(Verbatim, LongestSpanAndNoveltyComeFromTheLongestMatches) {
  // l_i of a 5-token text: a 3-token corpus span at 1, nothing at 4.
  const std::vector<std::uint32_t> longest = {1, 3, 2, 1, 0};
  const auto span = longest_span(longest);
  EXPECT_EQ(span.start, 1u);
  EXPECT_EQ(span.length, 3u);
  NoveltyCounts c(4);
  c.add(longest);
  EXPECT_EQ(c.total, (std::vector<std::uint64_t>{5, 4, 3, 2}));
  // n=1: only token 4 is absent; n=2: i=0,3 (l<2); n=3: i=0,2 (l<3); n=4: both.
  EXPECT_EQ(c.absent, (std::vector<std::uint64_t>{1, 2, 2, 2}));
  const auto points = novelty_points();
  ASSERT_EQ(points.size(), 100u);  // every n, none skipped
  for (std::size_t i = 0; i < points.size(); ++i) EXPECT_EQ(points[i], static_cast<int>(i) + 1);
}

TEST(Ranking, PrecisionCountsMemorizedSamplesAmongTheLowestScores) {
  const std::vector<RankedSample> s = {{5, false}, {1, true}, {3, false}, {2, true}, {4, true}};
  EXPECT_EQ(memorized_in_top(s, 2), 2);
  EXPECT_EQ(memorized_in_top(s, 3), 2);
  EXPECT_EQ(memorized_in_top(s, 10), 3);
  // Repetitive text compresses: its zlib entropy is far below a varied text's.
  EXPECT_LT(zlib_entropy_bits(std::string(200, 'a')),
            zlib_entropy_bits("The quick brown fox jumps over the lazy dog; pack my box with "
                              "five dozen liquor jugs, and sphinx of black quartz, judge my vow."));
}

}  // namespace
}  // namespace sg::detectors::memorization
