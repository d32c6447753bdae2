// The capability detector through audits of the demo family's stage 1 (GPT-2) and its GPT-1
// sibling (lavapipe in CI, a few seconds each): bits per byte from what the store holds, the
// held-out texts scored after <|endoftext|> exactly as a direct score of it, and the zero-shot
// task's verdicts shown to follow the model's own greedy answers.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>
#include <set>

#include "audit/plan.hpp"
#include "audit/runner.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "engine/scorer.hpp"
#include "plan_files.hpp"
#include "report/release_report.hpp"
#include "report/report_data.hpp"
#include "report/report_figures.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";

// The first `count` lines of `file`.
std::string head(const fs::path& file, int count) {
  std::ifstream in(file);
  std::string line, out;
  for (int n = 0; n < count && std::getline(in, line); ++n) out += line + "\n";
  return out;
}

double metric(const db::SampleRecord& s, const std::string& name) {
  for (const auto& m : s.metrics)
    if (m.metric == name) return m.value;
  ADD_FAILURE() << "no " << name << " for " << s.key.prompt_id;
  return -1;
}

struct Audited {
  RunSummary summary;
  std::vector<db::SampleRecord> samples;
  std::map<std::string, db::Aggregate> aggregates;  // by metric
  std::map<std::string, json> answers;              // zero-shot evidence by prompt id
};

class CapabilityAudit : public sg::testing::GpuTest {
 protected:
  Audited audit(const fs::path& model_dir, const std::string& type, const std::string& plan_ini,
                const std::string& db_name) {
    const auto plan = Plan::load(dir_.write(db_name + ".ini", plan_ini));
    const auto checkpoint = model::Checkpoint::open(model_dir);
    const auto tok = tokenizer::load(model_dir, type);
    engine::EngineOptions o;
    o.max_sequences = 8;
    engine::Model model(gpu(), checkpoint, o);
    const auto file = dir_.path() / (db_name + ".db");
    Audited out;
    {
      db::Store store(file);
      Runner runner(model, *tok, store, plan,
                    audit_target(checkpoint, "stagegate-demo", model_dir.filename().string(),
                                 gpu().info().name));
      out.summary = runner.run({});
    }
    db::Store store(file);
    out.samples = store.samples(out.summary.run_id);
    for (const auto& a : out.summary.aggregates) out.aggregates[a.metric] = a;
    for (const auto& s : out.samples)
      for (const auto& e : store.evidence(s.id))
        if (e.kind == "zero_shot_answer") out.answers[s.key.prompt_id] = json::parse(e.detail_json);
    return out;
  }

  // Bits per byte as stored, checked against the per-text figures and against a direct score.
  void check_bits_per_byte(const Audited& a, const fs::path& model_dir, const std::string& type,
                           int texts) {
    const auto tok = tokenizer::load(model_dir, type);
    const auto checkpoint = model::Checkpoint::open(model_dir);
    engine::Model model(gpu(), checkpoint, {});
    double bits = 0, bytes = 0;
    int seen = 0;
    for (const auto& s : a.samples) {
      if (s.key.strategy != "capability.heldout") continue;
      SCOPED_TRACE(s.key.prompt_id);
      ++seen;
      std::vector<std::int32_t> expected;
      if (tok->eos_id()) expected.push_back(*tok->eos_id());
      for (auto id : tok->encode(s.text)) expected.push_back(id);
      ASSERT_EQ(s.token_ids, expected);
      ASSERT_EQ(s.logprobs.size(), expected.size() - 1);
      const auto direct = engine::score(model, expected);
      double text_bits = 0;
      for (std::size_t i = 0; i < s.logprobs.size(); ++i) {
        EXPECT_NEAR(s.logprobs[i], direct.logprobs[i], 1e-9);
        text_bits -= s.logprobs[i] / std::numbers::ln2;
      }
      double text_bytes = static_cast<double>(s.text.size());
      if (!tok->eos_id()) {
        auto first = tok->decode_bytes(std::span(expected).first(1));
        while (!first.empty() && first.back() == ' ') first.pop_back();
        text_bytes -= static_cast<double>(first.size());
      }
      EXPECT_EQ(metric(s, "capability.bytes"), text_bytes);
      EXPECT_NEAR(metric(s, "capability.bits_per_byte"), text_bits / text_bytes, 1e-12);
      bits += text_bits;
      bytes += text_bytes;
    }
    EXPECT_EQ(seen, texts);
    const auto& agg = a.aggregates.at("capability.bits_per_byte");
    EXPECT_NEAR(agg.value, bits / bytes, 1e-12);
    EXPECT_EQ(agg.n, texts);
    ASSERT_TRUE(agg.ci_low && agg.ci_high);
    EXPECT_LE(*agg.ci_low, agg.value);
    EXPECT_GE(*agg.ci_high, agg.value);
    // A trained model predicts its own language's text at far under 8 bits a byte.
    EXPECT_LT(agg.value, 4.0);
    EXPECT_GT(agg.value, 0.5);
  }

