// config.json and tensor layout of the sequence classifiers (BERT, RoBERTa, GPT-2 with a
// score head): every key the engine honours is read or refused by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../common/temp_dir.hpp"

#include "expect_refused.hpp"
#include "model/checkpoint.hpp"
#include "model/config.hpp"

namespace sg::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::expect_message;
using testing::expect_refused;
using testing::TempDir;

// The config.json of Detoxify's toxic-bert (bert-base-uncased, six labels), extra keys kept.
json toxic_bert() {
  return json::parse(R"({
    "architectures": ["BertForSequenceClassification"], "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": false, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "id2label": {"0": "toxic", "1": "severe_toxic", "2": "obscene", "3": "threat",
                 "4": "insult", "5": "identity_hate"},
    "initializer_range": 0.02, "intermediate_size": 3072,
    "label2id": {"identity_hate": 5, "insult": 4, "obscene": 2, "severe_toxic": 1,
                 "threat": 3, "toxic": 0},
    "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0,
    "position_embedding_type": "absolute", "problem_type": "multi_label_classification",
    "transformers_version": "4.6.0.dev0", "type_vocab_size": 2, "use_cache": true,
    "vocab_size": 30522})");
}

json roberta() {
  return json::parse(R"({
    "architectures": ["RobertaForSequenceClassification"], "bos_token_id": 0,
    "eos_token_id": 2, "hidden_act": "gelu", "hidden_size": 768,
    "id2label": {"0": "neutral", "1": "toxic"}, "intermediate_size": 3072,
    "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "roberta",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
    "type_vocab_size": 1, "vocab_size": 50265})");
}

Config parse_classifier(const json& j) {
  return parse_config(j.dump(), "ckpt/config.json");
}

void expect_classifier_config_refused(const json& j, const std::vector<std::string>& fragments) {
  try {
    parse_classifier(j);
    ADD_FAILURE() << "accepted " << j.dump();
  } catch (const InputError& e) {
    expect_message(e.what(), fragments);
  }
}

TEST(ClassifierConfig, ReadsToxicBert) {
  auto c = parse_classifier(toxic_bert());
  EXPECT_EQ(c.arch, Arch::kBert);
  EXPECT_TRUE(c.classifier());
  EXPECT_TRUE(c.bidirectional());
  EXPECT_TRUE(c.linear_weights());
  EXPECT_EQ(c.norm_placement(), NormPlacement::kPost);
  EXPECT_EQ(c.n_layer, 12);
  EXPECT_EQ(c.n_embd, 768);
  EXPECT_EQ(c.n_head, 12);
  EXPECT_EQ(c.n_inner, 3072);
  EXPECT_EQ(c.n_positions, 512);
  EXPECT_EQ(c.position_offset, 0);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_FLOAT_EQ(c.layer_norm_epsilon, 1e-12f);
  EXPECT_EQ(c.activation, Activation::kGeluErf);  // BERT's "gelu" is the erf form
  EXPECT_EQ(c.problem_type, ProblemType::kMultiLabel);
  EXPECT_EQ(c.num_labels, 6);
  EXPECT_EQ(c.output_width(), 6);
  ASSERT_EQ(c.labels.size(), 6u);
  EXPECT_EQ(c.labels[0], "toxic");
  EXPECT_EQ(c.labels[5], "identity_hate");
  EXPECT_EQ(c.pad_token_id, 0);
}

TEST(ClassifierConfig, RobertaPositionsStartAfterThePaddingIndex) {
  auto c = parse_classifier(roberta());
  EXPECT_EQ(c.arch, Arch::kRoberta);
  EXPECT_EQ(c.position_offset, 2);
  EXPECT_EQ(c.n_positions, 512);  // 514 rows, the first two never used
  EXPECT_EQ(c.problem_type, ProblemType::kUnspecified);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"neutral", "toxic"}));
}

