// The sequence classifiers (BERT, RoBERTa, GPT-2 with a score head) on the engine against the
// independent PyTorch reference (tools/classifier_reference.py), loaded through the real
// checkpoint loader from Hugging Face's own layout.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "engine/fixture_case.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "model/checkpoint.hpp"

namespace sg::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kFixtures{"bert-f32", "roberta-f16", "gpt2-classifier-f32"};

fs::path fixture_dir(const std::string& name) {
  return fs::path(STAGEGATE_FIXTURES) / "classifiers" / name;
}

json load_expected(const std::string& name) {
  std::ifstream in(fixture_dir(name) / "expected.json");
  if (!in) throw std::runtime_error("missing " + (fixture_dir(name) / "expected.json").string());
  return json::parse(in);
}

std::vector<std::vector<std::int32_t>> case_ids(const json& expected) {
  std::vector<std::vector<std::int32_t>> out;
  for (const auto& c : expected["cases"]) out.push_back(c["ids"].get<std::vector<std::int32_t>>());
  return out;
}

std::vector<FixtureCase> all_cases() {
  std::vector<FixtureCase> cases;
  for (const auto& n : kFixtures) {
    for (bool gpu_shapes : {false, true}) {
      cases.push_back({n, WeightType::kF32, gpu_shapes});
      cases.push_back({n, WeightType::kF16, gpu_shapes});
    }
  }
  return cases;
}

class ClassifierReferenceTest : public testing::GpuTest,
                                public ::testing::WithParamInterface<FixtureCase> {
 protected:
  std::unique_ptr<Model> make(const model::Checkpoint& ckpt, int slots) {
    EngineOptions o;
    o.dtype = GetParam().dtype;
    o.max_sequences = slots;
    if (GetParam().gpu_shapes) o.kernel_shapes = KernelShapes::gpu();
    return std::make_unique<Model>(gpu(), ckpt, o);
  }
  double tolerance() const { return GetParam().dtype == WeightType::kF32 ? 2e-3 : 3e-2; }
};

TEST_P(ClassifierReferenceTest, LogitsMatchPyTorch) {
  const auto expected = load_expected(GetParam().fixture);
  const auto ckpt = model::Checkpoint::open(fixture_dir(GetParam().fixture));
  const auto ids = case_ids(expected);
  ASSERT_GE(ids.size(), 5u);
  // Three slots: the cases take two passes, and the last pass is not full.
  auto engine = make(ckpt, 3);
  const auto logits = engine->classify(ids);
  ASSERT_EQ(logits.size(), ids.size());
  for (std::size_t c = 0; c < ids.size(); ++c) {
    const auto want = expected["cases"][c]["logits"].get<std::vector<double>>();
    ASSERT_EQ(static_cast<int>(want.size()), ckpt.config().num_labels);
    ASSERT_EQ(logits[c].size(), want.size());
    for (std::size_t l = 0; l < want.size(); ++l)
      EXPECT_NEAR(logits[c][l], want[l], tolerance())
          << expected["cases"][c]["name"] << " label " << l;
  }
}

