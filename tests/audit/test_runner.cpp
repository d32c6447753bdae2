// The audit runner on stage 1 of the demo family: a detector defined only here (no change in
// src/audit) contributes jobs, per-sample metrics, evidence and aggregates; the stored
// samples do not depend on how many sequences the engine runs at once; the runner's error
// paths; and a plan stores the rows it stored before the detector seam.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "audit/plan.hpp"
#include "audit/runner.hpp"
#include "common/errors.hpp"
#include "db/errors.hpp"
#include "db/store.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "engine/scorer.hpp"
#include "memorization/index_builder.hpp"
#include "memorization/tokenizer_hash.hpp"
#include "model/checkpoint_facts.hpp"
#include "plan_files.hpp"
#include "runner_db.hpp"
#include "seam/intervals.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::PlanDir;

const fs::path kStage1 = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo" / "stage1";

// A detector that exists only in this test: its own section, a text to score and a prompt
// to sample with its own settings, a metric and evidence on every sample, a second model
// loaded once per run, and a summary that reads only metrics.
class Probe : public detectors::Detector {
 public:
  explicit Probe(std::int64_t samples) : samples_(samples) {}
  std::string canonical_settings() const override {
    return "[probe]\nsamples = " + std::to_string(samples_) + "\n";
  }
  detectors::Jobs jobs() const override {
    detectors::Jobs j;
    j.score.push_back({"s1", "And God said, Let there be light", "probe.ini:1", "probe.texts"});
    detectors::GenerateJob g;
    g.id = "g1";
    g.prompt = "In the beginning";
    g.origin = "probe.ini:2";
    g.strategy = "probe.greedy";
    g.params.temperature = 0;
    g.params.max_tokens = 6;
    g.samples = samples_;
    j.generate.push_back(g);
    return j;
  }
  void prepare(detectors::RunContext& run) override {
    ++prepared;
    auto first = run.models.load(kStage1);
    auto again = run.models.load(kStage1);
    second_model_loaded_once = &first.engine == &again.engine && &first.engine != &run.model;
  }
  void measure(std::span<const detectors::Sample> samples,
               std::span<detectors::Findings> out) override {
    ++batches;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      out[i].metrics.push_back({"probe.tokens", static_cast<double>(s.tokens.size())});
      out[i].evidence.push_back({"whole_text", "probe.tokens", 0,
                                 static_cast<std::int64_t>(s.text.size()),
                                 json{{"source", s.source}, {"id", s.prompt_id}}.dump()});
    }
  }
  std::vector<detectors::Aggregate> summarize(detectors::RunReader& run) override {
    detectors::SampleQuery q;
    q.metric_prefix = "probe.";
    std::map<std::string, std::vector<double>> by_strategy;
    for (const auto& s : run.samples(q)) {
      read_anything_unasked =
          read_anything_unasked || !s.tokens.empty() || !s.text.empty() || !s.logprobs.empty();
      for (const auto& m : s.metrics) by_strategy[s.strategy].push_back(m.value);
    }
    std::vector<detectors::Aggregate> out;
    for (const auto& [strategy, v] : by_strategy) {
      const auto iv = detectors::bootstrap_mean(v);
      out.push_back({"probe.tokens", strategy, "kind=probe", iv.value, iv.low, iv.high,
                     static_cast<std::int64_t>(v.size())});
    }
    return out;
  }

  static inline int prepared = 0;
  static inline int batches = 0;
  static inline bool second_model_loaded_once = false;
  static inline bool read_anything_unasked = false;

 private:
  std::int64_t samples_;
};

detectors::Registry with_probe() {
  detectors::Registry r = detectors::builtin_registry();
  detectors::DetectorSpec spec;
  spec.name = "probe";
  spec.keys = {{"samples", ini::Type::kInteger, true, ini::Range{1, 4}}};
  spec.section_required = true;
  spec.make = [](const ini::Document& plan) -> std::unique_ptr<detectors::Detector> {
    return std::make_unique<Probe>(*plan.integer("probe", "samples"));
  };
  r.add(std::move(spec));
  return r;
}

