// Finds the lexicon's terms in a text after TextNormalizer's folding, also when written
// around a filter:
//   - leetspeak: a digit or symbol stands for the letters it looks like (`sh1t`, `@ss`,
//     `$hit`, `b!tch`); a match must contain a letter or a symbol, so a plain number
//     (`455`) is never a term;
//   - repeated letters: a letter stretched to a run of three or more matches the term's run
//     of it (`fuuuck` is "fuck"); a shorter run must equal the term's, so `as` is never
//     "ass" and "assess" is not "asses";
//   - separators inside a word, when the word is spelled out letter by letter (`f.u.c.k`,
//     `f u c k`, `f-u-c-k`); a gap between the words of a multi-word term may be any short
//     run of separators or none;
//   - a plural `s` (or `es` after s, x, z, h) after the term.
// A match must start and end at a word boundary (the neighbouring characters are not
// letters or digits of any script), so words that merely contain a term (Scunthorpe,
// assassin, cocktail, Dickens) are not matches. Spans are bytes of the original text.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "toxicity/lexicon.hpp"
#include "toxicity/scorer.hpp"
#include "toxicity/text_normalizer.hpp"

namespace sg::detectors::toxicity {

struct TermMatch {
  std::int32_t term = 0;   // index in Lexicon::terms()
  std::int64_t start = 0;  // bytes of the original text
  std::int64_t end = 0;
};

// Keeps scratch space between calls: one per thread.
class LexiconMatcher {
 public:
  explicit LexiconMatcher(std::shared_ptr<const Lexicon> lexicon);

  // Every match, overlapping ones included, ordered by start then end.
  const std::vector<TermMatch>& find_all(std::string_view text);
  // The evidence a reader wants: overlapping matches resolved in favour of the longest
  // (then the most severe), in text order.
  std::vector<Match> find(std::string_view text);

  const Lexicon& lexicon() const { return *lexicon_; }

 private:
  struct State {
    std::int32_t node = 0;
    std::int32_t pos = 0;       // next character of the normalized text
    char last = 0;              // the term letter last matched; 0 at the start of a word
    std::uint8_t group = 0;     // characters since the last separator inside the word
    bool spelled = false;       // the word is spelled out with separators
    bool has_letter = false;    // a letter or symbol (not only digits) was matched
    bool just_matched = false;  // pos is right after a matched character
  };
  void search_from(std::int32_t start);
  void record(const State& s, std::int32_t start);

  std::shared_ptr<const Lexicon> lexicon_;
  TextNormalizer normalizer_;
  NormalizedText text_;
  std::vector<State> stack_;
  std::vector<TermMatch> found_;
};

}  // namespace sg::detectors::toxicity
