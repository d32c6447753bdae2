// Logits rows shaped like a language model's, for the sampling tests and bench_sampling: a
// Gaussian bulk at varied sharpness and a few ids far above it.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace sg::testing {

inline std::vector<float> lm_row(int vocab, std::mt19937& gen) {
  std::uniform_real_distribution<float> sharp(0.5f, 4.0f);
  std::normal_distribution<float> bulk(0.0f, sharp(gen));
  std::vector<float> row(static_cast<std::size_t>(vocab));
  for (auto& l : row) l = bulk(gen);
  std::uniform_int_distribution<int> id(0, vocab - 1);
  std::uniform_real_distribution<float> lift(0.0f, 14.0f);
  for (int k = 0; k < 20; ++k) row[static_cast<std::size_t>(id(gen))] += lift(gen);
  return row;
}

}  // namespace sg::testing
