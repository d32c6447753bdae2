// The classifier scorer on the committed classifier fixtures (tools/classifier_reference.py):
// the framing with each layout's special tokens, truncation, the toxic label's probability
// and its evidence, and its place in make_scorer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/temp_dir.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "model/identity.hpp"
#include "tokenizer/tokenizer.hpp"
#include "toxicity/classifier_scorer.hpp"

namespace sg::detectors::toxicity {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path fixture(const std::string& name) {
  return fs::path(STAGEGATE_FIXTURES) / "classifiers" / name;
}

engine::EngineOptions options() {
  engine::EngineOptions o;
  o.dtype = engine::WeightType::kF32;
  o.max_sequences = 2;
  return o;
}

// One loaded classifier with the byte-level BPE tokenizer its files hold (RoBERTa's is
// GPT-2's algorithm with its own vocabulary).
struct Loaded {
  Loaded(gpu::Context& context, const std::string& name)
      : checkpoint(model::Checkpoint::open(fixture(name))),
        engine(context, checkpoint, options()),
        tokenizer(tokenizer::load(fixture(name), "gpt2")) {}
  model::Checkpoint checkpoint;
  engine::Model engine;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  AuxiliaryModel aux() { return {checkpoint, engine, tokenizer.get()}; }
};

class ClassifierScorerTest : public testing::GpuTest {
 protected:
  std::unique_ptr<Loaded> load(const std::string& name) {
    return std::make_unique<Loaded>(gpu(), name);
  }
};

std::vector<double> expected_probabilities(engine::Model& engine,
                                           const std::vector<std::int32_t>& ids, bool sigmoid) {
  const std::vector<std::vector<std::int32_t>> one{ids};
  return label_probabilities(engine.classify(one).at(0), sigmoid);
}

TEST_F(ClassifierScorerTest, RobertaFramesWithItsSpecialTokensAndSoftmaxes) {
  auto m = load("roberta-f16");
  ClassifierScorer scorer(m->aux());
  // id2label: non-toxic, Toxic, neutral: "Toxic" matches case-insensitively.
  EXPECT_EQ(scorer.toxic_label(), 1);
  const std::string text = "You are a wonderful person.";
  const auto body = m->tokenizer->encode(text);
  ASSERT_FALSE(body.empty());
  const auto input = scorer.input_for(text);
  std::vector<std::int32_t> want{0};  // <s>
  want.insert(want.end(), body.begin(), body.end());
  want.push_back(2);  // </s>
  EXPECT_EQ(input.ids, want);
  EXPECT_EQ(input.dropped, 0u);

  const std::vector<std::string_view> texts{text, "Something else entirely!"};
  const auto scores = scorer.score(texts);
  ASSERT_EQ(scores.size(), 2u);
  const auto p = expected_probabilities(m->engine, want, false);
  EXPECT_NEAR(scores[0].value, p[1], 1e-6);
  EXPECT_NE(scores[0].value, scores[1].value);
  const auto detail = json::parse(scores[0].detail_json);
  EXPECT_EQ(detail["label"], "Toxic");
  EXPECT_EQ(detail["function"], "softmax");
  double total = 0;
  for (const auto& name : {"non-toxic", "Toxic", "neutral"})
    total += detail["probabilities"][name].get<double>();
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_TRUE(scores[0].matches.empty());
}

// A text longer than the positions keeps its first tokens, and the detail says how many
// were cut.
TEST_F(ClassifierScorerTest, LongTextKeepsItsBeginning) {
  auto m = load("roberta-f16");
  ClassifierScorer scorer(m->aux());
  std::string text;
  for (int i = 0; i < 60; ++i) text += "word" + std::to_string(i) + " ";
  const auto body = m->tokenizer->encode(text);
  const int ctx = m->engine.context();
  ASSERT_GT(static_cast<int>(body.size()), ctx);
  const auto input = scorer.input_for(text);
  ASSERT_EQ(static_cast<int>(input.ids.size()), ctx);
  EXPECT_EQ(input.ids.front(), 0);
  EXPECT_EQ(input.ids.back(), 2);
  EXPECT_TRUE(std::equal(input.ids.begin() + 1, input.ids.end() - 1, body.begin()));
  EXPECT_EQ(input.dropped, body.size() - static_cast<std::size_t>(ctx - 2));
  const std::vector<std::string_view> texts{text};
  const auto s = scorer.score(texts).at(0);
  EXPECT_EQ(json::parse(s.detail_json)["truncated_tokens"], input.dropped);
  EXPECT_NEAR(s.value, expected_probabilities(m->engine, input.ids, false)[1], 1e-6);
}

// GPT-2 adds no special tokens; two unnamed labels make index 1 the toxic one; an empty text
// scores 0 without reaching the engine.
TEST_F(ClassifierScorerTest, Gpt2UsesTheTextAsIsAndTheSecondOfTwoLabels) {
  auto m = load("gpt2-classifier-f32");
  ClassifierScorer scorer(m->aux());
  EXPECT_EQ(scorer.toxic_label(), 1);
  const std::string text = "The weather is nice today.";
  EXPECT_EQ(scorer.input_for(text).ids, m->tokenizer->encode(text));
  const std::vector<std::string_view> texts{text, "", text};
  const auto scores = scorer.score(texts);
  ASSERT_EQ(scores.size(), 3u);
  const auto p = expected_probabilities(m->engine, m->tokenizer->encode(text), false);
  EXPECT_NEAR(scores[0].value, p[1], 1e-6);
  EXPECT_EQ(scores[2].value, scores[0].value);
  EXPECT_EQ(scores[1].value, 0.0);
  EXPECT_TRUE(json::parse(scores[1].detail_json)["empty"].get<bool>());
  EXPECT_EQ(scorer.canonical(),
            "classifier sha256:" + model::checkpoint_sha256(m->checkpoint.weight_files()));
}

class FixedLoader : public ModelLoader {
 public:
  explicit FixedLoader(AuxiliaryModel model) : model_(model) {}
  AuxiliaryModel load(const fs::path& dir) override {
    dirs.push_back(dir);
    return model_;
  }
  std::vector<fs::path> dirs;

