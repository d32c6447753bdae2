#include "engine/sparse_logits.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/logits_processor.hpp"

namespace sg::engine {

SparseLogits::SparseLogits(const LogitSummary& s)
    : top(s.top), rest_max(s.rest_max), total(std::exp(s.log_total)), summary(&s) {}

bool SparseLogits::rest_live() const {
  return rest_max != kMaskedLogit;
}

void SparseLogits::resort() {
  std::sort(top.begin(), top.end(), ranks_above);
}

void SparseLogits::drop_rest() {
  rest_max = kMaskedLogit;
}

void SparseLogits::mask(std::int32_t id) {
  std::erase_if(top, [&](const auto& e) { return e.first == id; });
}

IdOrder in_id_order(const SparseLogits& s, double max) {
  IdOrder out{s.top, 0};
  std::sort(out.ids.begin(), out.ids.end());
  for (const auto& e : out.ids) out.total += std::exp(static_cast<double>(e.second) - max);
  return out;
}

SparseDraw draw(const SparseLogits& s, bool greedy, Rng& rng) {
  if (s.top.empty())
    return {s.rest_live() ? SparseDraw::Kind::kUndecided : SparseDraw::Kind::kNone};
  if (greedy) {
    // argmax takes the lowest id among equal logits; an unlisted one could equal rest_max.
    if (s.top.front().second > s.rest_max) return {SparseDraw::Kind::kToken, s.top.front().first};
    return {};
  }
  if (s.rest_live()) return {};
  // sample() over the full row, where every unlisted id is masked: the same sums in the same
  // order, so the same pick from the same random number.
  const double max = s.top.front().second;
  const auto order = in_id_order(s, max);
  const double target = rng.uniform() * order.total;
  double cumulative = 0;
  std::int32_t last = 0;
  for (const auto& e : order.ids) {
    const double p = std::exp(static_cast<double>(e.second) - max);
    if (p <= 0) continue;
    cumulative += p;
    last = e.first;
    if (target < cumulative) return {SparseDraw::Kind::kToken, last};
  }
  return {SparseDraw::Kind::kToken, last};
}

}  // namespace sg::engine