const std::string kPrompts =
    "{\"id\": \"heldout:1\", \"text\": \"Blessed are the meek\"}\n"
    "{\"id\": 2, \"text\": \"The LORD is my shepherd\"}\n"
    "{\"id\": 3, \"text\": \"Q: What is the answer?\\nA:\"}\n";
// Held-out text 1 and plan prompt "heldout:1" were one prompt id before the ids were
// namespaced by source.
const std::string kHeldout =
    "{\"id\": 1, \"text\": \"For God so loved the world, that he gave his only begotten Son.\"}\n"
    "{\"id\": 2, \"text\": \"Vanity of vanities, saith the Preacher; all is vanity.\"}\n";

const std::string kPlan =
    "[prompts]\nfile = prompts.jsonl\n"
    "[strategy.greedy]\nsamples = 1\nmax_tokens = 10\ntemperature = 0\n"
    "[strategy.sampled]\nsamples = 3\nmax_tokens = 14\ntemperature = 1\ntop_k = 40\n"
    "[detectors]\nenabled = perplexity, probe\n"
    "[perplexity]\nheldout = heldout.jsonl\n"
    "[probe]\nsamples = 2\n";

class Runner : public sg::testing::GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    dir.write("prompts.jsonl", kPrompts);
    dir.write("heldout.jsonl", kHeldout);
    plan_file = dir.write("plan.ini", kPlan);
  }

  RunSummary audit(const Plan& plan, const fs::path& db, int slots, db::Store::Options options = {},
                   bool new_run = false) {
    engine::EngineOptions o;
    o.max_sequences = slots;
    engine::Model model(gpu(), checkpoint, o);
    db::Store store(db, options);
    const auto target = audit_target(checkpoint, "stagegate-demo", "stage1", gpu().info().name);
    audit::Runner runner(model, *tok, store, plan, target);
    RunnerOptions ro;
    ro.new_run = new_run;
    return runner.run(ro);
  }

  // Audits into `db` capped at about half the size of `complete` (the same plan, done): the
  // store fills up midway.
  void audit_until_full(const Plan& plan, const fs::path& db, const fs::path& complete) {
    { db::Store fresh(db); }
    db::Store::Options tight;
    tight.max_size_bytes =
        static_cast<std::int64_t>((fs::file_size(db) + fs::file_size(complete)) / 2);
    EXPECT_THROW(audit(plan, db, 4, tight), db::DiskFullError);
  }

  PlanDir dir;
  fs::path plan_file;
  model::Checkpoint checkpoint = model::Checkpoint::open(kStage1);
  std::unique_ptr<tokenizer::Tokenizer> tok = tokenizer::load(kStage1, "gpt2");
};

