// Batched circular autocorrelation of complex sequences on the device with VkFFT: forward
// FFT, |X|², inverse FFT, in one submission. Plans are compiled by glslang at run time
// (80-200 ms each on lavapipe), so they are kept per (length, batch) for the object's life.
// Submits on the context's queue: use it from the thread that drives the context.
#pragma once

#include <complex>
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <utility>

#include "vk/context.hpp"

namespace sg::gpu {

// True when n > 0 has no prime factor above 13. VkFFT 1.2.26 silently returns zeros for
// lengths with a larger prime factor (e.g. 1009, 2001, 4099) while reporting success.
bool is_13_smooth(std::size_t n);
// The smallest 13-smooth length >= n.
std::size_t next_13_smooth(std::size_t n);

class Pipeline;

class Autocorrelation {
 public:
  explicit Autocorrelation(Context& context);
  Autocorrelation(const Autocorrelation&) = delete;
  Autocorrelation& operator=(const Autocorrelation&) = delete;
  ~Autocorrelation();

  // `data` holds `batch` sequences of `length` values back to back; on return each holds
  // r[p] = sum_i conj(x[i]) * x[(i + p) mod length]. `length` must be 13-smooth (zero-pad to
  // at least twice the signal for the non-circular correlation).
  void run(std::span<std::complex<float>> data, std::size_t length, std::size_t batch);

  std::size_t plans_cached() const { return plans_.size(); }
  bool has_plan(std::size_t length, std::size_t batch) const {
    return plans_.contains({length, batch});
  }
  // Compiles the plan for (length, batch) now, so that a later run() pays only the transform.
  void prepare(std::size_t length, std::size_t batch);

 private:
  struct Plan;
  Plan& plan(std::size_t length, std::size_t batch);

  Context* context_;
  std::unique_ptr<Pipeline> power_;
  std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<Plan>> plans_;
};

}  // namespace sg::gpu
