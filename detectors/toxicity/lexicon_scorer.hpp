// Scorer 1: the lexicon. A text's score combines the severities of the terms matched in it
// (non-overlapping matches, LexiconMatcher::find) as independent pieces of evidence:
//   score = 1 - prod over matches (1 - weight(severity)),  weight = {1: 0.1, 2: 0.4, 3: 0.8}
// so one severity-3 term (a word its list is sure is profane) makes a text toxic at the 0.5
// threshold, one severity-2 term (often used innocently too: "damn", "crap", "drug") does
// not, two do. No match scores 0.
#pragma once

#include <memory>

#include "toxicity/lexicon.hpp"
#include "toxicity/lexicon_matcher.hpp"
#include "toxicity/scorer.hpp"

namespace sg::detectors::toxicity {

// The weight of one match of `severity` (1..3) in the score.
double severity_weight(int severity);

// Not thread-safe (the matcher keeps scratch space and a folding cache): one per thread.
class LexiconScorer : public Scorer {
 public:
  explicit LexiconScorer(std::shared_ptr<const Lexicon> lexicon);
  std::string canonical() const override;
  std::vector<Score> score(std::span<const std::string_view> texts) override;

  Score score_one(std::string_view text);

 private:
  LexiconMatcher matcher_;
};

}  // namespace sg::detectors::toxicity
