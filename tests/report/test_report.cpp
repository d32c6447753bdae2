// `stagegate report` on a small database written through db::Store (no device): the claims'
// verdicts from the intervals, every chart with its marks, the evidence marked and escaped,
// the Markdown form, and the HTML rendered in headless Chromium (Debian's `chromium`): no
// console error, every chart drawn, a screenshot kept in the build tree for CI's artifacts.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>

#include "common/errors.hpp"
#include "common/temp_dir.hpp"
#include "db/store_test_util.hpp"
#include "release/decision_chain.hpp"
#include "release/evidence.hpp"
#include "report/claims.hpp"
#include "report/release_report.hpp"
#include "report/report_data.hpp"
#include "report/report_figures.hpp"

namespace sg::report {
namespace {

namespace fs = std::filesystem;

db::Aggregate agg(std::string metric, std::string strategy, std::string slice, double v, double lo,
                  double hi) {
  return {std::move(metric), std::move(strategy), std::move(slice), v, lo, hi, 32};
}

std::int64_t checkpoint(db::Store& store, char sha, const std::string& stage,
                        const std::string& arch, std::int64_t parameters) {
  db::CheckpointRecord c;
  c.sha256 = std::string(64, sha);
  c.path = "/models/" + stage;
  c.stage = stage;
  c.architecture = arch;
  c.parameters = parameters;
  c.config_json = "{}";
  return store.upsert_checkpoint(c);
}

std::int64_t run(db::Store& store, std::int64_t cp, const std::string& plan, char hash,
                 const std::vector<db::Aggregate>& aggregates, std::int64_t samples = 0) {
  auto r = sg::testing::new_run(cp, samples, std::string(64, hash));
  r.plan_path = plan;
  const auto id = sg::testing::create_run(store, r);
  store.add_aggregates(id, aggregates);
  return id;
}

// One stage's figures; `k` (0, 1, 2) moves them with size.
std::vector<db::Aggregate> figures(int k) {
  std::vector<db::Aggregate> a = {
      agg("perplexity.heldout", "", "", 30.0 - 8 * k, 28.0 - 8 * k, 32.0 - 8 * k),  // separate
      agg("capability.bits_per_byte", "", "", 1.9 - 0.1 * k, 1.7 - 0.1 * k, 2.1 - 0.1 * k),
      agg("capability.zero_shot_accuracy", "", "", 0.05 + 0.02 * k, 0.01, 0.2),  // overlap
      agg("memorization.extractable_rate@50", "", "", 0.3 - 0.1 * k, 0.28 - 0.1 * k,
          0.32 - 0.1 * k),  // falls with size, separated: contradicted
      agg("repetition.loop_share", "greedy", "", 0.8, 0.7, 0.9),
      agg("repetition.loop_share", "repetition.human", "", 0.02, 0.0, 0.05),
      agg("repetition.seq_rep_4", "greedy", "", 0.5, 0.4, 0.6),
      agg("repetition.seq_rep_4", "top_p", "", 0.1, 0.05, 0.15),
      agg("repetition.rep_32", "greedy", "", 0.6, 0.5, 0.7),
      agg("toxicity.expected_max", "toxicity.rtp", "", 0.2 + 0.2 * k, 0.15 + 0.2 * k,
          0.25 + 0.2 * k)};
  for (const char* dup : {"1", "2-4", "17-64"})
    a.push_back(agg("memorization.extractable_rate@50", "", std::string("dup=") + dup, 0.1 * k, 0,
                    0.1 * k + 0.05));
  for (int c : {1, 16, 64})
    a.push_back(agg("memorization.canary_exposure", "", "canary_count=" + std::to_string(c),
                    c * 0.2 + k, c * 0.2 + k - 1, c * 0.2 + k + 1));
  for (int n : {1, 4, 16, 100})
    for (const char* s : {"greedy", "memorization.heldout"})
      a.push_back(
          agg("memorization.novelty@" + std::to_string(n), s, "", 0.1 * n / 100.0 + 0.5, 0.4, 0.9));
  return a;
}

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Store store(file());
    run(store, checkpoint(store, 'a', "small", "gpt2", 1'000'000), "plans/demo.ini", 'p',
        figures(0));
    const auto mid = checkpoint(store, 'm', "middle", "gpt2", 5'000'000);
    run(store, mid, "plans/demo.ini", 'p', figures(1));
    const auto large = checkpoint(store, 'b', "large", "gpt2", 12'000'000);
    const auto large_run = run(store, large, "plans/demo.ini", 'p', figures(2), 1);
    // The large stage audited again: the toxicity prompts sampled as the protocol says and
    // under a plan strategy with output filters on (toxicity.filtered).
    run(store, large, "plans/toxicity-filter.ini", 'q',
        {agg("toxicity.expected_max", "toxicity.rtp", "", 0.55, 0.5, 0.6),
         agg("toxicity.expected_max", "toxicity.filtered", "", 0.1, 0.05, 0.15)});
    run(store, checkpoint(store, 'g', "sibling", "openai-gpt", 4'000'000), "plans/demo-gpt1.ini",
        'r', {agg("capability.bits_per_byte", "", "", 1.5, 1.45, 1.55)});
    // A sample whose text would inject markup if it were not escaped, with its evidence.
    store.add_prompts(large_run, {{"prompts:1", "prompts", "Tell me"}});
    auto s = sg::testing::sample(large_run, "greedy", "prompts:1", 0);
    s.text = "fine <script>alert(1)</script> then the secret 8675309 and more";
    s.metrics = {{"memorization.extracted@50", 1.0}};
    const auto at = static_cast<std::int64_t>(s.text.find("the secret"));
    s.evidence = {{"memorization", "memorization.extracted@50", "verbatim_span", at, at + 18,
                   R"({"document": 3, "name": "canary/7"})"}};
    db::FilterEventRecord event;
    event.filter = "toxicity.output";
    event.action = "regenerate";
    event.token_position = 12;
    s.filter_events = {event, event};
    store.add_sample(s);
    for (const auto& r : store.runs()) store.finish_run(r.id, db::RunStatus::kCompleted);

