// A scratch directory holding a plan and the files it names.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "../common/temp_dir.hpp"

namespace sg::testing {

class PlanDir : public TempDir {
 public:
  // Writes `name` (subdirectories created) and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& bytes) const {
    const auto file = path() / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
    return file;
  }
};

}  // namespace sg::testing
