// Host time per sampled token: picking from the full row of logits (what every decode step
// did before device sampling) against picking from the device's summary of the row
// (merge_lanes + the sparse chain + the log-prob from the normalizer). The device's own
// share, the logit_summary dispatch, is in `stagegate bench --profile`. Rows are shaped like
// a language model's at varied sharpness; the program checks that both paths pick the same
// tokens before printing a row.
//   bench_sampling [--rows N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/lm_rows.hpp"
#include "engine/logit_summary.hpp"
#include "engine/sampling.hpp"
#include "engine/token_choice.hpp"

namespace {

using sg::engine::SamplingParams;

struct Decoding {
  const char* name;
  float temperature;
  int top_k;
  float top_p;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 400;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
      rows = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench_sampling [--rows N]\n");
      return 2;
    }
  }
  const Decoding decodings[] = {{"greedy", 0, 0, 1},
                                {"top-k 40", 1, 40, 1},
                                {"top-p 0.9", 1, 0, 0.9f},
                                {"T 0.8, top-k 50, top-p 0.95", 0.8f, 50, 0.95f}};
  std::printf(
      "| vocabulary | decoding | full row us/token | summary us/token | full / summary | "
      "decided by the summary |\n|---|---|---|---|---|---|\n");
  for (int vocab : {8192, 50257}) {
    std::mt19937 gen(static_cast<std::uint32_t>(vocab));
    std::vector<std::vector<float>> logits;
    for (int r = 0; r < rows; ++r) logits.push_back(sg::testing::lm_row(vocab, gen));
    for (const auto& d : decodings) {
      SamplingParams p;
      p.temperature = d.temperature;
      p.top_k = d.top_k;
      p.top_p = d.top_p;
      p.seed = 5;
      sg::engine::TokenChooser full(p), summarized(p);
      const float t = summarized.summary_temperature();
      // The device's records, made before the clock runs.
      std::vector<std::vector<std::uint32_t>> records;
      for (const auto& row : logits) records.push_back(sg::engine::lane_records_reference(row, t));
      const std::vector<std::int32_t> prompt{1};
      std::vector<std::int32_t> generated;
      sg::engine::ChoiceScratch work;
      std::vector<std::int32_t> want;
      volatile double keep = 0;  // the log-probs, so that no call is optimized away

      auto start = std::chrono::steady_clock::now();
      for (const auto& row : logits) {
        const auto c = full.choose({prompt, generated}, row, work);
        keep = keep + sg::engine::log_prob(row, *c.token);
        want.push_back(*c.token);
      }
      const double full_s = seconds_since(start);

      std::size_t decided = 0;
      start = std::chrono::steady_clock::now();
      for (std::size_t r = 0; r < logits.size(); ++r) {
        const auto s = sg::engine::merge_lanes(records[r], vocab, t);
        const auto c = summarized.choose({prompt, generated}, logits[r], work, &*s);
        keep = keep + sg::engine::log_prob(*s, logits[r][static_cast<std::size_t>(*c.token)]);
        decided += c.from_summary ? 1 : 0;
        if (*c.token != want[r]) {
          std::fprintf(stderr,
                       "%s, vocabulary %d, row %zu: the summary picked %d, the full row %d\n",
                       d.name, vocab, r, *c.token, want[r]);
          return 1;
        }
      }
      const double summary_s = seconds_since(start);
      std::printf("| %d | %s | %.1f | %.1f | %.1fx | %.0f %% |\n", vocab, d.name,
                  1e6 * full_s / rows, 1e6 * summary_s / rows, full_s / summary_s,
                  100.0 * static_cast<double>(decided) / rows);
    }
  }

  // Plain sampling (temperature 1, nothing else: the OpenAI API's default) reads every id
  // whatever the device summarizes; its log-prob can reuse the draw's normalizer.
  std::printf(
      "\n| vocabulary | plain sampling: log-prob over the row again, us/token | "
      "normalizer reused, us/token | ratio |\n|---|---|---|---|\n");
  for (int vocab : {8192, 50257}) {
    std::mt19937 gen(static_cast<std::uint32_t>(vocab) + 1);
    std::vector<std::vector<float>> logits;
    for (int r = 0; r < rows; ++r) logits.push_back(sg::testing::lm_row(vocab, gen));
    SamplingParams p;
    p.seed = 9;
    sg::engine::TokenChooser again(p), reused(p);
    const std::vector<std::int32_t> prompt{1};
    sg::engine::ChoiceScratch work;
    std::vector<double> want;
    auto start = std::chrono::steady_clock::now();
    for (const auto& row : logits) {
      const auto c = again.choose({prompt, {}}, row, work);
      want.push_back(sg::engine::log_prob(row, *c.token));
    }
    const double again_s = seconds_since(start);
    start = std::chrono::steady_clock::now();
    for (std::size_t r = 0; r < logits.size(); ++r) {
      const auto c = reused.choose({prompt, {}}, logits[r], work);
      const double lp =
          sg::engine::log_prob(*c.raw_normalizer, logits[r][static_cast<std::size_t>(*c.token)]);
      if (lp != want[r]) {
        std::fprintf(stderr, "plain sampling, vocabulary %d, row %zu: log-prob %.17g, not %.17g\n",
                     vocab, r, lp, want[r]);
        return 1;
      }
    }
    const double reused_s = seconds_since(start);
    std::printf("| %d | %.1f | %.1f | %.1fx |\n", vocab, 1e6 * again_s / rows,
                1e6 * reused_s / rows, again_s / reused_s);
  }
  return 0;
}
