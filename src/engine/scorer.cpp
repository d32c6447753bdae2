#include "engine/scorer.hpp"

#include <algorithm>
#include <cmath>

#include "common/errors.hpp"
#include "engine/sampling.hpp"

namespace sg::engine {

ScoreResult score(Model& model, std::span<const std::int32_t> tokens, int stride) {
  const int n = static_cast<int>(tokens.size());
  if (n < 2)
    throw InputError("scoring needs at least two tokens (the first is context only); got " +
                     std::to_string(n));
  const int window = model.context();
  if (stride <= 0) stride = std::max(1, window / 2);
  // Windows must overlap by at least one token, or the first token of each later window
  // would have no context inside its window and go unscored.
  if (stride >= window)
    throw UsageError("--stride " + std::to_string(stride) + " must be less than the context of " +
                     std::to_string(window));

  ScoreResult result;
  result.logprobs.assign(static_cast<std::size_t>(n - 1), 0.0);
  int scored_until = 1;  // tokens [1, scored_until) have a logprob
  for (int begin = 0;; begin += stride) {
    const int end = std::min(begin + window, n);
    SequenceChunk chunk{
        0, 0,
        tokens.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)),
        true};
    const int first_target = scored_until;
    model.forward(std::span(&chunk, 1), [&](std::size_t, int i, std::span<const float> logits) {
      int target = begin + i + 1;
      if (target < first_target || target >= end) return;
      result.logprobs[static_cast<std::size_t>(target - 1)] =
          log_prob(logits, tokens[static_cast<std::size_t>(target)]);
    });
    scored_until = end;
    if (end == n) break;
  }
  for (double lp : result.logprobs) result.total_logprob += lp;
  result.perplexity = std::exp(-result.total_logprob / static_cast<double>(n - 1));
  return result;
}

std::vector<ScoreResult> score_many(Model& model, std::span<const std::vector<std::int32_t>> texts,
                                    int stride) {
  std::vector<ScoreResult> out;
  for (const auto& t : texts) out.push_back(score(model, t, stride));
  return out;
}

}  // namespace sg::engine
