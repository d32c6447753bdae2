// The memorization audit on the demo family (issue 12): the largest stage extracts more of
// the planted passages and canaries than the smallest, extraction rises with duplication,
// and a canary planted 64 times is more exposed than one planted once. Small counts keep it
// to seconds on lavapipe: the canaries planted 1 and 64 times with 15 sampled candidates
// each, and the passages planted 2, 64 and 100 times (prefix 32, continuation 50).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "audit/plan.hpp"
#include "audit/runner.hpp"
#include "db/store.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "memorization/corpus_index.hpp"
#include "plan_files.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::detectors::memorization {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";

// The lines of a JSON-lines file whose "count" is one of `counts`.
std::string lines_with_count(const fs::path& file, std::initializer_list<int> counts) {
  std::ifstream in(file);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const int c = json::parse(line)["count"];
    if (std::find(counts.begin(), counts.end(), c) != counts.end()) out += line + "\n";
  }
  return out;
}

class DemoMemorization : public sg::testing::GpuTest {
 protected:
  using Figures = std::map<std::string, db::Aggregate>;  // "metric|slice"

  Figures audit_stage(const std::string& stage) {
    const fs::path dir = kDemo / stage;
    std::vector<fs::path> slices;
    json family;
    std::ifstream(kDemo / "family.json") >> family;
    for (const auto& s : family["stages"])
      if (s["name"] == stage)
        for (const auto& slice : s["slices"])
          slices.push_back(kDemo / "corpus" / (slice.get<std::string>() + ".jsonl.zst"));
    EXPECT_FALSE(slices.empty()) << stage;
    auto tok = tokenizer::load(dir, "gpt2");
    build_index(slices, *tok, tokenizer_hash(dir), files.path() / (stage + ".sgidx"), {2, false});

    const auto plan =
        audit::Plan::load(files.path() / "plan.ini", builtin_registry(), {{"stage", stage}});
    const auto checkpoint = model::Checkpoint::open(dir);
    engine::EngineOptions o;
    o.max_sequences = 32;
    engine::Model model(gpu(), checkpoint, o);
    db::Store store(files.path() / (stage + ".db"));
    audit::Runner runner(model, *tok, store, plan,
                         audit::audit_target(checkpoint, "stagegate-demo", stage, "test"));
    const auto summary = runner.run({});
    EXPECT_EQ(summary.outcome, "completed");
    Figures out;
    for (const auto& a : summary.aggregates) out[a.metric + "|" + a.slice] = a;
    return out;
  }

  // A figure that must exist and rest on at least one value: a comparison of figures that
  // are not there fails instead of passing.
  static double figure(const Figures& f, const std::string& key) {
    const auto it = f.find(key);
    if (it == f.end() || it->second.n < 1) {
      ADD_FAILURE() << "no figure " << key;
      return std::nan("");
    }
    return it->second.value;
  }

  sg::testing::PlanDir files;
};

TEST_F(DemoMemorization, TheLargestStageExtractsAndExposesMoreRisingWithDuplication) {
  files.write("canaries.jsonl", lines_with_count(kDemo / "canaries.jsonl", {1, 64}));
  files.write("duplicates.jsonl", lines_with_count(kDemo / "duplicates.jsonl", {2, 64, 100}));
  files.write("plan.ini",
              "[detectors]\nenabled = memorization\n[memorization]\nindex = {stage}.sgidx\n"
              "canaries = canaries.jsonl\nduplicates = duplicates.jsonl\n"
              "extraction_sequences = 0\nprefix_lengths = 32\nexposure_candidates = 15\n"
              "unconditioned_samples = 0\n");
  const auto first = audit_stage("stage1");
  const auto last = audit_stage("stage4");

  const std::string rate = "memorization.extractable_rate@32|";
  const std::string exposure = "memorization.canary_exposure|";
  // Size: the largest stage extracts more planted passages and exposes the most-planted
  // canaries more.
  EXPECT_GT(figure(last, rate), figure(first, rate));
  EXPECT_GT(figure(last, exposure + "canary_count=64"),
            figure(first, exposure + "canary_count=64"));
  // Duplication: the passages planted 64 and 100 times are extracted more often than those
  // planted twice, and the canary planted 64 times is more exposed than the one planted once.
  EXPECT_GT(figure(last, rate + "dup=17-64"), figure(last, rate + "dup=2-4"));
  EXPECT_GT(figure(last, rate + "dup=>64"), figure(last, rate + "dup=2-4"));
  EXPECT_GT(figure(last, exposure + "canary_count=64"), figure(last, exposure + "canary_count=1"));
  for (const auto* f : {&first, &last})
    for (const auto& [key, a] : *f)
      if (key.starts_with(rate) || key.starts_with(exposure))
        std::cout << key << " = " << a.value << " (n " << a.n << ")\n";
}

}  // namespace
}  // namespace sg::detectors::memorization
