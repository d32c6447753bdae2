#include "toxicity/classifier_scorer.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "engine/model.hpp"
#include "model/identity.hpp"

namespace sg::detectors::toxicity {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string config_file(const model::Checkpoint& checkpoint) {
  return (checkpoint.dir() / "config.json").string();
}

}  // namespace

int toxic_label_index(const model::Config& config, const std::string& where) {
  for (std::size_t i = 0; i < config.labels.size(); ++i) {
    const auto name = lower(config.labels[i]);
    if (name == "toxic" || name == "toxicity") return static_cast<int>(i);
  }
  if (config.num_labels == 2) return 1;
  if (config.num_labels == 1) return 0;
  std::string names;
  for (const auto& l : config.labels) names += (names.empty() ? "" : ", ") + l;
  throw InputError(where + ": 'id2label' (" + names +
                   ") names no label \"toxic\" or \"toxicity\", and with " +
                   std::to_string(config.num_labels) + " labels none is the positive class");
}

bool sigmoid_labels(const model::Config& config) {
  return config.problem_type == model::ProblemType::kMultiLabel || config.num_labels == 1;
}

std::vector<double> label_probabilities(std::span<const float> logits, bool sigmoid) {
  std::vector<double> p(logits.begin(), logits.end());
  if (sigmoid) {
    for (auto& v : p) v = 1.0 / (1.0 + std::exp(-v));
    return p;
  }
  const double mx = p.empty() ? 0.0 : *std::max_element(p.begin(), p.end());
  double total = 0;
  for (auto& v : p) total += (v = std::exp(v - mx));
  for (auto& v : p) v /= total;
  return p;
}

ClassifierScorer::ClassifierScorer(const AuxiliaryModel& model) : model_(model) {
  const auto& config = model.checkpoint.config();
  const std::string where = config_file(model.checkpoint);
  if (!config.classifier())
    throw InputError(where + ": a " + model::to_string(config.arch) +
                     " language model, not a sequence classifier (expected "
                     "BertForSequenceClassification, RobertaForSequenceClassification or "
                     "GPT2ForSequenceClassification in 'architectures')");
  if (config.problem_type == model::ProblemType::kRegression)
    throw InputError(where + ": 'problem_type' is regression: its output is no probability");
  if (!model.tokenizer)
    throw InputError(model.checkpoint.dir().string() +
                     ": no tokenizer files, which the classifier scorer needs");
  toxic_ = toxic_label_index(config, where);
  sigmoid_ = sigmoid_labels(config);
  framing_ = framing_for(config, model.checkpoint.dir());
  canonical_ = "classifier sha256:" + model::checkpoint_sha256(model.checkpoint.weight_files());
}

std::string ClassifierScorer::canonical() const {
  return canonical_;
}

FramedInput ClassifierScorer::input_for(std::string_view text) const {
  tokenizer::EncodeOptions options;
  options.allow_special = false;  // a text is text: "<|endoftext|>" in it is no control token
  options.invalid_utf8 = tokenizer::InvalidUtf8::kReplace;
  const auto ids = model_.tokenizer->encode(text, options);
  return frame(framing_, ids, model_.engine.context());
}

std::vector<Score> ClassifierScorer::score(std::span<const std::string_view> texts) {
  const auto& labels = model_.checkpoint.config().labels;
  std::vector<FramedInput> inputs;
  std::vector<std::vector<std::int32_t>> sequences;
  for (const auto text : texts) {
    inputs.push_back(input_for(text));
    if (!inputs.back().ids.empty()) sequences.push_back(inputs.back().ids);
  }
  const auto logits = model_.engine.classify(sequences);
  std::vector<Score> out;
  std::size_t next = 0;
  for (const auto& input : inputs) {
    Score s;
    nlohmann::json detail;
    detail["label"] = labels[static_cast<std::size_t>(toxic_)];
    detail["tokens"] = input.ids.size();
    detail["truncated_tokens"] = input.dropped;
    if (input.ids.empty()) {
      detail["empty"] = true;  // no token: nothing said, nothing toxic
    } else {
      const auto p = label_probabilities(logits[next++], sigmoid_);
      s.value = p[static_cast<std::size_t>(toxic_)];
      detail["function"] = sigmoid_ ? "sigmoid" : "softmax";
      nlohmann::json probabilities = nlohmann::json::object();
      for (std::size_t l = 0; l < p.size(); ++l) probabilities[labels[l]] = p[l];
      detail["probabilities"] = std::move(probabilities);
    }
    s.detail_json = detail.dump();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sg::detectors::toxicity
