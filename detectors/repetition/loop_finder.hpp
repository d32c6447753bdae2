// terminal_loop (loop.hpp) over a batch of token sequences, on the CPU or with candidate
// periods from VkFFT autocorrelations on the device. Both paths give identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "repetition/loop.hpp"

namespace sg::gpu {
class Context;
class Autocorrelation;
}  // namespace sg::gpu

namespace sg::detectors::repetition {

enum class LoopPath {
  kAuto,  // the faster of the two for the batch's size and length (bench/README.md)
  kCpu,   // terminal_loop on each sequence
  kFft,   // VkFFT candidates, verified by the same walk as terminal_loop
};

// A distance at which one long sequence repeats itself: `matches` positions i (exact count)
// have tokens[i] == tokens[i + lag].
struct RepeatedLag {
  int lag = 0;
  std::int64_t matches = 0;
};

struct LoopLimits {
  int max_period = 256;
  int min_length = 16;
};

class LoopFinder {
 public:
  // Without a device only the CPU path exists. The device must outlive the finder.
  explicit LoopFinder(gpu::Context* device, LoopLimits limits = {});
  LoopFinder(const LoopFinder&) = delete;
  LoopFinder& operator=(const LoopFinder&) = delete;
  ~LoopFinder();

  // terminal_loop(sequences[i], max_period, min_length) for each i.
  std::vector<std::optional<Loop>> find(std::span<const std::span<const std::int32_t>> sequences,
                                        LoopPath path = LoopPath::kAuto);

  // The path kAuto takes for `batch` sequences of at most `longest` tokens: always the CPU
  // scan, which was 2000-29000x faster at every batch (1-256) and length (128-32768) measured
  // on lavapipe (bench/README.md): it stops at the first mismatch for most periods, while
  // the FFT pays for every window of every sequence.
  LoopPath choose(std::size_t batch, std::size_t longest) const;

  // For one long sequence (a self-reinforcement context, an audit's samples end to end): the
  // lags 1..max_lag, increasing, at which at least `min_matches` positions repeat, with exact
  // counts. The CPU path counts every lag (O(N·max_lag)); the FFT path counts only lags whose
  // autocorrelation estimate comes within kLagNoiseSigmas standard deviations of hash noise
  // of `min_matches` (O(N log N) plus O(N) per candidate). The FFT path can miss a lag only
  // when many non-matching pairs at that lag are the same two tokens, whose cos(Δθ) then adds
  // up instead of averaging out; its counts are always exact.
  std::vector<RepeatedLag> repeated_lags(std::span<const std::int32_t> tokens, int max_lag,
                                         std::int64_t min_matches, LoopPath path = LoopPath::kAuto);
  LoopPath choose_lags(std::size_t length, int max_lag, std::int64_t min_matches) const;
  static constexpr double kLagNoiseSigmas = 8;

  // FFT plans compiled so far (each costs 80-200 ms of glslang on lavapipe; they are kept).
  std::size_t plans_cached() const;
  // Periods (find) or lags (repeated_lags) the last FFT-path call checked exactly; the CPU
  // path checks every one: how much the autocorrelation filter saved.
  std::size_t candidates_walked() const { return candidates_walked_; }

 private:
  std::vector<std::optional<Loop>> find_fft(
      std::span<const std::span<const std::int32_t>> sequences);

  LoopLimits limits_;
  std::size_t candidates_walked_ = 0;
  std::unique_ptr<gpu::Autocorrelation> fft_;
};

}  // namespace sg::detectors::repetition