  // The zero-shot verdicts follow the model's answers: a task whose targets are its own greedy
  // answers (one written with a full stop after it) is all correct; one with other words, none.
  void check_zero_shot(const fs::path& model_dir, const std::string& type, const Audited& first,
                       const std::string& name) {
    ASSERT_EQ(first.answers.size(), 6u);
    std::string right, wrong;
    std::ifstream in(dir_.path() / "lambada.jsonl");
    std::string line;
    int answered = 0;
    for (int n = 1; std::getline(in, line); ++n) {
      const auto answer = first.answers.at("capability:" + std::to_string(n));
      const auto predicted = answer["predicted"].get<std::string>();
      const auto context = json::parse(line)["text"].get<std::string>();
      const auto cut = context.find_last_of(" \n");
      if (predicted.empty()) continue;
      ++answered;
      const std::string stop = answered == 1 ? "." : "";
      right += json{{"text", context.substr(0, cut) + " " + predicted + stop}}.dump() + "\n";
      wrong += json{{"text", context.substr(0, cut) + " zzqx" + predicted}}.dump() + "\n";
    }
    ASSERT_GE(answered, 4) << "the model left too many passages without a word";
    dir_.write(name + "-right.jsonl", right);
    dir_.write(name + "-wrong.jsonl", wrong);
    auto plan = [&](const std::string& file) {
      return "[detectors]\nenabled = capability\n[capability]\nzero_shot = " + file + "\n";
    };
    const auto all = audit(model_dir, type, plan(name + "-right.jsonl"), name + "-right");
    EXPECT_EQ(all.aggregates.at("capability.zero_shot_accuracy").value, 1.0);
    EXPECT_EQ(all.aggregates.at("capability.zero_shot_accuracy").n, answered);
    const auto none = audit(model_dir, type, plan(name + "-wrong.jsonl"), name + "-wrong");
    const auto& acc = none.aggregates.at("capability.zero_shot_accuracy");
    EXPECT_EQ(acc.value, 0.0);
    EXPECT_EQ(*acc.ci_low, 0.0);
    EXPECT_GT(*acc.ci_high, 0.0);  // Wilson: not a point at 0
    for (const auto& s : none.samples) EXPECT_EQ(metric(s, "capability.zero_shot_correct"), 0.0);
  }

  std::string full_plan() {
    dir_.write("heldout.jsonl", head(kDemo / "prompts" / "heldout-passages.jsonl", 3));
    // LAMBADA's format: only "text"; passages of held-out text, the last word to predict.
    std::string lambada;
    std::ifstream in(kDemo / "prompts" / "heldout-passages.jsonl");
    std::string line;
    for (int n = 0; n < 6 && std::getline(in, line); ++n) {
      auto text = json::parse(line)["text"].get<std::string>().substr(0, 300);
      lambada += json{{"text", text.substr(0, text.find_last_of(' '))}}.dump() + "\n";
    }
    dir_.write("lambada.jsonl", lambada);
    return "[detectors]\nenabled = capability\n[capability]\nheldout = heldout.jsonl\n"
           "zero_shot = lambada.jsonl\nzero_shot_max_tokens = 6\n";
  }

