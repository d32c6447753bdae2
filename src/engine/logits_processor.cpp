#include "engine/logits_processor.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "engine/sparse_logits.hpp"

namespace sg::engine {

namespace {
constexpr float kMasked = -std::numeric_limits<float>::infinity();

// How far the device's normalizer may be from the full row's double sum, relatively, and
// still leave top-p's cut where the full row puts it. The float sums measure within ~1e-5
// (tests/engine/test_logit_summary.cpp); a cut whose cumulative mass lies closer to p than
// this margin is taken from the full row instead.
constexpr double kTopPMargin = 1e-4;

// Ids top-p sorts before it knows how far the nucleus reaches: a trained model's nucleus
// is mostly shorter, and sorting 50,257 ids whole cost 4 ms a token (bench_sampling).
constexpr std::size_t kTopPSortedFirst = 1024;

template <typename F>
void for_each_token(const GenerationState& s, F f) {
  for (auto id : s.prompt) f(id);
  for (auto id : s.generated) f(id);
}
}  // namespace

void RepetitionPenalty::apply(const GenerationState& state, std::span<float> logits) {
  std::unordered_set<std::int32_t> seen;
  for_each_token(state, [&](std::int32_t id) {
    if (id < 0 || static_cast<std::size_t>(id) >= logits.size() || !seen.insert(id).second) return;
    float& l = logits[static_cast<std::size_t>(id)];
    l = l < 0 ? l * penalty_ : l / penalty_;
  });
}

void PresenceFrequencyPenalty::apply(const GenerationState& state, std::span<float> logits) {
  std::unordered_map<std::int32_t, int> count;
  for (auto id : state.generated)
    if (id >= 0 && static_cast<std::size_t>(id) < logits.size()) ++count[id];
  for (const auto& [id, c] : count)
    logits[static_cast<std::size_t>(id)] -= static_cast<float>(c) * frequency_ + presence_;
}

void NoRepeatNgram::apply(const GenerationState& state, std::span<float> logits) {
  std::vector<std::int32_t> seq(state.prompt.begin(), state.prompt.end());
  seq.insert(seq.end(), state.generated.begin(), state.generated.end());
  const auto n = static_cast<std::size_t>(n_);
  if (n == 0 || seq.size() + 1 < n) return;
  // The last n-1 tokens followed by t must not equal any earlier n-gram.
  const std::size_t tail = seq.size() - (n - 1);
  for (std::size_t start = 0; start + n <= seq.size(); ++start) {
    if (std::equal(seq.begin() + static_cast<std::ptrdiff_t>(start),
                   seq.begin() + static_cast<std::ptrdiff_t>(start + n - 1),
                   seq.begin() + static_cast<std::ptrdiff_t>(tail))) {
      auto banned = seq[start + n - 1];
      if (banned >= 0 && static_cast<std::size_t>(banned) < logits.size())
        logits[static_cast<std::size_t>(banned)] = kMasked;
    }
  }
}

void Temperature::apply(const GenerationState&, std::span<float> logits) {
  for (auto& l : logits) l /= t_;
}

bool Temperature::apply_sparse(const GenerationState&, SparseLogits& s) {
  // The normalizer of the tempered row is the device's, computed at the request's
  // temperature; a second temperature (never made by make_chain) has none.
  if (s.tempered || s.summary->temperature != t_) return false;
  for (auto& e : s.top) e.second /= t_;
  if (s.rest_live()) s.rest_max /= t_;
  s.total = s.summary->tempered_total;
  s.tempered = true;
  s.resort();  // the division may round neighbours to equal values
  return true;
}

void TopK::apply(const GenerationState&, std::span<float> logits) {
  auto k = static_cast<std::size_t>(k_);
  if (k == 0 || k >= logits.size()) return;
  std::vector<float> sorted(logits.begin(), logits.end());
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   sorted.end(), std::greater<float>());
  float kth = sorted[k - 1];
  for (auto& l : logits)
    if (l < kth) l = kMasked;
}

bool TopK::apply_sparse(const GenerationState&, SparseLogits& s) {
  const auto k = static_cast<std::size_t>(k_);
  if (k == 0 || k >= static_cast<std::size_t>(s.summary->vocab)) return true;
  if (s.top.size() < k) return !s.rest_live();  // the k-th largest is masked: apply keeps all
  const float kth = s.top[k - 1].second;
  // apply keeps every logit >= kth, so unlisted ids are out only when all are below it.
  if (!(s.rest_max < kth)) return false;
  std::erase_if(s.top, [&](const auto& e) { return e.second < kth; });
  s.drop_rest();
  return true;
}

void TopP::apply(const GenerationState&, std::span<float> logits) {
  if (p_ >= 1.0f) return;
  // The ids by logit, largest first, then by id: the order a stable sort by logit gives,
  // and a strict one (a NaN ranks as masked), so that a partial sort yields the same prefix.
  // Sorted only as far as the nucleus reaches: a prefix first, the rest if it falls short.
  const auto rank = [&](std::uint32_t i) { return std::isnan(logits[i]) ? kMasked : logits[i]; };
  const auto before = [&](std::uint32_t a, std::uint32_t b) {
    return rank(a) > rank(b) || (rank(a) == rank(b) && a < b);
  };
  std::vector<std::uint32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0u);
  std::size_t sorted = std::min(order.size(), kTopPSortedFirst);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(sorted), order.end(),
                    before);
  double max = logits[order[0]];
  double total = 0;
  for (auto l : logits) total += std::exp(static_cast<double>(l) - max);
  double cumulative = 0;
  std::size_t keep = 0;
  while (keep < order.size()) {
    if (keep == sorted) {
      std::sort(order.begin() + static_cast<std::ptrdiff_t>(sorted), order.end(), before);
      sorted = order.size();
    }
    cumulative += std::exp(static_cast<double>(logits[order[keep]]) - max) / total;
    ++keep;
    if (cumulative >= p_) break;
  }
  for (std::size_t i = keep; i < order.size(); ++i) logits[order[i]] = kMasked;
}

bool TopP::apply_sparse(const GenerationState&, SparseLogits& s) {
  if (p_ >= 1.0f) return true;
  if (s.top.empty()) return !s.rest_live();
  const double max = s.top.front().second;
  const bool exact = !s.rest_live();
  double total = s.total;
  if (exact) total = in_id_order(s, max).total;  // apply's sum, over the ids in order
  double cumulative = 0;
  std::size_t keep = 0;
  while (keep < s.top.size()) {
    const double before = cumulative;
    cumulative += std::exp(static_cast<double>(s.top[keep].second) - max) / total;
    ++keep;
    if (cumulative >= p_) {
      // With the device's normalizer the cut must hold for any total within the margin.
      if (!exact && (cumulative < p_ * (1 + kTopPMargin) || before >= p_ * (1 - kTopPMargin)))
        return false;
      break;
    }
  }
  if (!exact && (cumulative < p_ || !(s.top[keep - 1].second > s.rest_max))) return false;
  s.top.resize(keep);
  s.drop_rest();
  return true;
}

}  // namespace sg::engine
