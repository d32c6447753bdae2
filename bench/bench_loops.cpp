// Terminal-loop detection over a batch, CPU scan against the VkFFT path, and repeated-lag
// search in one long sequence, CPU direct count against VkFFT. Prints markdown tables for
// bench/README.md. Usage: bench_loops [--max-long N] [--long-only] (STAGEGATE_DEVICE picks
// the device).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/progress.hpp"
#include "repetition/loop_finder.hpp"
#include "vk/context.hpp"

namespace {

using sg::detectors::repetition::LoopFinder;
using sg::detectors::repetition::LoopPath;
using Tokens = std::vector<std::int32_t>;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Half the texts end in a loop (period 1-64, 3-8 repeats), as a weak model's greedy output
// does; the rest are random ids over GPT-2's vocabulary.
std::vector<Tokens> texts(std::size_t batch, std::size_t length, std::mt19937& rng) {
  std::uniform_int_distribution<std::int32_t> token(0, 50256);
  std::vector<Tokens> out(batch);
  for (std::size_t b = 0; b < batch; ++b) {
    auto& t = out[b];
    for (std::size_t i = 0; i < length; ++i) t.push_back(token(rng));
    if (b % 2 == 0) {
      const std::size_t period = std::uniform_int_distribution<std::size_t>(1, 64)(rng);
      const std::size_t run =
          std::min(length, period * std::uniform_int_distribution<std::size_t>(3, 8)(rng));
      for (std::size_t i = length - run; i < length; ++i) t[i] = t[length - run + i % period];
    }
  }
  return out;
}

// Median of `runs` timings of f, in ms.
template <typename F>
double median_ms(int runs, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    f();
    t.push_back(ms_since(start));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void terminal_loops(LoopFinder& finder, bool skip) {
  if (skip) return;
  const std::vector<std::size_t> batches{1, 16, 64, 256};
  const std::vector<std::size_t> lengths{128, 512, 2048, 8192, 32768};
  std::printf(
      "\n| batch | length | CPU scan µs | VkFFT µs | VkFFT first call ms | plans compiled | VkFFT "
      "/ CPU |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  sg::ProgressBar bar("terminal loops", batches.size() * lengths.size());
  std::mt19937 rng(1);
  for (auto batch : batches) {
    for (auto length : lengths) {
      const auto data = texts(batch, length, rng);
      const std::vector<std::span<const std::int32_t>> views(data.begin(), data.end());
      const auto plans_before = finder.plans_cached();
      const auto start = Clock::now();
      const auto fft_first = finder.find(views, LoopPath::kFft);
      const double first_ms = ms_since(start);
      const double fft_ms = median_ms(5, [&] { finder.find(views, LoopPath::kFft); });
      std::vector<std::optional<sg::detectors::repetition::Loop>> cpu;
      const double cpu_ms = median_ms(9, [&] { cpu = finder.find(views, LoopPath::kCpu); });
      for (std::size_t i = 0; i < batch; ++i)
        if (cpu[i].has_value() != fft_first[i].has_value() ||
            (cpu[i] &&
             (cpu[i]->period != fft_first[i]->period || cpu[i]->length != fft_first[i]->length))) {
          std::fprintf(stderr, "bench_loops: paths disagree on text %zu\n", i);
          std::exit(1);
        }
      std::printf("| %zu | %zu | %.1f | %.0f | %.0f | %zu | %.0fx |\n", batch, length, cpu_ms * 1e3,
                  fft_ms * 1e3, first_ms, finder.plans_cached() - plans_before, fft_ms / cpu_ms);
      std::fflush(stdout);
      bar.advance();
    }
  }
}

// One long text: random ids with a 40-token sentence repeated 10 times every 4096 tokens
// (self-reinforcement contexts) and every 16th 256-token sample duplicated further on.
Tokens long_text(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<std::int32_t> token(0, 50256);
  Tokens t(n);
  for (auto& x : t) x = token(rng);
  for (std::size_t at = 0; at + 400 <= n; at += 4096)
    for (std::size_t i = 40; i < 400; ++i) t[at + i] = t[at + i % 40];
  for (std::size_t at = 0; at + 256 + 5000 <= n; at += 16 * 256)
    std::copy_n(t.begin() + static_cast<std::ptrdiff_t>(at), 256,
                t.begin() + static_cast<std::ptrdiff_t>(at + 5000));
  return t;
}

void long_sequences(LoopFinder& finder, std::size_t max_long) {
  std::printf(
      "\n| length | max lag | min matches | CPU direct ms | VkFFT ms | VkFFT first call ms (plan) "
      "| lags counted by VkFFT path | lags found | faster |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  std::mt19937 rng(2);
  for (std::size_t n = 1024; n <= max_long; n *= 4) {
    const auto text = long_text(n, rng);
    const int max_lag = static_cast<int>(n / 2);
    // Lags where 1 position in 32 repeats: the sentence repeats (lags 40-360) and the
    // duplicated samples (lag 5000) qualify, chance matches (N / 50257 per lag) do not.
    const auto min_matches = static_cast<std::int64_t>(n / 32);
    auto start = Clock::now();
    const auto fft = finder.repeated_lags(text, max_lag, min_matches, LoopPath::kFft);
    const double first_ms = ms_since(start);
    const double fft_ms =
        median_ms(3, [&] { finder.repeated_lags(text, max_lag, min_matches, LoopPath::kFft); });
    const auto counted = finder.candidates_walked();
    start = Clock::now();
    const auto cpu = finder.repeated_lags(text, max_lag, min_matches, LoopPath::kCpu);
    const double cpu_ms = ms_since(start);
    bool same = cpu.size() == fft.size();
    for (std::size_t i = 0; same && i < cpu.size(); ++i)
      same = cpu[i].lag == fft[i].lag && cpu[i].matches == fft[i].matches;
    if (!same) {
      std::fprintf(stderr, "bench_loops: lag searches disagree at length %zu\n", n);
      std::exit(1);
    }
    std::printf("| %zu | %d | %lld | %.2f | %.2f | %.0f | %zu | %zu | %s |\n", n, max_lag,
                static_cast<long long>(min_matches), cpu_ms, fft_ms, first_ms, counted, cpu.size(),
                cpu_ms <= fft_ms ? "CPU" : "VkFFT");
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t max_long = 262144;
  bool skip_batches = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--max-long") == 0 && i + 1 < argc) {
      max_long = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--long-only") == 0) {
      skip_batches = true;
    } else {
      std::fprintf(stderr, "usage: bench_loops [--max-long N] [--long-only]\n");
      return 2;
    }
  }
  sg::gpu::ContextOptions options;
  options.device_index = sg::gpu::device_index_from(std::nullopt);
  sg::gpu::Context context(options);
  std::printf("device: %s (%s)\n", context.info().name.c_str(), context.info().driver.c_str());
  LoopFinder finder(&context);
  terminal_loops(finder, skip_batches);
  long_sequences(finder, max_long);
  return 0;
}
