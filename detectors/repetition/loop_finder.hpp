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

  // The path kAuto takes for `batch` sequences of at most `longest` tokens.
  LoopPath choose(std::size_t batch, std::size_t longest) const;

  // FFT plans compiled so far (each costs 80-200 ms of glslang on lavapipe; they are kept).
  std::size_t plans_cached() const;
  // Periods the last kFft call walked exactly (the CPU scan would walk every one up to
  // max_period): how much the autocorrelation filter saved.
  std::size_t candidates_walked() const { return candidates_walked_; }

 private:
  std::vector<std::optional<Loop>> find_fft(
      std::span<const std::span<const std::int32_t>> sequences);

  LoopLimits limits_;
  std::size_t candidates_walked_ = 0;
  std::unique_ptr<gpu::Autocorrelation> fft_;
};

}  // namespace sg::detectors::repetition
