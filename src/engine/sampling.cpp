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

std::int32_t sample(std::span<const float> logits, Rng& rng) {
  double max = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (float l : logits) total += std::exp(static_cast<double>(l) - max);
  double target = rng.uniform() * total;
  double cumulative = 0;
  std::int32_t last = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    double p = std::exp(static_cast<double>(logits[i]) - max);
    if (p <= 0) continue;
    cumulative += p;
    last = static_cast<std::int32_t>(i);
    if (target < cumulative) return last;
  }
  return last;  // rounding left target at the very top
}

double log_prob(std::span<const float> logits, std::int32_t id) {
  double max = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (float l : logits) total += std::exp(static_cast<double>(l) - max);
  return static_cast<double>(logits[static_cast<std::size_t>(id)]) - max - std::log(total);
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
