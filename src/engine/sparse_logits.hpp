// A row of logits as the device summarized it (logit_summary.hpp): the largest logits
// exactly, every other one only through a bound and the normalizer. The warpers that need no
// more (temperature, top-k, top-p) reshape it as they would the full row, and greedy or
// sampled picks come from it, each giving bit for bit what the full row would have given, or
// refusing, so that the caller runs the full row instead. Never an approximation.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/logit_summary.hpp"
#include "engine/rng.hpp"

namespace sg::engine {

struct SparseLogits {
  explicit SparseLogits(const LogitSummary& summary);

  // The live ids listed, with their (processed) logits: largest first, then by id.
  std::vector<std::pair<std::int32_t, float>> top;
  // Every live id not listed has a logit at most this; -inf when none is live (masked).
  float rest_max;
  // While unlisted ids are live: sum over live ids of exp(l - largest l), from the device's
  // float sums (within ~1e-5 of the double sum the full row would give).
  double total;
  bool tempered = false;  // Temperature has been applied
  const LogitSummary* summary;

  bool rest_live() const;
  // Sorts `top` again (largest first, then by id), after values changed.
  void resort();
  // Masks every unlisted id.
  void drop_rest();
  // Masks one listed id (a vetoed pick).
  void mask(std::int32_t id);
};

// The listed ids in id order, with the sum of exp(l - max) over them taken in that order:
// the full row's sum when every unlisted id is masked (a masked id adds exactly 0), bit for bit.
struct IdOrder {
  std::vector<std::pair<std::int32_t, float>> ids;
  double total = 0;
};
IdOrder in_id_order(const SparseLogits& s, double max);

struct SparseDraw {
  enum class Kind { kToken, kNone, kUndecided } kind = Kind::kUndecided;
  std::int32_t token = 0;
};

// argmax (greedy) or sample() of sampling.hpp over the live logits: kNone when every one is
// masked, kUndecided (before drawing any random number) when unlisted ids could matter.
SparseDraw draw(const SparseLogits& s, bool greedy, Rng& rng);

}  // namespace sg::engine
