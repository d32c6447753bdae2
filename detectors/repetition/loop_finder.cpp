#include "repetition/loop_finder.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>

#include <string>

#include "common/errors.hpp"
#include "repetition/token_phase.hpp"
#include "vk/autocorrelation.hpp"

namespace sg::detectors::repetition {

namespace {

// Periods [lo, hi] judged from the autocorrelation of the last `window` tokens.
//
// Whether p qualifies depends only on the last max(3p, min_length) tokens: all
// max(3p, min_length) - p pairs (i, i + p) among them must match. A window of
// W <= max(3p, min_length) tokens holds W - p of those pairs, so if p qualifies they all
// match and the window's autocorrelation at lag p is exactly W - p; a mismatch lowers it by
// 1 - cos(Δθ). Choosing W = max(3·lo, min_length) for periods in [lo, 2·lo) keeps W - p >= lo
// + 1 pairs per test and makes the filter free of false negatives, so the exact walk over
// the candidates finds what terminal_loop finds.
struct Group {
  int lo = 0;
  int hi = 0;
  int window = 0;
};

std::vector<Group> period_groups(LoopLimits limits) {
  std::vector<Group> groups;
  for (int lo = 1; lo <= limits.max_period; lo *= 2) {
    const int hi = std::min(2 * lo - 1, limits.max_period);
    const int window = std::max(3 * lo, limits.min_length);
    if (!groups.empty() && groups.back().window == window)
      groups.back().hi = hi;
    else
      groups.push_back({lo, hi, window});
  }
  return groups;
}

// Below this the window's correlation at a lag cannot be all matches (float error of the
// transform is ~1e-6 relative; a mismatch costs 1 - cos(Δθ), which is above the margin for
// two thirds of token pairs; the rest become candidates that the walk rejects).
constexpr float kMatchMargin = 0.5f;

constexpr int kMaxPeriod = 1 << 16;

// Rows per transform are rounded up to a power of two so that a few cached plans serve
// every batch size.
std::size_t row_bucket(std::size_t rows) {
  return std::bit_ceil(std::max<std::size_t>(rows, 8));
}

std::int64_t matches_at(std::span<const std::int32_t> tokens, int lag) {
  std::int64_t count = 0;
  for (std::size_t i = 0; i + static_cast<std::size_t>(lag) < tokens.size(); ++i)
    count += tokens[i] == tokens[i + static_cast<std::size_t>(lag)];
  return count;
}

}  // namespace

LoopFinder::LoopFinder(gpu::Context* device, LoopLimits limits) : limits_(limits) {
  // The FFT windows reach 3 · max_period tokens; beyond this they stop being cheap.
  if (limits.max_period < 1 || limits.max_period > kMaxPeriod || limits.min_length < 1 ||
      limits.min_length > kMaxPeriod)
    throw UsageError("loop limits: max_period and min_length must be within 1.." +
                     std::to_string(kMaxPeriod) + " (given " + std::to_string(limits.max_period) +
                     " and " + std::to_string(limits.min_length) + ")");
  if (device) fft_ = std::make_unique<gpu::Autocorrelation>(*device);
}

LoopFinder::~LoopFinder() = default;

std::size_t LoopFinder::plans_cached() const {
  return fft_ ? fft_->plans_cached() : 0;
}

LoopPath LoopFinder::choose(std::size_t /*batch*/, std::size_t /*longest*/) const {
  return LoopPath::kCpu;
}

std::vector<std::optional<Loop>> LoopFinder::find(
    std::span<const std::span<const std::int32_t>> sequences, LoopPath path) {
  if (path == LoopPath::kAuto) {
    std::size_t longest = 0;
    for (const auto& s : sequences) longest = std::max(longest, s.size());
    path = choose(sequences.size(), longest);
  }
  if (path == LoopPath::kFft && fft_) return find_fft(sequences);
  std::vector<std::optional<Loop>> loops;
  loops.reserve(sequences.size());
  for (const auto& s : sequences)
    loops.push_back(terminal_loop(s, limits_.max_period, limits_.min_length));
  return loops;
}

// From bench/README.md (lavapipe, 2 shared cores): the direct count costs 0.8-1.8 ns per
// (position, lag) pair; with every lag counted anyway (min_matches under the margin) the
// FFT path ties with it at 16384 x 8192 = 1.3e8 pairs, and with the filter working it wins
// 50-190x from 65536 tokens. A new plan costs 0.2-3 s, which the direct count spends from
// ~2e9 pairs (65536 x 32768).
constexpr double kFftPairsWithPlan = 1.3e8;
constexpr double kFftPairsWithoutPlan = 2e9;

LoopPath LoopFinder::choose_lags(std::size_t length, int max_lag, std::int64_t min_matches) const {
  if (!fft_ || length < 2 || max_lag < 1) return LoopPath::kCpu;
  // Below twice the noise margin most lags would be candidates, counted on the CPU anyway.
  const double margin = kLagNoiseSigmas * std::sqrt(static_cast<double>(length) / 2) + 1;
  if (static_cast<double>(min_matches) < 2 * margin) return LoopPath::kCpu;
  const double pairs = static_cast<double>(length) * max_lag;
  const bool planned = fft_->has_plan(gpu::next_13_smooth(2 * length), 1);
  return pairs >= (planned ? kFftPairsWithPlan : kFftPairsWithoutPlan) ? LoopPath::kFft
                                                                       : LoopPath::kCpu;
}

std::vector<RepeatedLag> LoopFinder::repeated_lags(std::span<const std::int32_t> tokens,
                                                   int max_lag, std::int64_t min_matches,
                                                   LoopPath path) {
  const auto n = static_cast<std::int64_t>(tokens.size());
  max_lag = static_cast<int>(std::min<std::int64_t>(max_lag, n - 1));
  if (path == LoopPath::kAuto) path = choose_lags(tokens.size(), max_lag, min_matches);
  std::vector<RepeatedLag> lags;
  if (max_lag < 1) return lags;
  if (path != LoopPath::kFft || !fft_) {
    for (int lag = 1; lag <= max_lag; ++lag)
      if (const auto m = matches_at(tokens, lag); m >= min_matches) lags.push_back({lag, m});
    return lags;
  }
  const std::size_t length = gpu::next_13_smooth(2 * tokens.size());
  std::vector<std::complex<float>> data(length);
  for (std::size_t i = 0; i < tokens.size(); ++i) data[i] = token_phase(tokens[i]);
  fft_->run(data, length, 1);
  candidates_walked_ = 0;
  for (int lag = 1; lag <= max_lag; ++lag) {
    // Each of the n - lag pairs adds 1 when it matches, else cos(Δθ): mean 0, variance 1/2.
    const double sigma = std::sqrt(static_cast<double>(n - lag) / 2);
    if (data[static_cast<std::size_t>(lag)].real() <
        static_cast<double>(min_matches) - kLagNoiseSigmas * sigma - 1)
      continue;
    ++candidates_walked_;
    if (const auto m = matches_at(tokens, lag); m >= min_matches) lags.push_back({lag, m});
  }
  return lags;
}

std::vector<std::optional<Loop>> LoopFinder::find_fft(
    std::span<const std::span<const std::int32_t>> sequences) {
  const auto groups = period_groups(limits_);
  std::vector<std::optional<Loop>> loops(sequences.size());
  if (groups.empty() || sequences.empty()) return loops;
  const int widest = groups.back().window;
  // Twice the window, so the circular correlation does not wrap onto the lags we read.
  const std::size_t length = gpu::next_13_smooth(2 * static_cast<std::size_t>(widest));

  struct Row {
    std::size_t sequence;
    const Group* group;
  };
  std::vector<Row> rows;
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    const auto n = static_cast<std::ptrdiff_t>(sequences[s].size());
    for (const auto& g : groups)
      if (g.window <= n && 3 * static_cast<std::ptrdiff_t>(g.lo) <= n) rows.push_back({s, &g});
  }
  if (rows.empty()) return loops;

