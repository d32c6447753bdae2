// Readers that only take a path get each fuzz input through a file in one scratch folder per
// process (fuzzing runs one input at a time), removed when the process exits normally.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "../audit/plan_files.hpp"

namespace sg::fuzz {

// A function-local static: a fuzz target has no main to own the folder.
inline const testing::PlanDir& scratch() {
  static const testing::PlanDir dir;
  return dir;
}

// A refusal, printed when SG_FUZZ_VERBOSE is set: to see why a seed is not accepted.
inline void refused(const std::exception& e) {
  if (std::getenv("SG_FUZZ_VERBOSE")) std::fprintf(stderr, "refused: %s\n", e.what());
}

// An invariant: its failure names the line and aborts, so libFuzzer keeps the input.
// (Clang 14 with libstdc++ 12 has no std::source_location; these builtins are what it uses.)
inline void check(bool ok, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  if (ok) return;
  std::fprintf(stderr, "invariant failed at %s:%d\n", file, line);
  std::abort();
}

}  // namespace sg::fuzz
