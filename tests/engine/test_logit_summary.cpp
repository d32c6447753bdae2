// The device's summary of logits rows (shaders/logit_summary.comp) against its CPU reference,
// and the merged summary against the full row computed in double: the maximum and its id
// exactly, the normalizers within 1e-5, and exactly the ids above the bound listed.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "engine/activation_io.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/kernels.hpp"
#include "engine/logit_summary.hpp"

namespace sg::engine {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Rows shaped like a language model's: a Gaussian bulk, a few far above it, sometimes ties
// (values on a coarse grid) or masked ids.
std::vector<float> make_row(int vocab, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> bulk(0.0f, 1.0f + static_cast<float>(seed % 4));
  std::vector<float> row(static_cast<std::size_t>(vocab));
  for (auto& l : row) l = bulk(gen);
  std::uniform_int_distribution<int> id(0, vocab - 1);
  for (int k = 0; k < 5; ++k) row[static_cast<std::size_t>(id(gen))] += 12.0f - 2.0f * k;
  if (seed % 3 == 1)
    for (auto& l : row) l = std::round(l * 2) / 2;  // many exact ties
  if (seed % 5 == 2)
    for (int k = 0; k < vocab / 7; ++k) row[static_cast<std::size_t>(id(gen))] = -kInf;
  return row;
}

struct Summarized {
  std::vector<std::vector<float>> rows;
  std::vector<float> temperatures;
  std::vector<std::uint32_t> records;  // the device's
};

class LogitSummaryTest : public testing::GpuTest {
 protected:
  Summarized summarize(int vocab, int rows, std::uint32_t seed) {
    Summarized r;
    std::vector<float> flat;
    for (int i = 0; i < rows; ++i) {
      r.rows.push_back(make_row(vocab, seed + static_cast<std::uint32_t>(i)));
      flat.insert(flat.end(), r.rows.back().begin(), r.rows.back().end());
      r.temperatures.push_back(i % 3 == 0 ? 1.0f : (i % 3 == 1 ? 0.7f : 1.3f));
    }
    Kernels kernels(gpu(), 64);
    auto logits = testing::upload_activation(gpu(), rows, vocab, flat);
    gpu::Buffer temps(gpu(), r.temperatures.size() * 4, gpu::Memory::kHostUpload);
    temps.write(0, std::as_bytes(std::span(r.temperatures)));
    const std::size_t words = static_cast<std::size_t>(rows) * kSummaryLanes * kSummaryWords;
    gpu::Buffer records(gpu(), words * 4, gpu::Memory::kHostReadback);
    gpu::CommandStream cs(gpu());
    cs.begin();
    kernels.logit_summary(cs, logits, temps, records, rows);
    cs.submit_and_wait();
    r.records.resize(words);
    records.read(0, std::as_writable_bytes(std::span(r.records)));
    return r;
  }
};

std::span<const std::uint32_t> row_records(const Summarized& r, int row) {
  constexpr std::size_t n = std::size_t{kSummaryLanes} * kSummaryWords;
  return std::span(r.records).subspan(static_cast<std::size_t>(row) * n, n);
}

double relative(double a, double b) {
  return std::abs(a - b) / std::max(std::abs(b), 1e-300);
}

// Each lane's record as the CPU computes it: the maximum, its id and the best logits with
// their ids bit for bit; the two sums of exponentials within 1e-5 (the device's exp is not
// std::exp).
TEST_F(LogitSummaryTest, LaneRecordsMatchTheCpuReference) {
  int lanes_compared = 0;
  for (int vocab : {1, 5, 999, 2049, 8191, 50257}) {
    for (int rows : {1, 3, 17}) {
      if (vocab == 50257 && rows == 17) continue;  // 3 rows of the full vocabulary suffice
      const auto r = summarize(vocab, rows, static_cast<std::uint32_t>(vocab * 31 + rows));
      for (int row = 0; row < rows; ++row) {
        const auto want = lane_records_reference(r.rows[static_cast<std::size_t>(row)],
                                                 r.temperatures[static_cast<std::size_t>(row)]);
        const auto got = row_records(r, row);
        for (int lane = 0; lane < kSummaryLanes; ++lane) {
          const auto at = [&](auto& v, int k) {
            return v[static_cast<std::size_t>(lane * kSummaryWords + k)];
          };
          SCOPED_TRACE("vocab " + std::to_string(vocab) + " row " + std::to_string(row) + " lane " +
                       std::to_string(lane));
          ASSERT_EQ(at(got, 0), at(want, 0)) << "lane maximum";
          ASSERT_EQ(at(got, 1), at(want, 1)) << "id of the lane maximum";
          for (int k = 2; k < 4; ++k) {
            const float g = std::bit_cast<float>(at(got, k));
            const float w = std::bit_cast<float>(at(want, k));
            if (w == 0.0f)
              ASSERT_EQ(g, 0.0f);
            else
              ASSERT_LT(relative(g, w), 1e-5) << "sum " << k - 1 << ": " << g << " vs " << w;
          }
          for (int k = 4; k < kSummaryWords; ++k)
            ASSERT_EQ(at(got, k), at(want, k)) << "best " << k;
          ++lanes_compared;
        }
      }
    }
  }
  EXPECT_EQ(lanes_compared, kSummaryLanes * (5 * 21 + 4));
}

// The merged summary says what the full row says, computed in double on the host.
TEST_F(LogitSummaryTest, MergedSummaryAgreesWithTheFullRow) {
  int listed_short = 0;  // rows where some ids were left unlisted (the bound mattered)
  for (int vocab : {1, 5, 999, 2049, 8191, 50257}) {
    const int rows = 7;
    const auto r = summarize(vocab, rows, static_cast<std::uint32_t>(vocab + 5));
    for (int row = 0; row < rows; ++row) {
      SCOPED_TRACE("vocab " + std::to_string(vocab) + " row " + std::to_string(row));
      const auto& l = r.rows[static_cast<std::size_t>(row)];
      const float t = r.temperatures[static_cast<std::size_t>(row)];
      const auto s = merge_lanes(row_records(r, row), vocab, t);
      ASSERT_TRUE(s.has_value());
      const auto max_at = std::max_element(l.begin(), l.end());
      EXPECT_EQ(s->max, *max_at);
      EXPECT_EQ(s->argmax, static_cast<std::int32_t>(max_at - l.begin()));
      double total = 0, tempered = 0;
      const double tmax = static_cast<double>(*max_at / t);
      for (float v : l) {
        total += std::exp(static_cast<double>(v) - *max_at);
        tempered += std::exp(static_cast<double>(v / t) - tmax);
      }
      EXPECT_LT(std::abs(s->log_total - std::log(total)), 1e-5);
      EXPECT_LT(relative(s->tempered_total, tempered), 1e-5);

      // Listed: exactly the ids above rest_max, by logit then id.
      std::vector<std::pair<std::int32_t, float>> above;
      for (std::size_t i = 0; i < l.size(); ++i)
        if (l[i] > s->rest_max) above.emplace_back(static_cast<std::int32_t>(i), l[i]);
      std::sort(above.begin(), above.end(), [](const auto& a, const auto& b) {
        return a.second > b.second || (a.second == b.second && a.first < b.first);
      });
      EXPECT_EQ(s->top, above);
      if (vocab <= kSummaryLanes * kSummaryKeep) {
        EXPECT_EQ(s->rest_max, -kInf) << "a vocabulary this small is listed whole";
      } else {
        ++listed_short;
        EXPECT_GT(s->top.size(), 8u) << "the bound left almost nothing listed";
      }
    }
  }
  EXPECT_EQ(listed_short, 3 * 7);
}

// A NaN or an infinite logit has no summary: the host path decides what it means.
TEST_F(LogitSummaryTest, RowsWithNanOrInfinityHaveNoSummary) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), kInf}) {
    auto row = make_row(3000, 9);
    row[1234] = bad;
    EXPECT_FALSE(merge_lanes(lane_records_reference(row, 1.0f), 3000, 1.0f).has_value());
  }
  std::vector<float> masked(100, -kInf);
  EXPECT_FALSE(merge_lanes(lane_records_reference(masked, 1.0f), 100, 1.0f).has_value());
}

// Log-probs from the summary: the full row's within 1e-5, and top_log_probs only when the
// summary lists enough ids.
TEST_F(LogitSummaryTest, LogProbsFromTheSummary) {
  const auto row = make_row(8191, 4);
  const auto s = merge_lanes(lane_records_reference(row, 1.0f), 8191, 1.0f);
  ASSERT_TRUE(s.has_value());
  const auto top = top_log_probs(*s, 5);
  ASSERT_TRUE(top.has_value());
  ASSERT_EQ(top->size(), 5u);
  const double max = *std::max_element(row.begin(), row.end());
  double total = 0;
  for (float v : row) total += std::exp(static_cast<double>(v) - max);
  for (const auto& [id, lp] : *top) {
    const double want =
        static_cast<double>(row[static_cast<std::size_t>(id)]) - max - std::log(total);
    EXPECT_NEAR(lp, want, 1e-5);
    EXPECT_NEAR(log_prob(*s, row[static_cast<std::size_t>(id)]), want, 1e-5);
  }
  EXPECT_FALSE(top_log_probs(*s, static_cast<int>(s->top.size()) + 1).has_value());
}

}  // namespace
}  // namespace sg::engine
