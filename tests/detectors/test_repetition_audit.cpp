// The repetition detector through audits of the demo family's stage 1 (lavapipe in CI, ~10 s):
// what it stores per sample (metrics, loop evidence) and per run (the per-strategy table, the
// self-reinforcement curve), its plan errors, and the family's repetition ordering: greedy
// decoding repeats far more than top-p sampling and than human text.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "audit/plan.hpp"
#include "audit/runner.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "plan_files.hpp"
#include "repetition/metrics.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";
const fs::path kStage1 = kDemo / "stage1";
constexpr int kPrompts = 6;
constexpr int kSentences = 4;

// The first `count` lines of `file` that contain `needle`.
std::string lines_with(const fs::path& file, const std::string& needle, int count) {
  std::ifstream in(file);
  std::string line, out;
  for (int n = 0; n < count && std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out += line + "\n", ++n;
  return out;
}

std::string plan_text(const std::string& extra = "") {
  return "[prompts]\nfile = prompts.jsonl\n"
         "[strategy.greedy]\nsamples = 1\nmax_tokens = 128\ntemperature = 0\n"
         "[strategy.top_p]\nsamples = 2\nmax_tokens = 128\ntemperature = 1\ntop_p = 0.95\n"
         "[detectors]\nenabled = repetition\n"
         "[repetition]\nhuman = " +
         (kDemo / "corpus" / "clean.heldout.jsonl.zst").string() +
         "\nreinforcement = sentences.jsonl\n" + extra;
}

class RepetitionAudit : public sg::testing::GpuTest {
 protected:
  static void SetUpTestSuite() {
    GpuTest::SetUpTestSuite();
    dir_ = std::make_unique<sg::testing::PlanDir>();
    // KJV prompts: their held-out chapters go on for more than 128 tokens, so the human text
    // is as long as the samples.
    dir_->write("prompts.jsonl",
                lines_with(kDemo / "prompts" / "heldout.jsonl", "\"kjv/", kPrompts));
    dir_->write("sentences.jsonl",
                lines_with(kDemo / "prompts" / "heldout-sentences.jsonl", "", kSentences));
    plan_ = std::make_unique<Plan>(Plan::load(dir_->write("plan.ini", plan_text())));
    tok_ = tokenizer::load(kStage1, "gpt2");
  }
  static void TearDownTestSuite() {
    plan_.reset();
    dir_.reset();
    GpuTest::TearDownTestSuite();
  }

  // The audit of the plan on stage 1, run once for the suite.
  const fs::path& audited() {
    static bool done = false;
    if (!done) {
      done = true;
      summary_ = run(*plan_, db());
    }
    return db();
  }
  static const fs::path& db() {
    static const fs::path file = dir_->path() / "audit.db";
    return file;
  }

  RunSummary run(const Plan& plan, const fs::path& file) {
    const auto checkpoint = model::Checkpoint::open(kStage1);
    engine::EngineOptions o;
    o.max_sequences = 8;
    engine::Model model(gpu(), checkpoint, o);
    db::Store store(file);
    Runner runner(model, *tok_, store, plan,
                  audit_target(checkpoint, "stagegate-demo", "stage1", gpu().info().name));
    return runner.run({});
  }

  std::map<std::string, db::Aggregate> aggregates() {
    audited();
    std::map<std::string, db::Aggregate> out;
    for (const auto& a : summary_.aggregates) out[a.metric + "|" + a.strategy + "|" + a.slice] = a;
    return out;
  }

  static inline std::unique_ptr<sg::testing::PlanDir> dir_;
  static inline std::unique_ptr<Plan> plan_;
  static inline std::unique_ptr<tokenizer::Tokenizer> tok_;
  static inline RunSummary summary_;
};

double metric(const db::SampleRecord& s, const std::string& name, double none = -1) {
  for (const auto& m : s.metrics)
    if (m.metric == name) return m.value;
  return none;
}

// What it stores per sample: every figure, and the loop behind it.
void check_samples(const fs::path& file, const RunSummary& summary,
                   const tokenizer::Tokenizer& tok) {
  db::Store store(file);
  ASSERT_EQ(summary.outcome, "completed");
  std::map<std::string, int> measured, loops;
  for (auto s : store.samples(summary.run_id)) {
    SCOPED_TRACE(s.key.strategy + " " + s.key.prompt_id);
    if (s.key.strategy == "repetition.reinforcement") {
      EXPECT_TRUE(s.metrics.empty());  // scored for the curve only
      continue;
    }
    ++measured[s.key.strategy];
    auto tokens = s.token_ids;
    std::string text = s.text;
    if (s.key.strategy == "repetition.human") {
      EXPECT_EQ(s.key.prompt_id.rfind("repetition:human:kjv/", 0), 0u);
      ASSERT_GT(tokens.size(), 128u);  // cut by bytes, then measured at 128 tokens
      tokens.resize(128);
      text = tok.decode(tokens);
      ASSERT_EQ(s.text.rfind(text, 0), 0u);
    }
    const auto f = detectors::repetition::sample_figures(tokens, text);
    EXPECT_DOUBLE_EQ(metric(s, "repetition.seq_rep_2"), f.seq_rep_2);
    EXPECT_DOUBLE_EQ(metric(s, "repetition.seq_rep_4"), f.seq_rep_4);
    EXPECT_DOUBLE_EQ(metric(s, "repetition.rep_128"), f.rep_128);
    EXPECT_DOUBLE_EQ(metric(s, "repetition.zlib_ratio"), *f.zlib_ratio);
    EXPECT_DOUBLE_EQ(metric(s, "repetition.loop_fraction"), f.loop_fraction);
    const auto evidence = store.evidence(s.id);
    if (!f.loop) {
      EXPECT_EQ(metric(s, "repetition.loop_period"), -1);  // no row, not a made-up value
      EXPECT_EQ(metric(s, "repetition.loop_start"), -1);
      EXPECT_TRUE(evidence.empty());
      continue;
    }
    ++loops[s.key.strategy];
    EXPECT_EQ(metric(s, "repetition.loop_period"), f.loop->period);
    EXPECT_EQ(metric(s, "repetition.loop_start"), f.loop_start);
    ASSERT_EQ(evidence.size(), 1u);
    EXPECT_EQ(evidence[0].detector, "repetition");
    EXPECT_EQ(evidence[0].kind, "loop");
    EXPECT_EQ(json::parse(evidence[0].detail_json),
              (json{{"period", f.loop->period}, {"start", f.loop_start}}));
    // The span is the loop's text: from its first token to the end of what was measured.
    const auto loop = std::span(tokens).subspan(static_cast<std::size_t>(f.loop_start));
    ASSERT_TRUE(evidence[0].start_byte && evidence[0].end_byte);
    EXPECT_EQ(
        s.text.substr(static_cast<std::size_t>(*evidence[0].start_byte),
                      static_cast<std::size_t>(*evidence[0].end_byte - *evidence[0].start_byte)),
        tok.decode_bytes(loop));
  }
  EXPECT_EQ(measured,
            (std::map<std::string, int>{
                {"greedy", kPrompts}, {"repetition.human", kPrompts}, {"top_p", 2 * kPrompts}}));
  EXPECT_GE(loops["greedy"], kPrompts / 2);  // the evidence path was exercised
}

// Each strategy's table and the self-reinforcement curve.
void check_summaries(std::map<std::string, db::Aggregate> a) {
  for (const std::string strategy : {"greedy", "top_p", "repetition.human"}) {
    SCOPED_TRACE(strategy);
    const std::int64_t n = strategy == "top_p" ? 2 * kPrompts : kPrompts;
    for (const std::string m : {"seq_rep_2", "seq_rep_3", "seq_rep_4", "rep_16", "rep_32",
                                "rep_128", "zlib_ratio", "loop_fraction", "loop_share"}) {
      const auto key = "repetition." + m + "|" + strategy + "|";
      ASSERT_TRUE(a.count(key)) << key;
      EXPECT_EQ(a[key].n, n) << key;
      EXPECT_TRUE(a[key].ci_low) << key;
    }
    for (int d = 1; d <= 3; ++d) {
      const auto key = "repetition.distinct_" + std::to_string(d) + "|" + strategy + "|";
      ASSERT_TRUE(a.count(key)) << key;
      EXPECT_EQ(a[key].n, n);
      EXPECT_GT(a[key].value, 0);
      EXPECT_FALSE(a[key].ci_low);  // a corpus figure: no bootstrap interval (metrics.hpp)
    }
  }
  // loop_period and loop_start (the onset) average over the looping samples only.
  const auto share = a["repetition.loop_share|greedy|"];
  ASSERT_TRUE(a.count("repetition.loop_start|greedy|"));
  EXPECT_EQ(a["repetition.loop_start|greedy|"].n,
            static_cast<std::int64_t>(std::lround(share.value * kPrompts)));
  EXPECT_EQ(a["repetition.loop_period|greedy|"].n, a["repetition.loop_start|greedy|"].n);

  for (int r = 1; r <= 10; ++r) {
    const auto key = "repetition.self_reinforcement||rep=" + std::to_string(r);
    ASSERT_TRUE(a.count(key)) << key;
    EXPECT_EQ(a[key].n, kSentences);
    EXPECT_GT(a[key].value, 0);
    EXPECT_LT(a[key].value, 1);
  }
  // Xu et al.'s effect: a sentence seen many times is more probable than on first sight.
  EXPECT_GT(a["repetition.self_reinforcement||rep=10"].value,
            a["repetition.self_reinforcement||rep=1"].value);
  EXPECT_FALSE(a.count("repetition.self_reinforcement||rep=11"));
}

// The family's ordering, with margins measured on stage 1.
void check_ordering(std::map<std::string, db::Aggregate> a) {
  auto rep = [&](const std::string& m, const std::string& strategy) {
    const auto key = "repetition." + m + "|" + strategy + "|";
    EXPECT_TRUE(a.count(key)) << key;  // a missing figure fails, never compares nothing
    EXPECT_GE(a[key].n, kPrompts) << key;
    return a[key].value;
  };
  for (const std::string m : {"rep_32", "seq_rep_4"}) {
    SCOPED_TRACE(m);
    const double greedy = rep(m, "greedy"), top_p = rep(m, "top_p"),
                 human = rep(m, "repetition.human");
    EXPECT_GT(greedy, top_p + 0.3);
    EXPECT_GT(greedy, human + 0.3);
  }
  // Measured, and not Holtzman et al.'s GPT-2 ordering: on these tiny models top-p 0.95
  // keeps most of a flat distribution and repeats less than the (repetitive) KJV text does.
  EXPECT_GT(rep("rep_32", "repetition.human"), rep("rep_32", "top_p") + 0.05);
  EXPECT_GT(rep("loop_share", "greedy"), 0.5);
  EXPECT_EQ(rep("loop_share", "repetition.human"), 0);
}

// One audit for all three (each test is its own process under ctest).
TEST_F(RepetitionAudit, MeasuresSamplesSummarizesStrategiesAndGreedyRepeatsMost) {
  const auto& file = audited();
  {
    SCOPED_TRACE("samples");
    check_samples(file, summary_, *tok_);
  }
  {
    SCOPED_TRACE("summaries");
    check_summaries(aggregates());
  }
  {
    SCOPED_TRACE("ordering");
    check_ordering(aggregates());
  }
}

TEST(RepetitionPlan, RefusesSettingsItCannotUse) {
  sg::testing::PlanDir dir;
  dir.write("prompts.jsonl", "{\"id\": \"nowhere\", \"text\": \"In the beginning\"}\n");
  dir.write("sentences.jsonl", "{\"id\": 1, \"text\": \"Jesus wept.\"}\n");
  auto refused = [&](const std::string& extra, const std::string& part) {
    const auto file = dir.write("plan.ini",
                                "[prompts]\nfile = prompts.jsonl\n"
                                "[strategy.greedy]\nsamples = 1\nmax_tokens = 8\n"
                                "[detectors]\nenabled = repetition\n[repetition]\n" +
                                    extra);
    try {
      Plan::load(file);
      ADD_FAILURE() << "accepted: " << extra;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  refused("human = " + (kDemo / "corpus" / "clean.heldout.jsonl.zst").string() + "\n",
          "prompt 'nowhere': no document");
  refused("human = missing.jsonl.zst\n", "repetition.human: not a readable file");
  // Found by fuzzing plans (tests/fuzz/corpus/plan/human-is-a-directory.ini).
  refused("human = .\n", "repetition.human: not a readable file");
  refused("human_tokens = 8\n", "without human = FILE");
  refused("reinforcement_repeats = 5\n", "without reinforcement = FILE");
  refused("reinforcement = sentences.jsonl\nreinforcement_repeats = 1\n", "reinforcement_repeats");

  // Without a section the detector measures the plan's samples only.
  const auto bare = dir.write("bare.ini",
                              "[prompts]\nfile = prompts.jsonl\n"
                              "[strategy.greedy]\nsamples = 1\n"
                              "[detectors]\nenabled = repetition\n");
  EXPECT_TRUE(Plan::load(bare).detectors.at(0).jobs.score.empty());
}

TEST_F(RepetitionAudit, RefusesASentenceWhoseCopiesOverflowTheContext) {
  sg::testing::PlanDir dir;
  dir.write("prompts.jsonl", lines_with(kDemo / "prompts" / "heldout.jsonl", "\"kjv/", 1));
  dir.write("sentences.jsonl", lines_with(kDemo / "prompts" / "heldout-sentences.jsonl", "", 1));
  const auto plan = Plan::load(dir.write("plan.ini", plan_text("reinforcement_repeats = 40\n")));
  try {
    run(plan, dir.path() / "a.db");
    ADD_FAILURE() << "accepted 40 copies in a context of 256";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("more than the model's context of 256"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sg::audit
