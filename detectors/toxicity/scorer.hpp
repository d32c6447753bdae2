// A toxicity scorer: a text -> a score in [0, 1] and the evidence behind it. Three kinds
// (README.md): the lexicon (matched terms, with their spans in the original text), a
// sequence-classification checkpoint run on the engine, and self-diagnosis by the audited
// model (Schick et al. 2021). The audit, `stagegate toxicity` and the output filters all
// reach them through this interface, so a score means the same thing everywhere.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "seam/detector.hpp"

namespace sg::detectors::toxicity {

// A listed term found in a text: [start, end) bytes of the text as given (not of its
// normalized form), so a reviewer sees exactly what was written.
struct Match {
  std::string term;  // the term as its list spells it
  std::int64_t start = 0;
  std::int64_t end = 0;
  int severity = 0;  // the term's severity in the lexicon (lexicon/README)
};

struct Score {
  double value = 0;                // in [0, 1]; "toxic" is value >= the threshold (default 0.5)
  std::vector<Match> matches;      // the lexicon's evidence; empty for the other scorers
  std::string detail_json = "{}";  // scorer-specific: label probabilities, p(Yes), p(No)
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  // What the scores mean, as it enters an audit plan's hash: the kind and its data by
  // SHA-256 (word lists, checkpoint), never by path.
  virtual std::string canonical() const = 0;
  // One score per text, in order (texts are batched for the engine when the scorer uses it).
  virtual std::vector<Score> score(std::span<const std::string_view> texts) = 0;
};

// "lexicon", "classifier:DIR", "self" (the audited model) or "self:DIR".
struct ScorerSpec {
  std::string kind;           // "lexicon", "classifier" or "self"
  std::filesystem::path dir;  // empty for "lexicon" and for "self" meaning the audited model
};
// Throws sg::UsageError naming `text` and the accepted forms.
ScorerSpec parse_scorer_spec(std::string_view text);
std::string to_string(const ScorerSpec& spec);

// What a scorer may borrow: a loader for checkpoints (the audit's, or the command's own) and
// the audited model for "self".
struct ScorerContext {
  ModelLoader* models = nullptr;
  const AuxiliaryModel* audited = nullptr;
};

std::unique_ptr<Scorer> make_scorer(const ScorerSpec& spec, const ScorerContext& context);

}  // namespace sg::detectors::toxicity
