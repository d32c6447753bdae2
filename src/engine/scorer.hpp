// Log-probabilities of token sequences under the model. Sequences longer than the context
// are scored with a sliding window, as in Hugging Face's perplexity guide: windows of the
// full context start every `stride` tokens, and each scores only the tokens that no earlier
// window scored, with the rest of the window as context. The first token is context only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sg::engine {

class Model;  // engine/model.hpp; referenced only, so the Vulkan headers stay out

struct ScoreResult {
  std::vector<double> logprobs;  // logprobs[i] = log p(tokens[i+1] | tokens[..i])
  double total_logprob = 0;
  double perplexity = 0;  // exp(-mean logprob)
};

// Tokens score_many put through the model, and those it took from the KV cache instead.
struct ScoreCounts {
  std::size_t computed = 0;
  std::size_t reused = 0;
};

// One result per text, in order. The windows of all texts are packed into forward calls of
// up to max_sequences() windows, one per KV-cache slot; batch invariance makes each result
// the same, bit for bit, as scoring its text alone. Texts of one call that start alike (an
// exposure test's candidates after one prefix) compute the shared start once. `stride` 0
// means half the context. Every text needs at least two tokens.
std::vector<ScoreResult> score_many(Model& model, std::span<const std::vector<std::int32_t>> texts,
                                    int stride = 0, ScoreCounts* counts = nullptr);

// One text (score_many of one).
ScoreResult score(Model& model, std::span<const std::int32_t> tokens, int stride = 0);

}  // namespace sg::engine
