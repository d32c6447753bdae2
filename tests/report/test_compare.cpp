// `stagegate compare` (and `report`'s command line): which runs count for a stage, that every
// number is the store's own, differences and interval separation, one row per plan where a
// stage has two, and errors.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/temp_dir.hpp"
#include "db/store_test_util.hpp"
#include "model/checkpoint.hpp"
#include "model/checkpoint_facts.hpp"
#include "report/compare.hpp"
#include "report/compare_format.hpp"

namespace sg::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sg::testing::add_checkpoint;
using sg::testing::new_run;

db::Aggregate agg(std::string metric, std::string strategy, double v, double lo, double hi,
                  std::int64_t n = 32) {
  return {std::move(metric), std::move(strategy), "", v, lo, hi, n};
}

std::int64_t completed_run(db::Store& store, std::int64_t checkpoint, const std::string& plan,
                           char plan_hash, const std::vector<db::Aggregate>& aggregates,
                           db::RunStatus status = db::RunStatus::kCompleted) {
  auto r = new_run(checkpoint, 0, std::string(64, plan_hash));
  r.plan_path = plan;
  const auto id = sg::testing::create_run(store, r);
  store.add_aggregates(id, aggregates);
  store.finish_run(id, status);
  return id;
}

class Compare : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Store store(file());
    const auto small = add_checkpoint(store, 'a', "small");
    const auto large = add_checkpoint(store, 'b', "large");
    // An older run of the small stage's plan: the newer one counts.
    completed_run(store, small, "plans/demo.ini", 'p',
                  {agg("capability.bits_per_byte", "", 9.0, 8.0, 10.0)});
    small_run_ = completed_run(store, small, "plans/demo.ini", 'p',
                               {agg("capability.bits_per_byte", "", 1.8, 1.7, 1.9),
                                agg("toxicity.expected_max", "toxicity.rtp", 0.2, 0.1, 0.3, 24),
                                agg("sample.tokens", "greedy", 100, 90, 110, 64)});
    large_run_ = completed_run(store, large, "plans/demo.ini", 'p',
                               {agg("capability.bits_per_byte", "", 1.5, 1.4, 1.6),
                                agg("toxicity.expected_max", "toxicity.rtp", 0.25, 0.15, 0.35, 24),
                                agg("memorization.canary_exposure", "", 20.5, 19, 22)});
    // The large stage audited again with its output filters on: another plan.
    filtered_run_ =
        completed_run(store, large, "plans/toxicity-filter.ini", 'q',
                      {agg("toxicity.expected_max", "toxicity.rtp", 0.05, 0.02, 0.08, 24)});
    // Unfinished runs never count.
    completed_run(store, small, "plans/demo.ini", 'r',
                  {agg("capability.bits_per_byte", "", 5.0, 4.0, 6.0)},
                  db::RunStatus::kInterrupted);
  }
  fs::path file() const { return dir_.path() / "audit.db"; }

  const ComparedRow& row(const Comparison& c, const std::string& metric,
                         const std::string& plan = "") {
    for (const auto& r : c.rows)
      if (r.metric == metric && r.plan == plan) return r;
    throw std::runtime_error("no row " + metric + " " + plan);
  }

  sg::testing::TempDir dir_;
  std::int64_t small_run_ = 0, large_run_ = 0, filtered_run_ = 0;
};

