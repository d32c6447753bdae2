#include "common/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace sg {

ProgressBar::ProgressBar(std::string label, std::uint64_t total, std::string unit,
                         std::uint64_t already_done)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      first_(std::min(already_done, total)),
      done_(first_),
      enabled_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::advance(std::uint64_t n) {
  set(done_ + n);
}

void ProgressBar::set(std::uint64_t done) {
  done_ = std::min(done, total_);
  draw(false);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw(true);
  std::fputc('\n', stderr);
}

void ProgressBar::draw(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100) && done_ != total_) return;
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(done_ - first_) / secs : 0.0;
  double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(frac * kWidth);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '-';
  bar[kWidth] = '\0';
  double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0.0;
  std::fprintf(stderr, "\r%s [%s] %llu/%llu %s %.1f/s ETA %.0fs ", label_.c_str(), bar,
               static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_),
               unit_.c_str(), rate, eta);
  std::fflush(stderr);
}

}  // namespace sg
