#include "engine/scorer.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "common/errors.hpp"
#include "engine/model.hpp"
#include "engine/sampling.hpp"

namespace sg::engine {

namespace {

// Tokens [begin, end) of one text, scoring targets [first_target, end).
struct Window {
  std::size_t text;
  int begin;
  int end;
  int first_target;
};

void add_windows(std::vector<Window>& out, std::size_t text, int n, int window, int stride) {
  int scored_until = 1;  // tokens [1, scored_until) are scored by earlier windows
  for (int begin = 0;; begin += stride) {
    const int end = std::min(begin + window, n);
    out.push_back({text, begin, end, scored_until});
    scored_until = end;
    if (end == n) break;
  }
}

}  // namespace

std::vector<ScoreResult> score_many(Model& model, std::span<const std::vector<std::int32_t>> texts,
                                    int stride, ScoreCounts* counts) {
  for (std::size_t t = 0; t < texts.size(); ++t)
    if (texts[t].size() < 2)
      throw InputError("scoring needs at least two tokens (the first is context only); got " +
                       std::to_string(texts[t].size()) +
                       (texts.size() > 1 ? " in text " + std::to_string(t) : std::string()));
  const int window = model.context();
  if (stride <= 0) stride = std::max(1, window / 2);
  // Windows must overlap by at least one token, or the first token of each later window
  // would have no context inside its window and go unscored.
  if (stride >= window)
    throw UsageError("--stride " + std::to_string(stride) + " must be less than the context of " +
                     std::to_string(window));

  std::vector<ScoreResult> results(texts.size());
  std::vector<Window> windows;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    results[t].logprobs.assign(texts[t].size() - 1, 0.0);
    add_windows(windows, t, static_cast<int>(texts[t].size()), window, stride);
  }

  const auto slots = static_cast<std::size_t>(model.max_sequences());
  auto window_tokens = [&](const Window& w) {
    return std::span(texts[w.text])
        .subspan(static_cast<std::size_t>(w.begin), static_cast<std::size_t>(w.end - w.begin));
  };
  std::vector<SequenceChunk> chunks;
  std::vector<KvCopy> copies;
  for (std::size_t first = 0; first < windows.size(); first += slots) {
    const auto group = std::span(windows).subspan(first, std::min(slots, windows.size() - first));
    // A window that starts its text and shares at least two tokens with an earlier such window
    // of the group (its leader: one that follows none) is computed after it, from a copy of the
    // shared keys and values but the last shared token's, whose row scores the first token
    // that may differ; the targets before that are the leader's (prefix caching: the same
    // tokens give the same values, bit for bit).
    std::vector<std::optional<KvCopy>> follows(group.size());
    for (std::size_t j = 0; j < group.size(); ++j) {
      if (group[j].begin != 0) continue;
      const auto mine = window_tokens(group[j]);
      for (std::size_t k = 0; k < j; ++k) {
        if (follows[k] || group[k].begin != 0) continue;
        const auto shared =
            static_cast<int>(shared_prefix(mine, window_tokens(group[k]), mine.size()));
        if (shared >= 2 && (!follows[j] || shared - 1 > follows[j]->positions))
          follows[j] = KvCopy{static_cast<int>(k), static_cast<int>(j), shared - 1};
      }
    }
    for (const bool followers : {false, true}) {
      chunks.clear();
      copies.clear();
      for (std::size_t j = 0; j < group.size(); ++j) {
        if (follows[j].has_value() != followers) continue;
        const int start = followers ? follows[j]->positions : 0;
        if (followers) copies.push_back(*follows[j]);
        chunks.push_back({static_cast<int>(j), start,
                          window_tokens(group[j]).subspan(static_cast<std::size_t>(start)), true,
                          std::nullopt});
        if (counts) {
          counts->computed += chunks.back().tokens.size();
          counts->reused += static_cast<std::size_t>(start);
        }
      }
      if (chunks.empty()) continue;
      model.copy_kv(copies);
      model.forward(chunks, [&](std::size_t c, int i, std::span<const float> logits,
                                const engine::LogitSummary*) {
        const auto& w = group[static_cast<std::size_t>(chunks[c].slot)];  // slot j: window j
        const int target = w.begin + chunks[c].start_pos + i + 1;
        if (target < w.first_target || target >= w.end) return;
        const auto& tokens = texts[w.text];
        results[w.text].logprobs[static_cast<std::size_t>(target - 1)] =
            log_prob(logits, tokens[static_cast<std::size_t>(target)]);
      });
      for (const auto& copy : copies) {
        const auto& from = results[group[static_cast<std::size_t>(copy.from_slot)].text].logprobs;
        auto& to = results[group[static_cast<std::size_t>(copy.to_slot)].text].logprobs;
        std::copy_n(from.begin(), copy.positions, to.begin());
      }
    }
  }

  for (auto& r : results) {
    for (double lp : r.logprobs) r.total_logprob += lp;
    r.perplexity = std::exp(-r.total_logprob / static_cast<double>(r.logprobs.size()));
  }
  return results;
}

ScoreResult score(Model& model, std::span<const std::int32_t> tokens, int stride) {
  const std::vector<std::int32_t> text(tokens.begin(), tokens.end());
  return std::move(score_many(model, std::span(&text, 1), stride).front());
}

}  // namespace sg::engine