  // Row r holds the sequence's last `window` tokens, newest first, as unit phases.
  const std::size_t bucket = row_bucket(rows.size());
  std::vector<std::complex<float>> data(bucket * length);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& tokens = sequences[rows[r].sequence];
    auto* row = data.data() + r * length;
    for (int j = 0; j < rows[r].group->window; ++j)
      row[j] = token_phase(tokens[tokens.size() - 1 - static_cast<std::size_t>(j)]);
  }
  fft_->run(data, length, bucket);

  // Candidates per sequence, then the exact walk in increasing period: the first that
  // qualifies is terminal_loop's answer because every qualifying period is a candidate.
  std::vector<std::vector<int>> candidates(sequences.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const Group& g = *rows[r].group;
    const auto* corr = data.data() + r * length;
    const auto n = static_cast<std::ptrdiff_t>(sequences[rows[r].sequence].size());
    for (int p = g.lo; p <= g.hi && 3 * static_cast<std::ptrdiff_t>(p) <= n; ++p)
      if (corr[p].real() > static_cast<float>(g.window - p) - kMatchMargin)
        candidates[rows[r].sequence].push_back(p);
  }
  candidates_walked_ = 0;
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    for (int p : candidates[s]) {  // groups are in increasing period, so is this list
      ++candidates_walked_;
      if (auto loop = loop_with_period(sequences[s], p, limits_.min_length)) {
        loops[s] = loop;
        break;
      }
    }
  }
  return loops;
}

}  // namespace sg::detectors::repetition