 private:
  AuxiliaryModel model_;
};

TEST_F(ClassifierScorerTest, MakeScorerLoadsTheDirectory) {
  auto m = load("gpt2-classifier-f32");
  FixedLoader loader(m->aux());
  auto scorer = make_scorer(parse_scorer_spec("classifier:some/dir"), {&loader, nullptr});
  ASSERT_EQ(loader.dirs.size(), 1u);
  EXPECT_EQ(loader.dirs[0], fs::path("some/dir"));
  EXPECT_EQ(scorer->canonical().rfind("classifier sha256:", 0), 0u);
  EXPECT_THROW(make_scorer(parse_scorer_spec("classifier:some/dir"), {}), UsageError);
}

TEST_F(ClassifierScorerTest, RefusesALanguageModel) {
  auto ckpt = model::Checkpoint::open(fs::path(STAGEGATE_FIXTURES) / "models" / "gpt2-f32");
  engine::Model engine(gpu(), ckpt, options());
  auto tok = tokenizer::load(ckpt.dir(), "gpt2");
  try {
    ClassifierScorer scorer({ckpt, engine, tok.get()});
    ADD_FAILURE() << "accepted a language model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a sequence classifier"), std::string::npos);
  }
}

// BERT's framing, by id, from a vocab.txt (the WordPiece tokenizer itself is tested with
// src/tokenizer).
TEST(ClassifierInput, BertFramesWithClsAndSep) {
  testing::TempDir dir;
  std::ofstream(dir / "vocab.txt") << "[PAD]\n[UNK]\nhello\n[CLS]\r\n[SEP]\nworld\n";
  model::Config c;
  c.arch = model::Arch::kBert;
  const auto framing = framing_for(c, dir.path());
  EXPECT_EQ(framing.prefix, std::vector<std::int32_t>{3});
  EXPECT_EQ(framing.suffix, std::vector<std::int32_t>{4});
  const std::vector<std::int32_t> body{2, 5, 2, 5};
  auto in = frame(framing, body, 16);
  EXPECT_EQ(in.ids, (std::vector<std::int32_t>{3, 2, 5, 2, 5, 4}));
  EXPECT_EQ(in.dropped, 0u);
  in = frame(framing, body, 4);
  EXPECT_EQ(in.ids, (std::vector<std::int32_t>{3, 2, 5, 4}));
  EXPECT_EQ(in.dropped, 2u);
  EXPECT_THROW(frame(framing, body, 2), InputError);

  std::ofstream(dir / "vocab.txt") << "[PAD]\n[CLS]\nhello\n";
  try {
    framing_for(c, dir.path());
    ADD_FAILURE() << "no [SEP] but accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[SEP]"), std::string::npos) << e.what();
  }
  c.arch = model::Arch::kGpt2;
  EXPECT_TRUE(framing_for(c, dir.path()).prefix.empty());
}