TEST_F(Runner, ADetectorDefinedOutsideTheRunnerContributesJobsMetricsEvidenceAndAggregates) {
  const auto registry = with_probe();
  const auto plan = Plan::load(plan_file, registry);
  Probe::prepared = Probe::batches = 0;
  const auto summary = audit(plan, dir.path() / "a.db", 4);
  EXPECT_EQ(summary.outcome, "completed");
  // 2 held-out + 3 prompts x (1 + 3) + 1 probe text + 2 probe samples
  EXPECT_EQ(summary.planned, 2 + 12 + 1 + 2);
  EXPECT_EQ(plan.jobs_planned(), summary.planned);
  EXPECT_EQ(summary.done, summary.planned);
  EXPECT_EQ(Probe::prepared, 1);
  EXPECT_GT(Probe::batches, 0);
  EXPECT_TRUE(Probe::second_model_loaded_once);
  EXPECT_FALSE(Probe::read_anything_unasked);

  db::Store store(dir.path() / "a.db");
  const auto samples = store.samples(summary.run_id);
  std::map<std::string, int> by_strategy;
  for (const auto& s : samples) {
    ++by_strategy[s.key.strategy];
    bool has_probe = false;
    for (const auto& m : s.metrics)
      if (m.metric == "probe.tokens") {
        has_probe = true;
        EXPECT_EQ(m.value, static_cast<double>(s.token_ids.size()));
      }
    EXPECT_TRUE(has_probe) << s.key.strategy << " " << s.key.prompt_id;
    const auto ev = store.evidence(s.id);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].detector, "probe");
    EXPECT_EQ(ev[0].end_byte, static_cast<std::int64_t>(s.text.size()));
  }
  EXPECT_EQ(by_strategy, (std::map<std::string, int>{{"greedy", 3},
                                                     {"perplexity.heldout", 2},
                                                     {"probe.greedy", 2},
                                                     {"probe.texts", 1},
                                                     {"sampled", 9}}));
  // The detector's samples are stored under its own prompt ids and settings.
  for (const auto& s : samples) {
    if (s.key.strategy == "probe.greedy") {
      EXPECT_EQ(s.key.prompt_id, "probe:g1");
      EXPECT_EQ(s.settings.temperature, 0.0);
      EXPECT_EQ(s.settings.max_tokens, 6);
      EXPECT_LE(s.token_ids.size(), 6u);
    }
    if (s.key.strategy == "probe.texts") {
      EXPECT_EQ(s.finish_reason, "scored");
    }
  }
  // Two greedy samples of one prompt are the same continuation (different seeds, no draw).
  std::vector<std::string> greedy;
  for (const auto& s : samples)
    if (s.key.strategy == "probe.greedy") greedy.push_back(s.text);
  ASSERT_EQ(greedy.size(), 2u);
  EXPECT_EQ(greedy[0], greedy[1]);

  // No prompt ids collide: the plan's "heldout:1" and held-out text 1 are two prompts.
  std::map<std::string, db::PromptRecord> prompts;
  for (const auto& p : store.prompts(summary.run_id)) prompts[p.id] = p;
  ASSERT_TRUE(prompts.count("prompts:heldout:1"));
  ASSERT_TRUE(prompts.count("perplexity:1"));
  EXPECT_EQ(prompts["prompts:heldout:1"].text, "Blessed are the meek");
  EXPECT_EQ(prompts["perplexity:1"].source, "perplexity");
  EXPECT_EQ(prompts["probe:s1"].source, "probe");

  std::map<std::string, db::Aggregate> aggs;
  for (const auto& a : summary.aggregates) aggs[a.metric + "|" + a.strategy + "|" + a.slice] = a;
  ASSERT_TRUE(aggs.count("probe.tokens|probe.greedy|kind=probe"));
  EXPECT_EQ(aggs["probe.tokens|probe.greedy|kind=probe"].n, 2);
  EXPECT_EQ(aggs["probe.tokens|probe.texts|kind=probe"].n, 1);
  // One value: no interval is invented.
  EXPECT_FALSE(aggs["probe.tokens|probe.texts|kind=probe"].ci_low);
  EXPECT_TRUE(aggs["perplexity.heldout||"].ci_low);
  EXPECT_EQ(store.aggregates(summary.run_id), summary.aggregates);

  // The evidence view shows the span it points at.
  sg::testing::RawDb sql(dir.path() / "a.db");
  EXPECT_EQ(sql.integer("SELECT count(*) FROM v_evidence WHERE detector = 'probe'"),
            static_cast<long long>(samples.size()));
  EXPECT_EQ(sql.integer("SELECT count(*) FROM v_evidence e JOIN v_samples s USING (run_id, "
                        "strategy, prompt_id, sample_index) WHERE e.span_text <> s.text"),
            0);
}

