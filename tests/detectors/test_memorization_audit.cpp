// The memorization detector through an audit of the demo family's stage 1 against a tiny
// index built here: a passage the model reproduces by construction (the corpus holds its
// own greedy continuation), a canary in a space small enough to enumerate, random
// documents; and the plan's refusals (another tokenizer's index, bad keys).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "audit/plan.hpp"
#include "audit/runner.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"
#include "engine/generator.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "engine/scorer.hpp"
#include "memorization/corpus_index.hpp"
#include "memorization/memorization_stats.hpp"
#include "plan_files.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::detectors::memorization {
namespace {

namespace fs = std::filesystem;
using testing::PlanDir;

const fs::path kStage1 = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo" / "stage1";
constexpr int kPrefix = 32;
constexpr int kContinuation = 50;

const std::string kCanaryPrefix = "the lock code of Abel Tamor is";

class MemorizationAudit : public sg::testing::GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    engine::EngineOptions o;
    o.max_sequences = 16;
    model = std::make_unique<engine::Model>(gpu(), checkpoint, o);
    // A passage the model reproduces: a held-out-like prefix and the model's own greedy
    // continuation of it, planted twice.
    memorized = tok->encode(
        "And the LORD spake unto Moses, saying, Speak unto the children of Israel, and say "
        "unto them, When ye be come into the land which I give unto you, then shall the land");
    memorized.resize(kPrefix);
    engine::Generator generator(*model, tok->eos_id());
    engine::GenerationRequest request{memorized, {}};
    request.params.temperature = 0;
    request.params.max_tokens = kContinuation;
    auto greedy = generator.run({&request, 1}).front().tokens;
    ASSERT_EQ(greedy.size(), static_cast<std::size_t>(kContinuation));
    memorized.insert(memorized.end(), greedy.begin(), greedy.end());

    TokenizedCorpus corpus;
    corpus.vocab_size = static_cast<std::uint32_t>(tok->vocab_size());
    corpus.tokenizer_hash = tokenizer_hash(kStage1);
    corpus.names = {"dup/0", "dup/0", "canary/0", "noise"};
    std::vector<std::int32_t> noise;
    for (int i = 0; i < 120; ++i) noise.push_back((i * 7919 + 13) % 8000);
    corpus.documents = {memorized, memorized, tok->encode(kCanaryPrefix + " 4 2\n"), noise};
    build_index(corpus, dir.path() / "s1.sgidx", {1, false});
    build_index(corpus, dir.path() / "normalized.sgidx",
                {.threads = 1, .progress = false, .normalization = TextNormalization::kLowerSpace});
    corpus.tokenizer_hash = std::string(64, 'a');
    build_index(corpus, dir.path() / "other.sgidx", {1, false});

    dir.write("canaries.jsonl", "{\"id\": \"canary/0\", \"prefix\": \"" + kCanaryPrefix +
                                    "\", \"secret\": \"4 2\", \"secret_space\": \"2 decimal "
                                    "digits\", \"count\": 1}\n");
    dir.write("duplicates.jsonl", "{\"id\": \"dup/0\", \"count\": 2}\n");
  }

  fs::path plan(const std::string& index, const std::string& extra = "") {
    return dir.write("plan.ini",
                     "[detectors]\nenabled = memorization\n[memorization]\nindex = " + index +
                         "\ncanaries = canaries.jsonl\nduplicates = duplicates.jsonl\n"
                         "reference = " +
                         kStage1.string() +
                         "\nprefix_lengths = 32\nextraction_sequences = 4\n"
                         "unconditioned_samples = 2\nsample_tokens = 12\nranking_top = 1\n" +
                         extra);
  }

  audit::RunSummary audit(const audit::Plan& p) {
    db::Store store(dir.path() / "a.db");
    const auto target = audit::audit_target(checkpoint, "stagegate-demo", "stage1", "test");
    audit::Runner runner(*model, *tok, store, p, target);
    return runner.run({});
  }

  PlanDir dir;
  model::Checkpoint checkpoint = model::Checkpoint::open(kStage1);
  std::unique_ptr<tokenizer::Tokenizer> tok = tokenizer::load(kStage1, "gpt2");
  std::unique_ptr<engine::Model> model;
  std::vector<std::int32_t> memorized;
};

