#include "engine/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace sg::engine {

ProcessorChain make_chain(const SamplingParams& p) {
  ProcessorChain chain;
  if (p.repetition_penalty != 1.0f)
    chain.add(std::make_unique<RepetitionPenalty>(p.repetition_penalty));
  if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f)
    chain.add(std::make_unique<PresenceFrequencyPenalty>(p.presence_penalty, p.frequency_penalty));
  if (p.dry.enabled()) chain.add(std::make_unique<Dry>(p.dry));
  if (p.no_repeat_ngram > 0) chain.add(std::make_unique<NoRepeatNgram>(p.no_repeat_ngram));
  if (p.temperature > 0.0f) {
    if (p.temperature != 1.0f) chain.add(std::make_unique<Temperature>(p.temperature));
    if (p.top_k > 0) chain.add(std::make_unique<TopK>(p.top_k));
    if (p.top_p < 1.0f) chain.add(std::make_unique<TopP>(p.top_p));
  }
  return chain;
}

std::int32_t argmax(std::span<const float> logits) {
  return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::int32_t sample(std::span<const float> logits, Rng& rng, std::vector<double>& exps,
                    Normalizer& normalizer) {
  const double max = *std::max_element(logits.begin(), logits.end());
  exps.resize(logits.size());
  double total = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    exps[i] = std::exp(static_cast<double>(logits[i]) - max);
    total += exps[i];
  }
  normalizer = {max, total};
  const double target = rng.uniform() * total;
  double cumulative = 0;
  std::int32_t last = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double p = exps[i];
    if (p <= 0) continue;
    cumulative += p;
    last = static_cast<std::int32_t>(i);
    if (target < cumulative) return last;
  }
  return last;  // rounding left target at the very top
}

std::int32_t sample(std::span<const float> logits, Rng& rng) {
  std::vector<double> exps;
  Normalizer normalizer;
  return sample(logits, rng, exps, normalizer);
}

namespace {

// log softmax(logits)[i] = logits[i] - max - log_total.
struct LogSoftmax {
  explicit LogSoftmax(std::span<const float> logits)
      : max(*std::max_element(logits.begin(), logits.end())) {
    double total = 0;
    for (float l : logits) total += std::exp(static_cast<double>(l) - max);
    log_total = std::log(total);
  }
  double at(std::span<const float> logits, std::int32_t id) const {
    return static_cast<double>(logits[static_cast<std::size_t>(id)]) - max - log_total;
  }
  double max;
  double log_total = 0;
};

}  // namespace

double log_prob(std::span<const float> logits, std::int32_t id) {
  return LogSoftmax(logits).at(logits, id);
}

double log_prob(const Normalizer& normalizer, float logit) {
  // LogSoftmax's arithmetic, in its order.
  return static_cast<double>(logit) - normalizer.max - std::log(normalizer.total);
}

std::vector<std::pair<std::int32_t, double>> top_log_probs(std::span<const float> logits, int n) {
  const LogSoftmax norm(logits);
  std::vector<std::int32_t> ids(logits.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(i);
  const auto k = std::min(ids.size(), static_cast<std::size_t>(std::max(n, 0)));
  auto logit = [&](std::int32_t id) { return logits[static_cast<std::size_t>(id)]; };
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                    [&](std::int32_t a, std::int32_t b) {
                      return logit(a) > logit(b) || (logit(a) == logit(b) && a < b);
                    });
  std::vector<std::pair<std::int32_t, double>> out;
  for (std::size_t i = 0; i < k; ++i) out.emplace_back(ids[i], norm.at(logits, ids[i]));
  return out;
}

std::uint64_t retry_seed(std::uint64_t seed, int attempt) {
  if (attempt == 0) return seed;
  // splitmix64 of the seed offset by the attempt (an odd constant): neighbouring seeds and
  // attempts land far apart.
  std::uint64_t x = seed ^ (static_cast<std::uint64_t>(attempt) * 0xd1b54a32d192ed03ull);
  return Rng::splitmix64(x);
}

std::uint64_t random_seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace sg::engine
