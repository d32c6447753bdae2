#include "toxicity/lexicon_scorer.hpp"

#include <stdexcept>

namespace sg::detectors::toxicity {

double severity_weight(int severity) {
  switch (severity) {
    case 1:
      return 0.1;
    case 2:
      return 0.4;
    case 3:
      return 0.8;
    default:
      throw std::invalid_argument("lexicon severity must be 1, 2 or 3");
  }
}

LexiconScorer::LexiconScorer(std::shared_ptr<const Lexicon> lexicon)
    : matcher_(std::move(lexicon)) {}

std::string LexiconScorer::canonical() const {
  // "v1" names the matching rules and the weights: a change to either changes the scores.
  return "lexicon v1 sha256=" + std::string(matcher_.lexicon().sha256()) + " weights=0.1,0.4,0.8";
}

Score LexiconScorer::score_one(std::string_view text) {
  Score s;
  s.matches = matcher_.find(text);
  double clean = 1;
  for (const auto& m : s.matches) clean *= 1 - severity_weight(m.severity);
  s.value = 1 - clean;
  return s;
}

std::vector<Score> LexiconScorer::score(std::span<const std::string_view> texts) {
  std::vector<Score> out;
  out.reserve(texts.size());
  for (auto text : texts) out.push_back(score_one(text));
  return out;
}

}  // namespace sg::detectors::toxicity