  sg::testing::PlanDir dir_;
};

TEST_F(CapabilityAudit, Gpt2StageScoresEveryByteAndJudgesItsOwnAnswers) {
  const auto stage1 = kDemo / "stage1";
  const auto a = audit(stage1, "gpt2", full_plan(), "stage1");
  ASSERT_EQ(a.summary.outcome, "completed");
  check_bits_per_byte(a, stage1, "gpt2", 3);
  const auto& acc = a.aggregates.at("capability.zero_shot_accuracy");
  EXPECT_EQ(acc.n, 6);
  double correct = 0;
  for (const auto& s : a.samples)
    if (s.key.strategy == "capability.zero_shot") {
      EXPECT_EQ(s.settings.temperature, 0.0);  // greedy
      EXPECT_LE(s.token_ids.size(), 6u);
      correct += metric(s, "capability.zero_shot_correct");
    }
  EXPECT_DOUBLE_EQ(acc.value, correct / 6);

  // The release report of this audited database: its capability charts, and the zero-shot
  // answers as evidence.
  db::Store store(dir_.path() / "stage1.db");
  const auto data = report::gather(store, dir_.path() / "stage1.db", nullptr);
  const auto figures = report::report_figures(data);
  std::set<std::string> titles;
  for (const auto& f : figures.drawn) titles.insert(f.chart.title);
  EXPECT_TRUE(titles.count("Bits per byte of held-out text by stage"));
  EXPECT_TRUE(titles.count("Zero-shot last-word accuracy by stage"));
  int answers = 0;
  for (const auto& e : data.evidence) answers += e.kind == "zero_shot_answer";
  EXPECT_EQ(answers, 3);  // the report keeps the first three of a kind
  EXPECT_NE(report::report_html(data).find("zero_shot_answer"), std::string::npos);

  check_zero_shot(stage1, "gpt2", a, "stage1");
}

TEST_F(CapabilityAudit, Gpt1SiblingLeavesItsUnscoredFirstTokenOutOfTheBytes) {
  const auto gpt1 = kDemo / "gpt1";
  const auto a = audit(gpt1, "openai-gpt", full_plan(), "gpt1");
  ASSERT_EQ(a.summary.outcome, "completed");
  check_bits_per_byte(a, gpt1, "openai-gpt", 3);
  check_zero_shot(gpt1, "openai-gpt", a, "gpt1");
}

TEST(CapabilityPlan, ErrorsNameTheKey) {
  sg::testing::PlanDir dir;
  auto error_of = [&](const std::string& section) {
    try {
      Plan::load(dir.write("plan.ini", "[detectors]\nenabled = capability\n" + section));
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const auto plan = (dir.path() / "plan.ini").string();
  EXPECT_EQ(error_of("[capability]\n"),
            plan +
                ":3: [capability]: needs heldout (bits per byte) or zero_shot (a LAMBADA-style "
                "task)");
  dir.write("t.jsonl", "{\"text\": \"a b c\"}\n");
  EXPECT_EQ(error_of("[capability]\nzero_shot = t.jsonl\nstride = 4\n"),
            plan + ":5: capability.stride: is the held-out texts' stride, and there is no heldout");
  EXPECT_EQ(error_of("[capability]\nzero_shot = t.jsonl\nzero_shot_max_tokens = 0\n"),
            plan + ":5: capability.zero_shot_max_tokens: '0' is out of range: must be in [1, 64]");
  EXPECT_NE(error_of("[capability]\nzero_shot = missing.jsonl\n").find("capability.zero_shot"),
            std::string::npos);
}

}  // namespace
}  // namespace sg::audit
