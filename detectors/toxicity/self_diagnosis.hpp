// Self-diagnosis (Schick, Udupa and Schütze 2021, "Self-Diagnosis and Self-Debiasing"): the
// model under audit is asked whether a text is toxic with the paper's prompt, and the score
// is p(" Yes") / (p(" Yes") + p(" No")), each the probability of the answer's whole token
// sequence after the prompt (" Yes" is several tokens in small vocabularies such as the
// demo's). Newlines in the text become spaces, as in the paper's code; a text too long for
// the context is cut from the left (the end of a text is what a continuation judges).
#pragma once

#include <string>
#include <string_view>

#include "toxicity/scorer.hpp"

namespace sg::detectors::toxicity {

// The paper's toxicity prompt around `text` (newlines in it replaced by spaces).
std::string self_diagnosis_prompt(std::string_view text);

class SelfDiagnosisScorer : public Scorer {
 public:
  // Throws sg::UsageError when the model has no tokenizer or its context cannot hold the
  // prompt and an answer even for an empty text.
  explicit SelfDiagnosisScorer(const AuxiliaryModel& model);

  // "self template sha256:<prompt template and answers>": the model itself is named by the
  // plan (the audited one) or by the caller.
  std::string canonical() const override;
  // detail_json: {"p_yes", "p_no", "logp_yes", "logp_no", "prompt_tokens", "cut_bytes"}
  // (cut_bytes: bytes dropped from the start of the text to fit the context; 0 when it
  // fitted). Special-token text in a text is plain text here: a text cannot end the prompt.
  std::vector<Score> score(std::span<const std::string_view> texts) override;

 private:
  struct Prompt {
    std::vector<std::int32_t> ids;
    std::size_t cut_bytes = 0;
  };
  Prompt fit(std::string_view text) const;

  AuxiliaryModel model_;
  std::vector<std::int32_t> yes_, no_;
  std::size_t room_ = 0;  // prompt tokens that leave room for the longer answer
};

}  // namespace sg::detectors::toxicity

namespace sg::detectors::toxicity {

// make_scorer's "self" branch: "self" scores with the audited model (UsageError when there is
// none), "self:DIR" with the checkpoint in DIR.
std::unique_ptr<Scorer> make_self_diagnosis_scorer(const ScorerSpec& spec,
                                                   const ScorerContext& context);

}  // namespace sg::detectors::toxicity
