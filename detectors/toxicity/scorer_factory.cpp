#include <utility>

#include "common/errors.hpp"
#include "toxicity/classifier_scorer.hpp"
#include "toxicity/lexicon_scorer.hpp"
#include "toxicity/scorer.hpp"
#include "toxicity/self_diagnosis.hpp"

namespace sg::detectors::toxicity {

ScorerSpec parse_scorer_spec(std::string_view text) {
  const auto colon = text.find(':');
  const std::string kind(text.substr(0, colon));
  std::filesystem::path dir;
  if (colon != std::string_view::npos) dir = std::string(text.substr(colon + 1));
  const bool needs_dir = kind == "classifier";
  const bool takes_dir = needs_dir || kind == "self";
  if ((kind != "lexicon" && !takes_dir) || (colon != std::string_view::npos && !takes_dir) ||
      (needs_dir && dir.empty()) || (colon != std::string_view::npos && dir.empty()))
    throw UsageError("scorer '" + std::string(text) +
                     "': expected lexicon, classifier:DIR, self or self:DIR");
  return ScorerSpec{kind, std::move(dir)};
}

std::string to_string(const ScorerSpec& spec) {
  return spec.dir.empty() ? spec.kind : spec.kind + ":" + spec.dir.string();
}

// Each scorer kind adds its branch here as it lands.
std::unique_ptr<Scorer> make_scorer(const ScorerSpec& spec, const ScorerContext& context) {
  if (spec.kind == "classifier") {
    if (!context.models)
      throw UsageError("scorer '" + to_string(spec) +
                       "' needs a model loader, which this use has not");
    return std::make_unique<ClassifierScorer>(context.models->load(spec.dir));
  }
  if (spec.kind == "self") return make_self_diagnosis_scorer(spec, context);
  if (spec.kind == "lexicon") return std::make_unique<LexiconScorer>(Lexicon::builtin());
  throw UsageError("scorer '" + to_string(spec) + "': unknown kind");
}

}  // namespace sg::detectors::toxicity
