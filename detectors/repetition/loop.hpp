// Degeneration into a loop (Holtzman et al. 2020, "The Curious Case of Neural Text
// Degeneration"): greedy decoding of a weak model ends repeating one span forever.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace sg::detectors::repetition {

struct Loop {
  int period = 0;  // p: tokens[i] == tokens[i + p] throughout the run
  int length = 0;  // tokens from the run's start to the end of the text
};

// The shortest period p <= max_period whose p-periodic run reaches the end of `tokens` and
// is at least max(3p, min_length) tokens long; nullopt when the text does not end in a loop.
std::optional<Loop> terminal_loop(std::span<const std::int32_t> tokens, int max_period = 256,
                                  int min_length = 16);

// The p-periodic run that reaches the end of `tokens`, when it is at least max(3p, min_length)
// tokens long (terminal_loop tries p = 1, 2, ... with this).
std::optional<Loop> loop_with_period(std::span<const std::int32_t> tokens, int p,
                                     int min_length = 16);

}  // namespace sg::detectors::repetition
