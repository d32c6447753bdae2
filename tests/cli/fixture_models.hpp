// The checkpoint the command-line tests run: one definition for the test files that a unity
// build compiles together.
#pragma once

#include <string>

namespace sg::testing {

inline const std::string kGpt2 = std::string(STAGEGATE_FIXTURES) + "/models/gpt2-f32";

}  // namespace sg::testing
