// A progress bar on stderr for long operations; silent when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sg {

class ProgressBar {
 public:
  // `already_done` counts work finished before this bar started (a resumed job): it shows in
  // the count but not in the rate or the ETA.
  ProgressBar(std::string label, std::uint64_t total, std::string unit = "",
              std::uint64_t already_done = 0);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar();

  void advance(std::uint64_t n = 1);
  void set(std::uint64_t done);
  void finish();

 private:
  void draw(bool force);

  std::string label_;
  std::string unit_;
  std::uint64_t total_;
  std::uint64_t first_ = 0;
  std::uint64_t done_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace sg