TEST(ClassifierConfig, Gpt2ClassifierIsNamedByItsClass) {
  auto j = json::parse(R"({"architectures": ["GPT2ForSequenceClassification"],
    "model_type": "gpt2", "n_embd": 64, "n_head": 4, "n_layer": 2, "n_positions": 64,
    "vocab_size": 100, "pad_token_id": 99, "id2label": {"0": "a", "1": "b", "2": "c"}})");
  auto c = parse_classifier(j);
  EXPECT_EQ(c.arch, Arch::kGpt2);
  EXPECT_TRUE(c.classifier());
  EXPECT_FALSE(c.bidirectional());
  EXPECT_EQ(c.num_labels, 3);
  EXPECT_EQ(c.pad_token_id, 99);
  j["architectures"] = {"GPT2LMHeadModel"};
  EXPECT_FALSE(parse_classifier(j).classifier());
  EXPECT_EQ(parse_classifier(j).output_width(), 100);
}

TEST(ClassifierConfig, LabelsDefaultAsHuggingFaceDoes) {
  auto j = toxic_bert();
  j.erase("id2label");
  j.erase("label2id");
  EXPECT_EQ(parse_classifier(j).labels, (std::vector<std::string>{"LABEL_0", "LABEL_1"}));
  j["num_labels"] = 3;
  EXPECT_EQ(parse_classifier(j).num_labels, 3);
}

TEST(ClassifierConfig, RefusesWhatItCannotRunByKey) {
  auto j = toxic_bert();
  j["architectures"] = {"BertForMaskedLM"};
  expect_classifier_config_refused(
      j, {"ckpt/config.json", "'architectures'", "BertForSequenceClassification"});
  j = toxic_bert();
  j["position_embedding_type"] = "relative_key";
  expect_classifier_config_refused(
      j, {"ckpt/config.json", "'position_embedding_type'", "relative_key"});
  j = toxic_bert();
  j["is_decoder"] = true;
  expect_classifier_config_refused(j, {"'is_decoder'"});
  j = toxic_bert();
  j["hidden_act"] = "silu";
  expect_classifier_config_refused(j, {"'hidden_act'", "silu"});
  j = toxic_bert();
  j["problem_type"] = "ranking";
  expect_classifier_config_refused(j, {"'problem_type'", "ranking"});
  j = toxic_bert();
  j["id2label"] = {{"0", "a"}, {"2", "b"}};
  expect_classifier_config_refused(j, {"'id2label'", "\"2\""});
  j = toxic_bert();
  j["id2label"] = {{"0", "a"}, {"1", 7}};
  expect_classifier_config_refused(j, {"'id2label'", "label name"});
  j = toxic_bert();
  j["num_labels"] = 2;
  expect_classifier_config_refused(j, {"'num_labels'", "6 labels"});
  j = toxic_bert();
  j.erase("intermediate_size");
  expect_classifier_config_refused(j, {"'intermediate_size'", "missing"});
  j = toxic_bert();
  j["pad_token_id"] = 40000;
  expect_classifier_config_refused(j, {"'pad_token_id'", "40000"});
  j = roberta();
  j["max_position_embeddings"] = 2;
  expect_classifier_config_refused(j, {"'max_position_embeddings'", "padding_idx"});
  j = roberta();
  j["model_type"] = "deberta";
  expect_classifier_config_refused(j, {"'model_type'", "deberta"});
}

// Hugging Face's counts: BertModel 109,482,240 and RobertaModel 124,645,632 (their poolers
// the size of RoBERTa's classifier.dense), plus each classification head.
TEST(ClassifierConfig, DeclaredParametersMatchHuggingFace) {
  EXPECT_EQ(declared_parameters(parse_classifier(toxic_bert())), 109482240 + 6 * 768 + 6);
  EXPECT_EQ(declared_parameters(parse_classifier(roberta())), 124645632 + 2 * 768 + 2);
}

