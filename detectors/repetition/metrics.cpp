#include "repetition/metrics.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace sg::detectors::repetition {

namespace {

using Gram = std::array<std::int32_t, 4>;  // n <= 4; unused places hold -1 (never an id)

Gram gram_at(std::span<const std::int32_t> tokens, std::size_t i, int n) {
  Gram g;
  g.fill(-1);
  for (int k = 0; k < n; ++k)
    g[static_cast<std::size_t>(k)] = tokens[i + static_cast<std::size_t>(k)];
  return g;
}

void check_n(int n) {
  if (n < 1 || n > 4) throw std::invalid_argument("n-gram order must be 1..4");
}

// Unique n-grams / all n-grams of the sequences; 0 when there are none.
double unique_share(std::span<const std::span<const std::int32_t>> sequences, int n) {
  check_n(n);
  std::vector<Gram> grams;
  for (const auto& s : sequences)
    for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= s.size(); ++i)
      grams.push_back(gram_at(s, i, n));
  if (grams.empty()) return 0;
  const auto total = grams.size();
  std::sort(grams.begin(), grams.end());
  const auto unique =
      static_cast<std::size_t>(std::unique(grams.begin(), grams.end()) - grams.begin());
  return static_cast<double>(unique) / static_cast<double>(total);
}

}  // namespace

double seq_rep(std::span<const std::int32_t> tokens, int n) {
  const std::span<const std::int32_t> one[] = {tokens};
  const double unique = unique_share(one, n);
  return unique == 0 ? 0 : 1 - unique;
}

double rep_window(std::span<const std::int32_t> tokens, int window) {
  if (tokens.size() < 2) return 0;
  std::unordered_map<std::int32_t, std::size_t> last;  // token -> its latest position
  std::size_t hits = 0;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    auto it = last.find(tokens[t]);
    if (it != last.end() && t - it->second <= static_cast<std::size_t>(window)) ++hits;
    last[tokens[t]] = t;
  }
  return static_cast<double>(hits) / static_cast<double>(tokens.size() - 1);
}

std::optional<double> zlib_ratio(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()),
                9) != Z_OK)
    throw std::runtime_error("zlib could not compress a sample's text");
  return static_cast<double>(size) / static_cast<double>(text.size());
}

SampleFigures sample_figures(std::span<const std::int32_t> tokens, std::string_view text) {
  SampleFigures f;
  f.seq_rep_2 = seq_rep(tokens, 2);
  f.seq_rep_3 = seq_rep(tokens, 3);
  f.seq_rep_4 = seq_rep(tokens, 4);
  f.rep_16 = rep_window(tokens, 16);
  f.rep_32 = rep_window(tokens, 32);
  f.rep_128 = rep_window(tokens, 128);
  f.zlib_ratio = zlib_ratio(text);
  f.loop = terminal_loop(tokens, kMaxLoopPeriod, kMinLoopLength);
  if (f.loop) {
    f.loop_start = static_cast<int>(tokens.size()) - f.loop->length;
    f.loop_fraction = static_cast<double>(f.loop->length) / static_cast<double>(tokens.size());
  }
  return f;
}

double distinct_n(std::span<const std::vector<std::int32_t>> sequences, int n) {
  const std::vector<std::span<const std::int32_t>> all(sequences.begin(), sequences.end());
  return unique_share(all, n);
}

}  // namespace sg::detectors::repetition
