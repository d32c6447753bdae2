// Asserts that opening a checkpoint fails with sg::InputError whose message holds every
// fragment (the file, the field or tensor, the numbers), so messages stay precise.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "model/checkpoint.hpp"

namespace sg::testing {

inline void expect_message(const std::string& message, const std::vector<std::string>& fragments) {
  for (const auto& f : fragments)
    EXPECT_NE(message.find(f), std::string::npos) << "message lacks '" << f << "': " << message;
}

inline void expect_refused(const std::filesystem::path& dir,
                           const std::vector<std::string>& fragments,
                           model::OpenOptions options = {}) {
  try {
    model::Checkpoint::open(dir, options);
    ADD_FAILURE() << "opened without error";
  } catch (const InputError& e) {
    expect_message(e.what(), fragments);
  }
}

}  // namespace sg::testing