TEST_F(Compare, EachStagesLatestCompletedRunPerPlanSideBySide) {
  db::Store store(file());
  const auto c = compare(store, {{"small", "small", ""}, {"large", "large", ""}});
  ASSERT_EQ(c.columns.size(), 2u);
  ASSERT_EQ(c.columns[0].runs.size(), 1u);
  EXPECT_EQ(c.columns[0].runs[0].run_id, small_run_);
  ASSERT_EQ(c.columns[1].runs.size(), 2u);
  EXPECT_EQ(c.columns[1].runs[0].run_id, filtered_run_);  // newest first
  EXPECT_EQ(c.columns[1].checkpoint_sha256, std::string(64, 'b'));

  const auto& bpb = row(c, "capability.bits_per_byte");
  EXPECT_EQ(bpb.group, "capability");
  EXPECT_EQ(bpb.values[0]->value, 1.8);  // the store's numbers, exactly
  EXPECT_EQ(bpb.values[0]->run_id, small_run_);
  EXPECT_EQ(*bpb.values[1]->ci_high, 1.6);
  EXPECT_FALSE(bpb.differences[0]);
  EXPECT_DOUBLE_EQ(bpb.differences[1]->difference, 1.5 - 1.8);
  EXPECT_TRUE(bpb.differences[1]->separated);  // [1.4, 1.6] vs [1.7, 1.9]

  // The large stage has the toxicity figure from two plans: one row each, never merged.
  EXPECT_THROW(row(c, "toxicity.expected_max"), std::runtime_error);
  const auto& unfiltered = row(c, "toxicity.expected_max", "demo.ini");
  EXPECT_EQ(unfiltered.group, "risk");
  EXPECT_EQ(unfiltered.values[0]->value, 0.2);
  EXPECT_EQ(unfiltered.values[1]->value, 0.25);
  EXPECT_FALSE(unfiltered.differences[1]->separated);  // overlapping intervals
  EXPECT_TRUE(unfiltered.differences[1]->intervals);
  const auto& filtered = row(c, "toxicity.expected_max", "toxicity-filter.ini");
  EXPECT_FALSE(filtered.values[0]);  // the small stage has no filtered audit
  EXPECT_EQ(filtered.values[1]->value, 0.05);
  EXPECT_FALSE(filtered.differences[1]);

  // A figure only one stage has: shown, with no difference.
  const auto& exposure = row(c, "memorization.canary_exposure");
  EXPECT_FALSE(exposure.values[0]);
  EXPECT_FALSE(exposure.differences[1]);
  // Groups in order: capability, risk, samples.
  EXPECT_EQ(c.rows.front().group, "capability");
  EXPECT_EQ(c.rows.back().group, "samples");
}

TEST_F(Compare, APlanFilterLeavesOneRowPerFigure) {
  db::Store store(file());
  CompareOptions only;
  only.plans = {"demo.ini"};
  const auto c = compare(store, {{"small", "small", ""}, {"large", "large", ""}}, only);
  ASSERT_EQ(c.columns[1].runs.size(), 1u);
  EXPECT_EQ(c.columns[1].runs[0].run_id, large_run_);
  EXPECT_EQ(row(c, "toxicity.expected_max").values[1]->value, 0.25);
  only.metrics = {"capability.", "sample."};
  const auto some = compare(store, {{"small", "small", ""}, {"large", "large", ""}}, only);
  ASSERT_EQ(some.rows.size(), 2u);
  EXPECT_EQ(some.rows[0].metric, "capability.bits_per_byte");
  EXPECT_EQ(some.rows[1].metric, "sample.tokens");
}

TEST_F(Compare, ErrorsNameWhatIsMissing) {
  db::Store store(file());
  try {
    compare(store, {{"small", "small", ""}, {"huge", "huge", ""}});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "stage 'huge': no completed audit run in the database; stages with completed "
                 "runs: large small");
  }
  EXPECT_THROW(compare(store, {}), InputError);
  CompareOptions only;
  only.plans = {"toxicity-filter.ini"};
  EXPECT_THROW(compare(store, {{"small", "small", ""}, {"large", "large", ""}}, only), InputError);
}

TEST_F(Compare, TableAndJsonCarryTheSameNumbers) {
  db::Store store(file());
  const auto c = compare(store, {{"small", "small", ""}, {"large", "large", ""}});
  const auto table = comparison_table(c);
  EXPECT_NE(table.find("capability\n"), std::string::npos);
  EXPECT_NE(table.find("1.800 [1.700, 1.900]"), std::string::npos) << table;
  EXPECT_NE(table.find("-0.300 *"), std::string::npos) << table;
  EXPECT_NE(table.find("toxicity.expected_max toxicity.rtp (toxicity-filter.ini)"),
            std::string::npos);
  const auto j = json::parse(comparison_json(c));
  ASSERT_EQ(j["rows"].size(), c.rows.size());
  for (std::size_t i = 0; i < c.rows.size(); ++i)
    for (std::size_t k = 0; k < 2; ++k)
      if (c.rows[i].values[k])
        EXPECT_EQ(j["rows"][i]["values"][k]["value"].get<double>(), c.rows[i].values[k]->value);
      else
        EXPECT_TRUE(j["rows"][i]["values"][k].is_null());
}

