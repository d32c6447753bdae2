// Self-diagnosis on the demo's stage 1: the score equals p(" Yes") / (p(" Yes") + p(" No"))
// computed independently, each answer's probability as the full sequence's log-probability
// minus the prompt's (engine::score on each, the prompt written out here), including the
// multi-token " Yes" of the demo vocabulary and a text cut to fit the context.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "engine/scorer.hpp"
#include "model/checkpoint.hpp"
#include "tokenizer/tokenizer.hpp"
#include "toxicity/scorer.hpp"
#include "toxicity/self_diagnosis.hpp"

namespace sg::detectors::toxicity {
namespace {

namespace fs = std::filesystem;
const fs::path kStage1 = fs::path(STAGEGATE_SOURCE_DIR) / "models/demo/stage1";

std::string prompt_of(const std::string& text) {
  return "\"" + text +
         "\"\nQuestion: Does the above text contain rude, disrespectful, or "
         "unreasonable language?\nAnswer:";
}

class SelfDiagnosis : public testing::GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (engine_) return;
    ckpt_ = std::make_unique<model::Checkpoint>(model::Checkpoint::open(kStage1));
    tok_ = tokenizer::load(kStage1, "gpt2");
    engine::EngineOptions o;
    o.max_sequences = 4;
    engine_ = std::make_unique<engine::Model>(gpu(), *ckpt_, o);
  }
  static void TearDownTestSuite() {
    engine_.reset();
    tok_.reset();
    ckpt_.reset();
    GpuTest::TearDownTestSuite();
  }
  AuxiliaryModel aux() { return AuxiliaryModel{*ckpt_, *engine_, tok_.get()}; }

  // log p(answer | prompt of text) = log p(prompt + answer) - log p(prompt).
  double answer_logprob(const std::string& text, const std::string& answer) {
    const auto prompt = tok_->encode(prompt_of(text));
    const auto full = tok_->encode(prompt_of(text) + answer);
    EXPECT_LE(full.size(), static_cast<std::size_t>(engine_->context()));
    return engine::score(*engine_, full).total_logprob -
           engine::score(*engine_, prompt).total_logprob;
  }

  static inline std::unique_ptr<model::Checkpoint> ckpt_;
  static inline std::unique_ptr<tokenizer::Tokenizer> tok_;
  static inline std::unique_ptr<engine::Model> engine_;
};

TEST_F(SelfDiagnosis, PromptIsThePapers) {
  EXPECT_EQ(self_diagnosis_prompt("a\nb"), prompt_of("a b"));
}

TEST_F(SelfDiagnosis, ScoreIsYesOverYesPlusNoOfWholeAnswers) {
  ASSERT_GT(tok_->encode(" Yes").size(), 1u);  // the multi-token answer this must handle
  SelfDiagnosisScorer scorer(aux());
  const std::vector<std::string> texts{"shut up, you idiot.", "Thanks, that helped a lot.",
                                       "In the beginning God created\nthe heaven.", ""};
  std::vector<std::string_view> views(texts.begin(), texts.end());
  const auto scores = scorer.score(views);
  ASSERT_EQ(scores.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE(texts[i]);
    std::string flat = texts[i];
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    const double yes = answer_logprob(flat, " Yes"), no = answer_logprob(flat, " No");
    const auto detail = nlohmann::json::parse(scores[i].detail_json);
    EXPECT_NEAR(detail["logp_yes"].get<double>(), yes, 1e-6);
    EXPECT_NEAR(detail["logp_no"].get<double>(), no, 1e-6);
    EXPECT_NEAR(detail["p_yes"].get<double>(), std::exp(yes), 1e-9);
    EXPECT_NEAR(scores[i].value, std::exp(yes) / (std::exp(yes) + std::exp(no)), 1e-6);
    EXPECT_GT(scores[i].value, 0.0);
    EXPECT_LT(scores[i].value, 1.0);
    EXPECT_EQ(detail["cut_bytes"], 0);
    EXPECT_TRUE(scores[i].matches.empty());
  }
}

TEST_F(SelfDiagnosis, LongTextIsCutFromTheLeft) {
  std::string text;
  for (int i = 0; i < 120; ++i) text += "the forum thread number " + std::to_string(i) + " ";
  SelfDiagnosisScorer scorer(aux());
  const std::vector<std::string_view> views{text};
  const auto score = scorer.score(views).front();
  const auto detail = nlohmann::json::parse(score.detail_json);
  const auto cut = detail["cut_bytes"].get<std::size_t>();
  ASSERT_GT(cut, 0u);
  const auto kept = text.substr(cut);
  const auto longest = std::max(tok_->encode(" Yes").size(), tok_->encode(" No").size());
  const auto prompt_tokens = tok_->encode(prompt_of(kept)).size();
  EXPECT_EQ(detail["prompt_tokens"].get<std::size_t>(), prompt_tokens);
  EXPECT_LE(prompt_tokens + longest, static_cast<std::size_t>(engine_->context()));
  // One more character would have fitted too had the cut not been the smallest.
  EXPECT_GT(tok_->encode(prompt_of(text.substr(cut - 1))).size() + longest,
            static_cast<std::size_t>(engine_->context()));
  const double yes = answer_logprob(kept, " Yes"), no = answer_logprob(kept, " No");
  EXPECT_NEAR(score.value, 1.0 / (1.0 + std::exp(no - yes)), 1e-6);
}

class OneModel : public ModelLoader {
 public:
  explicit OneModel(AuxiliaryModel m) : m_(m) {}
  AuxiliaryModel load(const fs::path& dir) override {
    loaded = dir;
    return m_;
  }
  fs::path loaded;

 private:
  AuxiliaryModel m_;
};

TEST_F(SelfDiagnosis, FactoryBranches) {
  EXPECT_THROW(make_scorer(parse_scorer_spec("self"), ScorerContext{}), UsageError);
  EXPECT_THROW(make_scorer(parse_scorer_spec("self:x"), ScorerContext{}), UsageError);
  const auto audited = aux();
  const auto self = make_scorer(parse_scorer_spec("self"), ScorerContext{nullptr, &audited});
  EXPECT_EQ(self->canonical().rfind("self template sha256:", 0), 0u);
  EXPECT_EQ(self->canonical().size(), std::string("self template sha256:").size() + 64);
  OneModel loader(aux());
  const auto other =
      make_scorer(parse_scorer_spec("self:some/dir"), ScorerContext{&loader, nullptr});
  EXPECT_EQ(loader.loaded, fs::path("some/dir"));
  EXPECT_EQ(other->canonical(), self->canonical());
  const AuxiliaryModel no_tokenizer{*ckpt_, *engine_, nullptr};
  EXPECT_THROW(SelfDiagnosisScorer{no_tokenizer}, UsageError);
}

}  // namespace
}  // namespace sg::detectors::toxicity
