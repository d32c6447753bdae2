// A parameter of the engine tests that run on every committed reference checkpoint
// (tests/fixtures/models, made by tools/make_fixtures.py): which one, stored as which dtype.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "engine/weights.hpp"

namespace sg::engine {

struct FixtureCase {
  std::string fixture;
  WeightType dtype;
  bool gpu_shapes = false;  // run the GPUs' shaders whatever the device (KernelShapes)
};

// A test-name-safe "<fixture>_f16" / "<fixture>_f32" (+ "_gpu_shapes").
inline std::string fixture_case_name(const ::testing::TestParamInfo<FixtureCase>& info) {
  std::string n = info.param.fixture + (info.param.dtype == WeightType::kF16 ? "_f16" : "_f32") +
                  (info.param.gpu_shapes ? "_gpu_shapes" : "");
  for (auto& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

}  // namespace sg::engine
