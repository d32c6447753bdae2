// The loop stop: a generation-time filter that ends a sequence, with finish reason "loop",
// once its output has fallen into a loop by terminal_loop's definition (loop.hpp), the
// period range, repeats and length being settings. A served model stops wasting tokens on a
// loop, and the event names the loop it cut (filter "repetition.loop_stop", action "stop",
// detail {"period": p, "start": s, "length": n}: the output from token s on repeats with
// period p, n tokens in all).
#pragma once

#include <cstdint>
#include <memory>

#include "engine/output_filter.hpp"

namespace sg::detectors::repetition {

struct LoopStopSettings {
  int min_period = 1;
  int max_period = 256;
  int min_repeats = 3;  // the run holds at least min_repeats * p tokens (at least 2)
  int min_length = 16;  // ... and at least this many
};

inline constexpr const char* kLoopStopFilter = "repetition.loop_stop";

class LoopStopFactory : public engine::OutputFilterFactory {
 public:
  // Throws std::invalid_argument for settings outside 1 <= min_period <= max_period,
  // min_repeats >= 2, min_length >= 1.
  explicit LoopStopFactory(LoopStopSettings settings);
  std::unique_ptr<engine::OutputFilter> make() const override;

 private:
  LoopStopSettings settings_;
};

}  // namespace sg::detectors::repetition