TEST_F(Runner, StoredSamplesDoNotDependOnHowManySequencesRunAtOnce) {
  const auto registry = with_probe();
  const auto plan = Plan::load(plan_file, registry);
  std::map<int, std::map<db::SampleKey, std::string>> by_slots;
  std::map<int, std::vector<db::Aggregate>> aggregates;
  for (int slots : {1, 3, 16}) {
    const auto db = dir.path() / ("slots" + std::to_string(slots) + ".db");
    const auto summary = audit(plan, db, slots);
    EXPECT_EQ(summary.slots, slots);
    by_slots[slots] = sg::testing::sample_contents(db);
    EXPECT_EQ(by_slots[slots].size(), static_cast<std::size_t>(summary.planned));
    aggregates[slots] = summary.aggregates;
  }
  EXPECT_EQ(by_slots[1], by_slots[3]);
  EXPECT_EQ(by_slots[1], by_slots[16]);
  // Samples finish in another order at each slot count; the figures do not follow it.
  EXPECT_EQ(aggregates[1], aggregates[3]);
  EXPECT_EQ(aggregates[1], aggregates[16]);
}

TEST_F(Runner, HeldOutPerplexityIsTheCorpusPerplexityOfTheScoredTexts) {
  const auto plan = Plan::load(plan_file, with_probe());
  const auto summary = audit(plan, dir.path() / "p.db", 2);
  engine::Model model(gpu(), checkpoint, {});
  double sum = 0, count = 0;
  for (const auto& r : plan.detectors.front().jobs.score) {
    const auto scored = engine::score(model, tok->encode(r.text));
    sum += scored.total_logprob;
    count += static_cast<double>(scored.logprobs.size());
  }
  ASSERT_EQ(plan.detectors.front().name, "perplexity");
  for (const auto& a : summary.aggregates)
    if (a.metric == "perplexity.heldout") {
      EXPECT_NEAR(a.value, std::exp(-sum / count), 1e-9 * a.value);
      EXPECT_EQ(a.n, 2);
      return;
    }
  ADD_FAILURE() << "no perplexity.heldout aggregate";
}

// check_texts' error for the plan as it is, or "" when it accepts the texts.
std::string refusal(const fs::path& plan_file, const tokenizer::Tokenizer& tok, int context) {
  try {
    Plan::load(plan_file, with_probe()).check_texts(tok, context);
    return "";
  } catch (const InputError& e) {
    return e.what();
  }
}

TEST_F(Runner, TextsThatCannotBeAuditedAreRefusedBeforeTheRunNamingTheirLine) {
  const int context = checkpoint.config().n_positions;
  EXPECT_EQ(refusal(plan_file, *tok, context), "");
  dir.write("prompts.jsonl",
            "{\"id\": \"a\", \"text\": \"fine\"}\n{\"id\": \"b\", \"text\": \"\"}\n");
  EXPECT_NE(
      refusal(plan_file, *tok, context).find("prompts.jsonl:2: prompt 'b' encodes to 0 tokens"),
      std::string::npos);
  dir.write("prompts.jsonl", kPrompts);
  dir.write("heldout.jsonl",
            "{\"id\": 1, \"text\": \"Long enough text.\"}\n{\"id\": 9, \"text\": \"A\"}\n");
  EXPECT_NE(refusal(plan_file, *tok, context)
                .find("heldout.jsonl:2: text to score '9' encodes to 1 token;"),
            std::string::npos);
  // A prompt that leaves no room in the context for a new token.
  std::string longest = "{\"id\": \"long\", \"text\": \"";
  for (int i = 0; i < context; ++i) longest += " the";
  dir.write("heldout.jsonl", kHeldout);
  dir.write("prompts.jsonl", longest + "\"}\n");
  EXPECT_NE(refusal(plan_file, *tok, context).find("exceeds the model's context"),
            std::string::npos);
}

// The store fills up in the middle of a batch: the run stops with the samples stored so far
// whole, is marked interrupted, and completes on resumption with exactly the samples of an
// uninterrupted run.
TEST_F(Runner, AStoreFailureMidBatchLosesNothingAndResumesExactly) {
  const auto plan = Plan::load(plan_file, with_probe());
  const auto clean = dir.path() / "clean.db";
  audit(plan, clean, 4);
  const auto full = dir.path() / "full.db";
  { db::Store fresh(full); }
  // Room for about half the samples.
  db::Store::Options tight;
  tight.max_size_bytes =
      static_cast<std::int64_t>((fs::file_size(full) + fs::file_size(clean)) / 2);
  EXPECT_THROW(audit(plan, full, 4, tight), db::DiskFullError);
  {
    db::Store store(full);
    const auto runs = store.runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, db::RunStatus::kInterrupted);
    EXPECT_GT(runs[0].samples_done, 0);
    EXPECT_LT(runs[0].samples_done, runs[0].samples_planned);
    EXPECT_TRUE(store.integrity_check().empty());
  }
  const auto resumed = audit(plan, full, 4);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_EQ(resumed.outcome, "completed");
  EXPECT_EQ(sg::testing::sample_contents(full), sg::testing::sample_contents(clean));
}