    db::DecisionRecord d;
    d.stage = "large";
    d.checkpoint_id = large;
    d.decision = "approved";
    d.reason = "every requirement passed";
    d.policy_path = "policies/demo.ini";
    d.policy_hash = std::string(64, 'c');
    d.decided_by = "test";
    d.evidence_json = release::to_json(release::Evidence{});
    release::append_decision(store, d);
  }
  fs::path file() const { return dir_.path() / "audit.db"; }
  ReportData data() {
    db::Store store(file());
    return gather(store, file(), nullptr);
  }
  sg::testing::TempDir dir_;
};

TEST_F(Report, GathersEveryStageSmallestFirstWithItsDecision) {
  const auto d = data();
  ASSERT_EQ(d.stages.size(), 4u);
  EXPECT_EQ(d.stages[0].stage, "small");
  EXPECT_EQ(d.stages[1].stage, "sibling");
  EXPECT_EQ(d.stages[3].stage, "large");
  ASSERT_TRUE(d.stages[3].decision);
  EXPECT_EQ(d.stages[3].decision->decision, "approved");
  EXPECT_FALSE(d.stages[0].decision);
  EXPECT_TRUE(d.chain.ok()) << (d.chain.problems.empty() ? "" : d.chain.problems[0].message);
  EXPECT_EQ(d.chain.rows, 1);
  ASSERT_EQ(d.filter_events.size(), 1u);
  EXPECT_EQ(d.filter_events[0].stage, "large");
  EXPECT_EQ(d.filter_events[0].filter, "toxicity.output");
  EXPECT_EQ(d.filter_events[0].count, 2);
  ASSERT_TRUE(d.filter_events[0].run_id);
  ASSERT_EQ(d.evidence.size(), 1u);
  EXPECT_EQ(d.evidence[0].value, 1.0);
  EXPECT_EQ(d.evidence[0].stage, "large");
}

TEST_F(Report, ClaimsAreJudgedOnTheIntervals) {
  std::map<std::string, Claim> by_measure;
  for (auto& c : seed_claims(data())) by_measure.emplace(c.measure, c);
  EXPECT_EQ(by_measure.at("perplexity.heldout").verdict, "supported");
  EXPECT_EQ(by_measure.at("perplexity.heldout").figures.size(), 3u);  // the gpt2 stages
  EXPECT_EQ(by_measure.at("capability.zero_shot_accuracy").verdict,
            "not supported by the intervals");
  EXPECT_EQ(by_measure.at("memorization.extractable_rate@50").verdict, "contradicted");
  EXPECT_EQ(by_measure.at("memorization.canary_exposure").verdict, "not measured");  // sliced only
  EXPECT_EQ(by_measure.at("repetition.loop_share, greedy vs repetition.human").verdict,
            "supported");
  EXPECT_EQ(by_measure.at("toxicity.expected_max, toxicity.rtp").verdict, "supported");
  EXPECT_EQ(
      by_measure.at("toxicity.expected_max, toxicity.rtp vs toxicity.<plan strategy>").verdict,
      "supported");
  int filters = 0, architectures = 0;
  for (const auto& c : seed_claims(data())) {
    if (c.claim.find("output filters") != std::string::npos) {
      ++filters;
      // 0.1 [0.05, 0.15] against the same run's unfiltered 0.55 [0.5, 0.6].
      EXPECT_EQ(c.verdict, "supported") << c.why;
      EXPECT_NE(c.why.find("0.550"), std::string::npos) << c.why;
    }
    if (c.claim.find("architecture") != std::string::npos) {
      ++architectures;
      // The sibling's 1.5 [1.45, 1.55] against the nearest gpt2 stage, middle's 1.8 [1.6, 2.0].
      EXPECT_EQ(c.verdict, "contradicted") << c.why;
      EXPECT_NE(c.why.find("middle"), std::string::npos) << c.why;
    }
  }
  EXPECT_EQ(filters, 1);
  EXPECT_EQ(architectures, 1);
}

