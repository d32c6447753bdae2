// Scorer 2: a Hugging Face sequence-classification checkpoint (BERT, RoBERTa, GPT-2 with a
// score head) run on the engine. score = the probability of the checkpoint's toxic label:
//   - probabilities as Hugging Face's text-classification pipeline makes them: a sigmoid per
//     label for problem_type multi_label_classification (Detoxify's toxic-bert) or a single
//     label, a softmax over the labels otherwise; a regression head is refused (its output is
//     no probability);
//   - the toxic label: the one id2label names "toxic" or "toxicity" (any case); else, with
//     two labels, index 1 (the positive class of a binary classifier); else refused.
// Texts are tokenized with the checkpoint's tokenizer (its tokens without special tokens),
// framed and cut as classifier_input.hpp says, and classified in batches of whole sequences.
// An empty GPT-2 input (no token at all) has nothing to classify and scores 0.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "toxicity/classifier_input.hpp"
#include "toxicity/scorer.hpp"

namespace sg::detectors::toxicity {

// The index of the toxic label (see above). Throws sg::InputError naming `where` (the
// config file) and the labels when none qualifies.
int toxic_label_index(const model::Config& config, const std::string& where);

// Whether the labels are independent (sigmoid each) rather than exclusive (softmax).
bool sigmoid_labels(const model::Config& config);

// Per-label probabilities from one logits row, in double precision.
std::vector<double> label_probabilities(std::span<const float> logits, bool sigmoid);

class ClassifierScorer final : public Scorer {
 public:
  // `model` (its checkpoint, engine and tokenizer) must outlive the scorer. Throws
  // sg::InputError for a checkpoint that is no classifier, a regression head, a missing
  // tokenizer or special token, or labels without a toxic one.
  explicit ClassifierScorer(const AuxiliaryModel& model);

  std::string canonical() const override;
  std::vector<Score> score(std::span<const std::string_view> texts) override;

  int toxic_label() const { return toxic_; }
  // The engine input for one text (exposed for tests).
  FramedInput input_for(std::string_view text) const;

 private:
  AuxiliaryModel model_;
  ClassifierFraming framing_;
  int toxic_ = 0;
  bool sigmoid_ = false;
  std::string canonical_;
};

}  // namespace sg::detectors::toxicity