TEST_F(Runner, NewRunAbandonsTheUnfinishedRun) {
  const auto plan = Plan::load(plan_file, with_probe());
  const auto clean = dir.path() / "clean.db";
  audit(plan, clean, 4);
  const auto db = dir.path() / "n.db";
  audit_until_full(plan, db, clean);
  const auto fresh = audit(plan, db, 4, {}, true);
  EXPECT_EQ(fresh.outcome, "completed");
  ASSERT_TRUE(fresh.abandoned_run);
  db::Store store(db);
  EXPECT_EQ(store.run(*fresh.abandoned_run)->status, db::RunStatus::kAbandoned);
  EXPECT_EQ(audit(plan, db, 4).outcome, "already completed");
}

// The repetition controls and the loop stop from a plan: the samples carry the settings
// (their non-default keys as JSON), a looping greedy sample ends with finish reason "loop"
// and its filter event is stored with it.
TEST_F(Runner, PlanRepetitionControlsAndTheLoopStopReachTheStore) {
  const auto plan =
      Plan::load(dir.write("controls.ini",
                           "[prompts]\nfile = prompts.jsonl\n"
                           "[strategy.looping]\nsamples = 1\nmax_tokens = 48\ntemperature = 0\n"
                           "stop_on_loop = true\nloop_min_repeats = 2\nloop_min_length = 4\n"
                           "[strategy.penalized]\nsamples = 1\nmax_tokens = 8\ntemperature = 0\n"
                           "presence_penalty = 0.5\ndry_multiplier = 0.8\n"));
  const auto summary = audit(plan, dir.path() / "c.db", 4);
  ASSERT_EQ(summary.outcome, "completed");
  db::Store store(dir.path() / "c.db");
  const auto samples = store.samples(summary.run_id);
  const auto events = store.filter_events(summary.run_id);
  int loops = 0;
  for (const auto& s : samples) {
    const auto settings = json::parse(s.settings.decoding_json);
    if (s.key.strategy == "penalized") {
      EXPECT_EQ(settings, (json{{"presence_penalty", 0.5}, {"dry_multiplier", 0.8}}));
      continue;
    }
    EXPECT_EQ(settings,
              (json{{"stop_on_loop", true}, {"loop_min_repeats", 2}, {"loop_min_length", 4}}));
    if (s.finish_reason != "loop") continue;
    ++loops;
    int mine = 0;
    for (const auto& e : events) {
      if (e.sample_id != s.id) continue;
      ++mine;
      EXPECT_EQ(e.filter, "repetition.loop_stop");
      EXPECT_EQ(e.action, "stop");
      EXPECT_EQ(e.token_position.value_or(-1), static_cast<std::int64_t>(s.token_ids.size()) - 1);
      const auto detail = json::parse(e.detail_json);
      const auto period = detail["period"].get<std::size_t>();
      const auto start = detail["start"].get<std::size_t>();
      ASSERT_LT(start + period, s.token_ids.size());
      for (std::size_t i = start; i + period < s.token_ids.size(); ++i)
        EXPECT_EQ(s.token_ids[i], s.token_ids[i + period]) << i;
    }
    EXPECT_EQ(mine, 1);
  }
  EXPECT_GT(loops, 0) << "no greedy sample of the demo stage looped: the test says nothing";
  EXPECT_EQ(events.size(), static_cast<std::size_t>(loops));
}