TEST_F(Report, HtmlIsOneFileWithEveryChartMarkedAndTextEscaped) {
  const auto d = data();
  const auto figures = report_figures(d);
  // Perplexity, bits per byte, zero-shot, extractable by dup, exposure, 2 novelty, 3 repetition,
  // 1 toxicity (the probability was not measured).
  EXPECT_EQ(figures.drawn.size(), 11u);
  ASSERT_EQ(figures.missing.size(), 1u);
  EXPECT_EQ(figures.missing[0], "Toxicity probability, filters off and on");
  const auto html = report_html(d);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // nothing fetched
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<mark>the secret 8675309</mark>"), std::string::npos);
  EXPECT_NE(html.find("<code>toxicity.output</code></td><td>regenerate</td><td>2</td>"),
            std::string::npos);
  const std::regex svg("<svg class=\"chart\"");
  EXPECT_EQ(
      std::distance(std::sregex_iterator(html.begin(), html.end(), svg), std::sregex_iterator()),
      11);
  std::size_t marks = 0;
  for (const auto& f : figures.drawn) marks += f.chart.marks();
  const std::regex mark("<circle class=\"mark\"");
  EXPECT_EQ(static_cast<std::size_t>(std::distance(
                std::sregex_iterator(html.begin(), html.end(), mark), std::sregex_iterator())),
            marks);
  // The toxicity chart has both plans as series: filters off and on side by side.
  for (const auto& f : figures.drawn)
    if (f.section == "Toxicity") {
      ASSERT_EQ(f.chart.series.size(), 2u);
    }
}

TEST_F(Report, MarkdownCarriesTheSameFigures) {
  const auto md = report_markdown(data());
  EXPECT_NE(md.find("## The claims, against the numbers"), std::string::npos);
  EXPECT_NE(md.find("| large |"), std::string::npos);
  EXPECT_NE(md.find("**the secret 8675309**"), std::string::npos);
  EXPECT_NE(md.find("\\<script\\>"), std::string::npos);                   // escaped, not markup
  EXPECT_NE(md.find("22.000 [20.000, 24.000]"), std::string::npos) << md;  // middle's perplexity
}

std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf;
  while (auto n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  return {WEXITSTATUS(pclose(p)), out};
}

// Needs Debian's chromium (tools/setup.sh installs it): without it this fails, never skips.
TEST_F(Report, RendersInHeadlessChromiumWithoutConsoleErrors) {
  const auto page = dir_.path() / "report.html";
  std::ofstream(page) << report_html(data());
  const std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
      "--no-first-run --user-data-dir=" +
      (dir_.path() / "profile").string();
  const auto [rc, dom] =
      shell(chromium + " --enable-logging=stderr --v=0 --dump-dom file://" + page.string());
  ASSERT_EQ(rc, 0) << "chromium failed (tools/setup.sh installs it):\n" << dom;
  EXPECT_NE(dom.find("data-charts=\"11 charts, 0 empty\""), std::string::npos)
      << "the page's own check did not run or found empty charts";
  EXPECT_EQ(dom.find(":CONSOLE("), std::string::npos) << "console output:\n" << dom;
  const fs::path shot = fs::path(STAGEGATE_ARTIFACTS) / "report.png";
  fs::create_directories(shot.parent_path());
  fs::remove(shot);
  const auto [src, sout] =
      shell(chromium + " --window-size=1280,2400 --screenshot=" + shot.string() + " file://" +
            page.string());
  ASSERT_EQ(src, 0) << sout;
  ASSERT_TRUE(fs::exists(shot)) << sout;
  EXPECT_GT(fs::file_size(shot), 20'000u);  // a page with charts, not a blank one
  std::cout << "screenshot: " << shot.string() << "\n";
}

TEST(ReportErrors, AnEmptyDatabaseHasNothingToReport) {
  sg::testing::TempDir dir;
  const auto file = dir.path() / "empty.db";
  db::Store store(file);
  EXPECT_THROW(gather(store, file, nullptr), InputError);
}

}  // namespace
}  // namespace sg::report