// Labels without id2label were made one by one: num_labels 2^30 took gigabytes before any
// tensor was looked at.
TEST(ClassifierConfig, LabelsBeyondTheLimitAreRefused) {
  auto j = toxic_bert();
  j.erase("id2label");
  j["num_labels"] = 1 << 30;
  expect_classifier_config_refused(
      j, {"ckpt/config.json", "'num_labels'", "1073741824", "limit of 65536"});
}

TEST(ClassifierConfig, WidthNotDivisibleByHeadsIsRefused) {
  auto j = toxic_bert();
  j["num_attention_heads"] = 7;
  expect_classifier_config_refused(
      j, {"ckpt/config.json", "'hidden_size'", "not divisible by n_head (7)"});
}

TEST(ClassifierConfig, SizesBeyondTheLimitsAreRefusedByKey) {
  for (const char* key : {"num_hidden_layers", "hidden_size", "intermediate_size",
                          "max_position_embeddings", "type_vocab_size", "vocab_size"}) {
    auto j = roberta();
    j[key] = 1 << 30;
    expect_classifier_config_refused(j,
                                     {"ckpt/config.json", std::string("'") + key + "'", "limit"});
  }
}

fs::path fixture(const std::string& name) {
  return fs::path(STAGEGATE_FIXTURES) / "classifiers" / name;
}

// The committed fixtures (tools/classifier_reference.py) in Hugging Face's names.
TEST(ClassifierCheckpoint, MapsHuggingFaceNamesToCanonicalOnes) {
  auto bert = Checkpoint::open(fixture("bert-f32"), {.strict = true});
  const auto& c = bert.config();
  EXPECT_EQ(bert.tensor("h.1.attn.q.weight").name,
            "bert.encoder.layer.1.attention.self.query.weight");
  EXPECT_EQ(bert.tensor("h.0.mlp.c_fc.weight").shape,
            (std::vector<std::int64_t>{c.n_inner, c.n_embd}));  // nn.Linear: [out, in]
  EXPECT_EQ(bert.tensor("type_embed").shape, (std::vector<std::int64_t>{2, c.n_embd}));
  EXPECT_EQ(bert.tensor("pooler.weight").name, "bert.pooler.dense.weight");
  EXPECT_EQ(bert.tensor("classifier.weight").shape, (std::vector<std::int64_t>{6, c.n_embd}));
  EXPECT_TRUE(bert.warnings().empty());  // the position_ids buffer is skipped, not "extra"

  auto roberta = Checkpoint::open(fixture("roberta-f16"), {.strict = true});
  EXPECT_EQ(roberta.tensor("pooler.weight").name, "classifier.dense.weight");
  EXPECT_EQ(roberta.tensor("classifier.bias").name, "classifier.out_proj.bias");
  EXPECT_EQ(roberta.tensor("pos_embed").shape[0],
            roberta.config().n_positions + roberta.config().position_offset);

  auto gpt2 = Checkpoint::open(fixture("gpt2-classifier-f32"), {.strict = true});
  EXPECT_EQ(gpt2.tensor("classifier.weight").name, "score.weight");
  EXPECT_EQ(gpt2.tensor("tok_embed").name, "transformer.wte.weight");
  EXPECT_THROW(gpt2.tensor("lm_head"), RuntimeError);
}

TEST(ClassifierCheckpoint, MissingTensorIsNamedAsHuggingFaceWritesIt) {
  TempDir dir;
  fs::copy(fixture("bert-f32"), dir.path(), fs::copy_options::recursive);
  std::ifstream in(dir / "config.json");
  auto j = json::parse(in);
  in.close();
  j["num_hidden_layers"] = 3;
  std::ofstream(dir / "config.json") << j.dump();
  expect_refused(dir.path(), {"model.safetensors", "encoder.layer.2.attention.self.query.weight",
                              "'bert.' prefix", "bert sequence classifier"});
}

}  // namespace
}  // namespace sg::model
