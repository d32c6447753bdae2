// A scratch directory holding a plan and the files it names.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace sg::testing {

class PlanDir {
 public:
  PlanDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sg-plan-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~PlanDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PlanDir(const PlanDir&) = delete;
  PlanDir& operator=(const PlanDir&) = delete;

  // Writes `name` (subdirectories created) and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& bytes) const {
    const auto path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path;
  }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace sg::testing
