#include "repetition/loop_stop.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace sg::detectors::repetition {

namespace {

// Checked after every accepted token, so it keeps, for each period p, how many of the latest
// positions j in a row have out[j] == out[j - p]: the p-periodic run reaching the end is p
// tokens longer. That is terminal_loop's walk back, done one token at a time (O(max_period)
// per token instead of a scan of the whole output).
class LoopStop : public engine::OutputFilter {
 public:
  explicit LoopStop(const LoopStopSettings& s)
      : s_(s), matches_(static_cast<std::size_t>(s.max_period) + 1, 0) {}

  std::optional<engine::FilterEvent> veto(const engine::GenerationState&, std::int32_t) override {
    return std::nullopt;
  }

  std::optional<engine::FilterStop> stop(const engine::GenerationState& state) override {
    const auto& out = state.generated;
    for (; seen_ < out.size(); ++seen_)
      for (std::size_t p = 1; p < matches_.size(); ++p)
        matches_[p] = seen_ >= p && out[seen_] == out[seen_ - p] ? matches_[p] + 1 : 0;
    for (int p = s_.min_period; p <= s_.max_period; ++p) {
      const auto length = static_cast<std::int64_t>(p) + matches_[static_cast<std::size_t>(p)];
      const auto needed = std::max(static_cast<std::int64_t>(s_.min_repeats) * p,
                                   static_cast<std::int64_t>(s_.min_length));
      if (length < needed) continue;
      const auto n = static_cast<std::int64_t>(out.size());
      engine::FilterEvent event{kLoopStopFilter, "stop", n - 1,
                                "{\"period\":" + std::to_string(p) +
                                    ",\"start\":" + std::to_string(n - length) +
                                    ",\"length\":" + std::to_string(length) + "}"};
      return engine::FilterStop{"loop", std::move(event)};
    }
    return std::nullopt;
  }

 private:
  LoopStopSettings s_;
  std::vector<std::int64_t> matches_;  // by period; [0] unused
  std::size_t seen_ = 0;               // output tokens counted into matches_
};

}  // namespace

LoopStopFactory::LoopStopFactory(LoopStopSettings settings) : settings_(settings) {
  if (settings.min_period < 1 || settings.max_period < settings.min_period ||
      settings.min_repeats < 2 || settings.min_length < 1)
    throw std::invalid_argument(
        "loop stop: need 1 <= min_period <= max_period, "
        "min_repeats >= 2 and min_length >= 1");
}

std::unique_ptr<engine::OutputFilter> LoopStopFactory::make() const {
  return std::make_unique<LoopStop>(settings_);
}

}  // namespace sg::detectors::repetition