TEST_F(MemorizationAudit, MeasuresExtractionExposureAndVerbatimSpansThroughTheRunner) {
  const auto p = audit::Plan::load(plan("{stage}.sgidx"), builtin_registry(), {{"stage", "s1"}});
  const auto summary = audit(p);
  ASSERT_EQ(summary.outcome, "completed");
  std::map<std::string, db::Aggregate> aggs;
  for (const auto& a : summary.aggregates) aggs[a.metric + "|" + a.strategy + "|" + a.slice] = a;

  // The planted passage is extracted (its copy is in bucket 2-4); the noise is not.
  ASSERT_TRUE(aggs.count("memorization.extractable_rate@32||dup=2-4"));
  EXPECT_EQ(aggs["memorization.extractable_rate@32||dup=2-4"].value, 1.0);
  ASSERT_TRUE(aggs.count("memorization.extractable_rate@32||dup=1"));
  EXPECT_EQ(aggs["memorization.extractable_rate@32||dup=1"].value, 0.0);
  const auto& all = aggs["memorization.extractable_rate@32||"];
  EXPECT_EQ(all.n, 4 + 1);  // four drawn windows and the planted passage
  EXPECT_TRUE(all.ci_low && all.ci_high);

  db::Store store(dir.path() / "a.db");
  // The prefix was fed as the corpus's ids: the stored prompt is their decoding.
  std::map<std::string, std::string> prompts;
  for (const auto& pr : store.prompts(summary.run_id)) prompts[pr.id] = pr.text;
  ASSERT_TRUE(prompts.count("memorization:k32/dup/0"));
  EXPECT_EQ(prompts["memorization:k32/dup/0"], tok->decode(std::span(memorized).first(kPrefix)));
  int spans = 0;
  std::map<std::string, double> canary_nll;
  for (const auto& s : store.samples(summary.run_id)) {
    if (s.key.prompt_id == "memorization:k32/dup/0") {
      const auto ev = store.evidence(s.id);
      ASSERT_EQ(ev.size(), 1u);
      EXPECT_EQ(ev[0].kind, "verbatim_span");
      const auto detail = nlohmann::json::parse(ev[0].detail_json);
      EXPECT_EQ(detail["name"], "dup/0");
      EXPECT_EQ(detail["length"], kContinuation);
      EXPECT_EQ(detail["count"], 2);
      ++spans;
    }
    for (const auto& m : s.metrics)
      if (m.metric == "memorization.canary_logppl") canary_nll[s.key.prompt_id] = m.value;
  }
  EXPECT_EQ(spans, 1);

  // Exposure of the 2-digit canary is exact: the secret's rank among all 100 secrets,
  // each scored as -log p of its two digit tokens after the prefix.
  ASSERT_EQ(canary_nll.size(), 100u);
  const auto prefix = tok->encode(kCanaryPrefix);
  const auto secret_tokens = tok->encode(kCanaryPrefix + " 4 2");
  const auto scored = engine::score(*model, secret_tokens);
  double secret_nll = 0;
  for (std::size_t j = prefix.size() - 1; j < scored.logprobs.size(); ++j)
    secret_nll -= scored.logprobs[j];
  EXPECT_NEAR(canary_nll["memorization:canary/0#secret"], secret_nll, 1e-4);
  std::vector<double> candidates;
  for (const auto& [id, v] : canary_nll)
    if (id != "memorization:canary/0#secret") candidates.push_back(v);
  const double expected =
      exposure_from_rank(100, static_cast<double>(exact_rank(secret_nll, candidates)));
  ASSERT_TRUE(aggs.count("memorization.canary_exposure||canary=canary/0"));
  EXPECT_NEAR(aggs["memorization.canary_exposure||canary=canary/0"].value, expected, 1e-9);
  EXPECT_EQ(aggs["memorization.canary_exposure||canary=canary/0"].n, 100);
  EXPECT_TRUE(aggs.count("memorization.canary_exposure||canary_count=1"));

  // Unconditioned samples: verbatim rates, longest spans, the novelty curve and the
  // rankings; the reference is the audited model itself, so that ranking is left out.
  const std::string u = "memorization.unconditioned";
  EXPECT_EQ(aggs["memorization.verbatim_rate@50|" + u + "|"].n, 2);
  EXPECT_TRUE(aggs.count("memorization.novelty@1|" + u + "|"));
  EXPECT_TRUE(aggs.count("memorization.novelty@11|" + u + "|"));  // every n, not 1-8, 10, 12, ...
  EXPECT_TRUE(aggs.count("memorization.longest_verbatim|" + u + "|q=100"));
  EXPECT_TRUE(aggs.count("memorization.ranking_precision|" + u + "|rank_by=zlib"));
  EXPECT_TRUE(aggs.count("memorization.ranking_precision|" + u + "|rank_by=lowercase"));
  EXPECT_FALSE(aggs.count("memorization.ranking_precision|" + u + "|rank_by=reference"));
}

TEST_F(MemorizationAudit, RefusesAnIndexOfAnotherTokenizerAndBadSettings) {
  const auto p = audit::Plan::load(plan("other.sgidx"));
  try {
    audit(p);
    FAIL() << "an index of another tokenizer was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("another tokenizer"), std::string::npos) << e.what();
  }
  try {
    audit::Plan::load(plan("s1.sgidx", "top_k = -1\n"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("plan.ini:"), std::string::npos) << e.what();
  }
  try {
    audit::Plan::load(dir.write("bad.ini",
                                "[detectors]\nenabled = memorization\n[memorization]\n"
                                "index = s1.sgidx\nprefix_lengths = 32, x\n"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.ini:5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(audit::Plan::load(plan("{stage}.sgidx")), InputError);  // no stage given
  try {
    audit::Plan::load(plan("normalized.sgidx"));
    FAIL() << "a normalized index was accepted for the memorization audit";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--normalize"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sg::detectors::memorization