// A database made by stagegate before the detector seam (tests/fixtures/audit/before-seam,
// made with the plan there by commit 2652892) holds the same rows as one made now, apart
// from times, the tool's commit and the prompt ids the seam namespaced; opened now, it is
// migrated, and its completed run is recognised as this plan's (the plan hash is unchanged).
// The sampled tokens are the same; their log-probs (and the figures made from them) now
// come from the device's summary of the logits, whose float normalizer rounds differently
// from the host's double sum: equal to 1e-6 (relatively, above 1).
TEST_F(Runner, APlanStoresWhatItStoredBeforeTheSeam) {
  const fs::path fixture = fs::path(STAGEGATE_FIXTURES) / "audit" / "before-seam";
  const auto before = dir.path() / "before.db";
  fs::copy_file(fixture / "before.db", before);
  const auto plan = Plan::load(fixture / "plan.ini");
  const auto now = dir.path() / "now.db";
  audit(plan, now, 8);
  {
    db::Store migrated(before);  // migrates it
  }
  const auto before_rows = sg::testing::comparable_rows(before);
  const auto now_rows = sg::testing::comparable_rows(now);
  ASSERT_EQ(before_rows.size(), now_rows.size());
  for (const auto& [table, rows] : before_rows) {
    ASSERT_TRUE(now_rows.count(table)) << table;
    ASSERT_FALSE(rows.empty()) << table;
    const auto& now_table = now_rows.at(table);
    ASSERT_EQ(rows.size(), now_table.size()) << table;
    for (std::size_t r = 0; r < rows.size(); ++r)
      EXPECT_TRUE(sg::testing::same_up_to_rounding(rows[r], now_table[r], 1e-6))
          << table << "\nbefore: " << rows[r].substr(0, 400)
          << "\nnow:    " << now_table[r].substr(0, 400);
  }
  EXPECT_EQ(audit(plan, before, 8).outcome, "already completed");
}

TEST_F(Runner, ALeakageFilteredStrategyStoresItsBlocksAsFilterEvents) {
  // The corpus is the prompts themselves and N = 1: every token the prompts hold is banned,
  // so a weak model's greedy output, which repeats its prompt, is blocked often.
  namespace mem = detectors::memorization;
  mem::TokenizedCorpus corpus;
  corpus.vocab_size = static_cast<std::uint32_t>(tok->vocab_size());
  corpus.tokenizer_hash = mem::tokenizer_hash(kStage1);
  for (const auto* text : {"Blessed are the meek", "The LORD is my shepherd"}) {
    corpus.names.emplace_back(text);
    corpus.documents.push_back(tok->encode(text));
  }
  mem::build_index(corpus, dir.path() / "prompts.sgidx", {.threads = 1, .progress = false});
  const auto plan_path =
      dir.write("leak.ini",
                "[prompts]\nfile = prompts.jsonl\n[strategy.greedy]\nsamples = 1\nmax_tokens = 12\n"
                "temperature = 0\nleakage_index = prompts.sgidx\nleakage_n = 1\n");
  const auto plan = Plan::load(plan_path);
  plan.check_indexes(kStage1);
  const auto db = dir.path() / "leak.db";
  audit(plan, db, 4);

  db::Store store(db);
  const auto run = store.runs().front().id;
  std::set<std::int32_t> banned;
  for (const auto& d : corpus.documents) banned.insert(d.begin(), d.end());
  std::size_t blocked = 0;
  for (const auto& e : store.filter_events(run)) {
    EXPECT_EQ(e.filter, "memorization.leakage");
    EXPECT_EQ(e.action, "block");
    ASSERT_TRUE(e.sample_id && e.token_position);
    EXPECT_TRUE(banned.contains(json::parse(e.detail_json)["token"].get<std::int32_t>()));
    ++blocked;
  }
  EXPECT_GT(blocked, 0u);
  const auto samples = store.samples(run);
  ASSERT_EQ(samples.size(), 3u);
  for (const auto& s : samples)
    for (auto t : s.token_ids) EXPECT_FALSE(banned.contains(t)) << s.text;
}

}  // namespace
}  // namespace sg::audit
