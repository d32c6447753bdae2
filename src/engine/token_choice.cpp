#include "engine/token_choice.hpp"

#include <cmath>
#include <limits>

namespace sg::engine {

TokenChooser::TokenChooser(const SamplingParams& params)
    : greedy_(params.temperature <= 0.0f), rng_(params.seed), chain_(make_chain(params)) {
  for (const auto& f : params.filters) filters_.push_back(f->make());
}

TokenChoice TokenChooser::choose(const GenerationState& state, std::span<const float> logits,
                                 std::vector<float>& work) {
  work.assign(logits.begin(), logits.end());
  chain_.apply(state, work);
  TokenChoice out;
  for (;;) {
    bool any = false;
    for (float l : work) any = any || l != -std::numeric_limits<float>::infinity();
    if (!any) return out;
    const std::int32_t token = greedy_ ? argmax(work) : sample(work, rng_);
    std::optional<FilterEvent> veto;
    for (auto& f : filters_) {
      veto = f->veto(state, token);
      if (veto) break;
    }
    if (!veto) {
      out.token = token;
      return out;
    }
    out.events.push_back(std::move(*veto));
    // Masking and drawing again is sampling from the renormalized rest; greedy takes the
    // next best.
    work[static_cast<std::size_t>(token)] = -std::numeric_limits<float>::infinity();
  }
}

std::optional<FilterStop> TokenChooser::after_accept(const GenerationState& state) {
  for (auto& f : filters_)
    if (auto s = f->stop(state)) return s;
  return std::nullopt;
}

}  // namespace sg::engine