// Through the command line: --model finds a checkpoint by its weights, and --json carries the
// store's doubles to the last bit.
TEST_F(Compare, CommandLineByModelDirectory) {
  const auto demo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";
  const auto stage1 = demo / "stage1", stage2 = demo / "stage2";
  {
    db::Store store(file());
    double value = 1.0 / 3.0;
    for (const auto& dir : {stage1, stage2}) {
      db::CheckpointRecord rec;
      rec.sha256 = model::checkpoint_facts(model::Checkpoint::open(dir)).sha256;
      rec.path = dir.string();
      rec.stage = dir.filename().string();
      rec.architecture = "gpt2";
      rec.config_json = "{}";
      completed_run(store, store.upsert_checkpoint(rec), "plans/demo.ini", 'p',
                    {agg("capability.bits_per_byte", "", value, 0.3, 0.4)});
      value = 2.0 / 7.0;
    }
  }
  auto run = [&](const std::string& args) {
    std::string out;
    const std::string cmd =
        std::string(STAGEGATE_BINARY) + " compare --db " + file().string() + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    while (auto n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    const int status = pclose(p);
    return std::make_pair(WEXITSTATUS(status), out);
  };
  const auto [rc, out] =
      run("--model " + stage1.string() + " --model " + stage2.string() + " --json");
  ASSERT_EQ(rc, 0) << out;
  const auto j = json::parse(out);
  EXPECT_EQ(j["columns"][0]["stage"], "stage1");
  EXPECT_EQ(j["rows"][0]["metric"], "capability.bits_per_byte");
  EXPECT_EQ(j["rows"][0]["values"][0]["value"].get<double>(), 1.0 / 3.0);
  EXPECT_EQ(j["rows"][0]["values"][1]["value"].get<double>(), 2.0 / 7.0);
  const auto [rc2, out2] = run("--stage small");
  EXPECT_EQ(rc2, 2) << out2;
  EXPECT_NE(out2.find("at least two"), std::string::npos) << out2;
  // The baseline is the first named: --stage and --model together would leave it unclear.
  const auto [rc3, out3] = run("--stage small --model " + stage1.string());
  EXPECT_EQ(rc3, 2) << out3;
}

// `stagegate report` writes the whole file or nothing, and names what it cannot read or write.
TEST_F(Compare, ReportCommandWritesOneWholeFileOrNothing) {
  auto run = [&](const std::string& args) {
    std::string out;
    FILE* p = popen((std::string(STAGEGATE_BINARY) + " report " + args + " 2>&1").c_str(), "r");
    std::array<char, 4096> buf;
    while (auto n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    return std::make_pair(WEXITSTATUS(pclose(p)), out);
  };
  const auto html = dir_.path() / "report.html";
  const auto [rc, out] = run("--db " + file().string() + " --out " + html.string());
  ASSERT_EQ(rc, 0) << out;
  std::ifstream in(html);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "<!DOCTYPE html>");
  EXPECT_FALSE(fs::exists(html.string() + ".partial"));
  const auto md = dir_.path() / "report.md";
  EXPECT_EQ(run("--db " + file().string() + " --out " + md.string() + " --format md").first, 0);
  EXPECT_TRUE(fs::exists(md));

  const auto [rc2, out2] =
      run("--db " + file().string() + " --out " + md.string() + " --format pdf");
  EXPECT_EQ(rc2, 2);
  EXPECT_NE(out2.find("--format must be html or md"), std::string::npos) << out2;
  const auto [rc3, out3] =
      run("--db " + (dir_.path() / "none.db").string() + " --out " + html.string());
  EXPECT_EQ(rc3, 3);
  EXPECT_NE(out3.find("none.db: no such database"), std::string::npos) << out3;
  const auto nowhere = dir_.path() / "no-such-dir" / "report.html";
  const auto [rc4, out4] = run("--db " + file().string() + " --out " + nowhere.string());
  EXPECT_EQ(rc4, 3);
  EXPECT_NE(out4.find(nowhere.string() + ": cannot be written"), std::string::npos) << out4;
  EXPECT_FALSE(fs::exists(nowhere));
}

}  // namespace
}  // namespace sg::report