// A sequence's logits do not depend on what shares its pass.
TEST_P(ClassifierReferenceTest, BatchedEqualsAlone) {
  const auto ckpt = model::Checkpoint::open(fixture_dir(GetParam().fixture));
  const auto ids = case_ids(load_expected(GetParam().fixture));
  auto engine = make(ckpt, 4);
  const auto together = engine->classify(ids);
  for (std::size_t c = 0; c < ids.size(); ++c) {
    const auto alone = engine->classify(std::span(ids).subspan(c, 1));
    ASSERT_EQ(alone.size(), 1u);
    for (std::size_t l = 0; l < alone[0].size(); ++l)
      EXPECT_NEAR(alone[0][l], together[c][l], 1e-5) << "case " << c << " label " << l;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ClassifierReferenceTest, ::testing::ValuesIn(all_cases()),
                         fixture_case_name);

class ClassifierTest : public testing::GpuTest {
 protected:
  std::unique_ptr<Model> make(const model::Checkpoint& ckpt) {
    EngineOptions o;
    o.dtype = WeightType::kF32;
    o.max_sequences = 2;
    return std::make_unique<Model>(gpu(), ckpt, o);
  }
};

// The reference's causal logits differ from its bidirectional ones (the guard that makes the
// comparison above meaningful), and the engine's [CLS] result changes with later tokens,
// which causal attention could never see from the first position.
TEST_F(ClassifierTest, EncoderAttendsToLaterTokens) {
  const auto expected = load_expected("bert-f32");
  ASSERT_EQ(expected["causal_logits"].size(), expected["cases"].size());
  const auto ckpt = model::Checkpoint::open(fixture_dir("bert-f32"));
  auto engine = make(ckpt);
  const std::vector<std::vector<std::int32_t>> seqs{{150, 200, 250, 300}, {150, 201, 260, 390}};
  const auto logits = engine->classify(seqs);
  double gap = 0;
  for (std::size_t l = 0; l < logits[0].size(); ++l)
    gap = std::max(gap, std::abs(static_cast<double>(logits[0][l] - logits[1][l])));
  EXPECT_GT(gap, 0.05);
  const auto ids = case_ids(expected);
  const auto got = engine->classify(ids);
  double causal_gap = 0;
  for (std::size_t c = 1; c < ids.size(); ++c)
    for (std::size_t l = 0; l < got[c].size(); ++l)
      causal_gap =
          std::max(causal_gap, std::abs(got[c][l] - expected["causal_logits"][c][l].get<double>()));
  EXPECT_GT(causal_gap, 0.1);
}

// GPT-2's score head reads the last token that is not padding.
TEST_F(ClassifierTest, Gpt2ReadsTheLastNonPadToken) {
  const auto ckpt = model::Checkpoint::open(fixture_dir("gpt2-classifier-f32"));
  const int pad = *ckpt.config().pad_token_id;
  auto engine = make(ckpt);
  const std::vector<std::vector<std::int32_t>> seqs{{5, 17, 300}, {5, 17, 300, pad, pad}};
  const auto logits = engine->classify(seqs);
  for (std::size_t l = 0; l < logits[0].size(); ++l) EXPECT_NEAR(logits[0][l], logits[1][l], 1e-5);
}

void expect_input_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << fragment << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST_F(ClassifierTest, RefusesWhatItCannotClassify) {
  const auto ckpt = model::Checkpoint::open(fixture_dir("roberta-f16"));
  auto engine = make(ckpt);
  const int ctx = engine->context();
  EXPECT_EQ(ctx, ckpt.config().n_positions);
  std::vector<std::vector<std::int32_t>> seqs{{10, 11}, std::vector<std::int32_t>(ctx + 1, 7)};
  expect_input_error([&] { engine->classify(seqs); }, "sequence 1 has " + std::to_string(ctx + 1));
  seqs = {{}};
  expect_input_error([&] { engine->classify(seqs); }, "sequence 0 is empty");
  seqs = {{10, *ckpt.config().pad_token_id, 12}};
  expect_input_error([&] { engine->classify(seqs); }, "padding id");
  seqs = {{10, ckpt.config().vocab_size}};
  expect_input_error([&] { engine->classify(seqs); }, "outside the vocabulary");
  // The whole context is one pass, whatever max_step_tokens says.
  seqs = {std::vector<std::int32_t>(static_cast<std::size_t>(ctx), 7)};
  EXPECT_EQ(engine->classify(seqs).size(), 1u);
  // A classifier has no LM head, and a language model no classification head.
  const std::vector<std::int32_t> tokens{10, 11};
  const std::vector<SequenceChunk> chunk{{0, 0, tokens, false, std::nullopt}};
  expect_input_error(
      [&] {
        engine->forward(chunk,
                        [](std::size_t, int, std::span<const float>, const LogitSummary*) {});
      },
      "sequence classifier");
  const auto lm = model::Checkpoint::open(fs::path(STAGEGATE_FIXTURES) / "models" / "gpt2-f32");
  auto lm_engine = make(lm);
  seqs = {{10, 11}};
  expect_input_error([&] { lm_engine->classify(seqs); }, "not a sequence classifier");
}

}  // namespace
}  // namespace sg::engine