TEST(ClassifierLabels, ToxicLabelAndProbabilityFunction) {
  model::Config c;
  c.head = model::Head::kSequenceClassifier;
  c.labels = {"toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"};
  c.num_labels = 6;
  c.problem_type = model::ProblemType::kMultiLabel;
  EXPECT_EQ(toxic_label_index(c, "cfg"), 0);
  EXPECT_TRUE(sigmoid_labels(c));
  c.labels = {"clean", "TOXICITY", "x"};
  c.num_labels = 3;
  c.problem_type = model::ProblemType::kUnspecified;
  EXPECT_EQ(toxic_label_index(c, "cfg"), 1);
  EXPECT_FALSE(sigmoid_labels(c));
  c.labels = {"a", "b", "c"};
  try {
    toxic_label_index(c, "ckpt/config.json");
    ADD_FAILURE() << "no toxic label among three, but accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt/config.json: 'id2label' (a, b, c)"),
              std::string::npos)
        << e.what();
  }
  c.labels = {"LABEL_0", "LABEL_1"};
  c.num_labels = 2;
  EXPECT_EQ(toxic_label_index(c, "cfg"), 1);
  c.labels = {"score"};
  c.num_labels = 1;
  EXPECT_EQ(toxic_label_index(c, "cfg"), 0);
  EXPECT_TRUE(sigmoid_labels(c));  // as Hugging Face's pipeline does for one label

  const std::vector<float> logits{2.0f, 0.0f, -1.0f};
  const auto sig = label_probabilities(logits, true);
  EXPECT_NEAR(sig[0], 1 / (1 + std::exp(-2.0)), 1e-12);
  EXPECT_NEAR(sig[1], 0.5, 1e-12);
  const auto soft = label_probabilities(logits, false);
  const double z = std::exp(2.0) + 1 + std::exp(-1.0);
  EXPECT_NEAR(soft[0], std::exp(2.0) / z, 1e-12);
  EXPECT_NEAR(soft[2], std::exp(-1.0) / z, 1e-12);
}

// The demo's classifier (tools/train_toxicity_classifier.py: BERT layout, WordPiece), end to
// end through the real loaders: its texts frame to the ids PyTorch saw, and the engine's
// p(toxic) is the PyTorch model's.
TEST_F(ClassifierScorerTest, DemoClassifierMatchesItsPyTorchLogits) {
  const fs::path dir = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo" / "toxicity-classifier";
  std::ifstream in(fs::path(STAGEGATE_FIXTURES) / "toxicity" / "demo_classifier_logits.json");
  const auto fixture = json::parse(in);
  const auto checkpoint = model::Checkpoint::open(dir);
  engine::Model engine(gpu(), checkpoint, options());
  const auto tok = tokenizer::load(dir, model::to_string(checkpoint.config().arch));
  ClassifierScorer scorer({checkpoint, engine, tok.get()});
  ASSERT_GE(fixture["cases"].size(), 4u);
  for (const auto& c : fixture["cases"]) {
    const std::string text = c["text"];
    EXPECT_EQ(with_special_tokens(*tok, tok->encode(text)),
              c["ids"].get<std::vector<std::int32_t>>())
        << text;
    const std::string_view view = text;
    const auto score = scorer.score(std::span(&view, 1)).at(0);
    EXPECT_NEAR(score.value, c["p_toxic"].get<double>(), 1e-4) << text;
  }
}

}  // namespace
}  // namespace sg::detectors::toxicity
