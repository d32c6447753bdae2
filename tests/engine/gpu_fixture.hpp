// A Vulkan context for tests: validation layers on where installed, and any validation
// error fails the test that caused it.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "vk/context.hpp"

namespace sg::testing {

class GpuTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gpu::ContextOptions options;
    options.validation = true;
    options.device_index = gpu::device_index_from(std::nullopt);
    context_ = std::make_unique<gpu::Context>(options);
  }
  static void TearDownTestSuite() { context_.reset(); }
  void SetUp() override { errors_before_ = context_->validation_errors(); }
  void TearDown() override {
    EXPECT_EQ(context_->validation_errors(), errors_before_)
        << "Vulkan validation error: " << context_->last_validation_message();
  }
  gpu::Context& gpu() { return *context_; }

 private:
  static inline std::unique_ptr<gpu::Context> context_;
  std::uint32_t errors_before_ = 0;
};

}  // namespace sg::testing
