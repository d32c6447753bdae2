#include "engine/logit_summary.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "engine/logits_processor.hpp"

namespace sg::engine {

namespace {
constexpr std::uint32_t kNoId = 0xffffffffu;
}  // namespace

std::optional<LogitSummary> merge_lanes(std::span<const std::uint32_t> records, int vocab,
                                        float temperature) {
  auto word = [&](int lane, int k) {
    return records[static_cast<std::size_t>(lane * kSummaryWords + k)];
  };
  auto real = [&](int lane, int k) { return std::bit_cast<float>(word(lane, k)); };

  LogitSummary s;
  s.vocab = vocab;
  s.temperature = temperature;
  s.max = kMaskedLogit;
  s.argmax = 0;
  s.rest_max = kMaskedLogit;
  for (int lane = 0; lane < kSummaryLanes; ++lane) {
    const float m = real(lane, 0);
    if (!std::isfinite(real(lane, 2)) || !std::isfinite(real(lane, 3)) || std::isnan(m) ||
        m == std::numeric_limits<float>::infinity())
      return std::nullopt;
    const auto id = static_cast<std::int32_t>(word(lane, 1));
    if (m > s.max || (m == s.max && m != kMaskedLogit && id < s.argmax)) {
      s.max = m;
      s.argmax = id;
    }
    // A lane's M-th best bounds everything it left out.
    s.rest_max = std::max(s.rest_max, real(lane, 4 + kSummaryKeep - 1));
  }
  if (s.max == kMaskedLogit) return std::nullopt;  // every logit masked: nothing to sample

  double total = 0;
  double tempered = 0;
  for (int lane = 0; lane < kSummaryLanes; ++lane) {
    const double m = real(lane, 0);
    if (m == -std::numeric_limits<double>::infinity()) continue;
    total += static_cast<double>(real(lane, 2)) * std::exp(m - s.max);
    tempered += static_cast<double>(real(lane, 3)) * std::exp((m - s.max) / temperature);
    for (int k = 0; k < kSummaryKeep; ++k) {
      const float v = real(lane, 4 + k);
      if (v > s.rest_max && word(lane, 4 + kSummaryKeep + k) != kNoId)
        s.top.emplace_back(static_cast<std::int32_t>(word(lane, 4 + kSummaryKeep + k)), v);
    }
  }
  s.log_total = std::log(total);
  s.tempered_total = tempered;
  std::sort(s.top.begin(), s.top.end(), ranks_above);
  return s;
}

double log_prob(const LogitSummary& summary, float logit) {
  return static_cast<double>(logit) - static_cast<double>(summary.max) - summary.log_total;
}

std::optional<std::vector<std::pair<std::int32_t, double>>> top_log_probs(
    const LogitSummary& summary, int n) {
  const auto k =
      std::min(static_cast<std::size_t>(std::max(n, 0)), static_cast<std::size_t>(summary.vocab));
  if (k > summary.top.size()) return std::nullopt;
  std::vector<std::pair<std::int32_t, double>> out;
  for (std::size_t i = 0; i < k; ++i)
    out.emplace_back(summary.top[i].first, log_prob(summary, summary.top[i].second));
  return out;
}

std::vector<std::uint32_t> lane_records_reference(std::span<const float> logits,
                                                  float temperature) {
  std::vector<std::uint32_t> out(static_cast<std::size_t>(kSummaryLanes * kSummaryWords));
  for (int lane = 0; lane < kSummaryLanes; ++lane) {
    float m = kMaskedLogit;
    std::uint32_t arg = kNoId;
    float s1 = 0;
    float st = 0;
    std::vector<std::pair<float, std::uint32_t>> best;  // (logit, id), best first
    const auto better = [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    for (std::size_t i = static_cast<std::size_t>(lane); i < logits.size(); i += kSummaryLanes) {
      const float l = logits[i];
      if (l == kMaskedLogit) continue;
      if (l > m) {
        s1 *= std::exp(m - l);
        st *= std::exp((m - l) / temperature);
        m = l;
        arg = static_cast<std::uint32_t>(i);
      }
      s1 += std::exp(l - m);
      st += std::exp((l - m) / temperature);
      const std::pair<float, std::uint32_t> e{l, static_cast<std::uint32_t>(i)};
      best.insert(std::upper_bound(best.begin(), best.end(), e, better), e);
      if (best.size() > kSummaryKeep) best.pop_back();
    }
    best.resize(kSummaryKeep, {kMaskedLogit, kNoId});
    auto* r = out.data() + static_cast<std::size_t>(lane * kSummaryWords);
    r[0] = std::bit_cast<std::uint32_t>(m);
    r[1] = arg;
    r[2] = std::bit_cast<std::uint32_t>(s1);
    r[3] = std::bit_cast<std::uint32_t>(st);
    for (int k = 0; k < kSummaryKeep; ++k) {
      r[4 + k] = std::bit_cast<std::uint32_t>(best[static_cast<std::size_t>(k)].first);
      r[4 + kSummaryKeep + k] = best[static_cast<std::size_t>(k)].second;
    }
  }
  return out;
}

}  // namespace sg::engine
