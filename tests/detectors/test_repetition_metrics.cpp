// The repetition metrics against hand-worked examples and against
// tools/repetition_reference.py's values on random sequences
// (tests/fixtures/repetition/reference.json); the self-reinforcement curve; the human
// continuations of prompts read from a zstd corpus.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/errors.hpp"
#include "plan_files.hpp"
#include "repetition/human.hpp"
#include "repetition/metrics.hpp"
#include "repetition/self_reinforcement.hpp"

namespace sg::detectors::repetition {
namespace {

namespace fs = std::filesystem;
using Tokens = std::vector<std::int32_t>;

TEST(RepetitionMetrics, SeqRepCountsRepeatedNgramsWithinASample) {
  const Tokens t{1, 2, 1, 2, 1};  // bigrams 12 21 12 21; trigrams 121 212 121; 4-grams 1212 2121
  EXPECT_DOUBLE_EQ(seq_rep(t, 2), 0.5);
  EXPECT_DOUBLE_EQ(seq_rep(t, 3), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(seq_rep(t, 4), 0.0);
  EXPECT_DOUBLE_EQ(seq_rep(Tokens{1, 2, 3}, 4), 0.0);  // fewer than n tokens
  EXPECT_DOUBLE_EQ(seq_rep(Tokens{}, 2), 0.0);
  EXPECT_DOUBLE_EQ(seq_rep(Tokens{4, 4, 4, 4}, 2), 2.0 / 3.0);
}

TEST(RepetitionMetrics, RepLooksBackAWindowOfTokens) {
  const Tokens t{5, 6, 5, 7, 6};  // positions 1..4 are judged
  EXPECT_DOUBLE_EQ(rep_window(t, 1), 0.0);
  EXPECT_DOUBLE_EQ(rep_window(t, 2), 0.25);  // the 5 at 2 (5 at 0)
  EXPECT_DOUBLE_EQ(rep_window(t, 3), 0.5);   // and the 6 at 4 (6 at 1)
  EXPECT_DOUBLE_EQ(rep_window(Tokens{9}, 16), 0.0);
  EXPECT_DOUBLE_EQ(rep_window(Tokens{9, 9, 9}, 16), 1.0);
}

TEST(RepetitionMetrics, ZlibRatioIsCompressedOverRawSize) {
  EXPECT_FALSE(zlib_ratio(""));
  EXPECT_DOUBLE_EQ(*zlib_ratio("a"), 9.0);  // header, one literal, checksum
  EXPECT_DOUBLE_EQ(*zlib_ratio(std::string(1000, 'a')), 17.0 / 1000.0);
}

TEST(RepetitionMetrics, LoopFiguresOfASample) {
  Tokens t{9, 8, 7};
  for (int i = 0; i < 6; ++i) t.insert(t.end(), {1, 2, 3, 4});
  const auto f = sample_figures(t, "text");
  ASSERT_TRUE(f.loop);
  EXPECT_EQ(f.loop->period, 4);
  EXPECT_EQ(f.loop_start, 3);
  EXPECT_DOUBLE_EQ(f.loop_fraction, 24.0 / 27.0);

  t.push_back(99);  // the loop stopped
  const auto g = sample_figures(t, "text");
  EXPECT_FALSE(g.loop);
  EXPECT_EQ(g.loop_fraction, 0.0);
}

TEST(RepetitionMetrics, DistinctNgramsAcrossSamplesNeverCrossASample) {
  const std::vector<Tokens> s{{1, 2, 3}, {1, 2}};
  EXPECT_DOUBLE_EQ(distinct_n(s, 1), 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(distinct_n(s, 2), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(distinct_n(s, 3), 1.0);  // (1,2,3) only: none across the boundary
  EXPECT_DOUBLE_EQ(distinct_n(std::vector<Tokens>{{1}}, 2), 0.0);
}

TEST(RepetitionMetrics, MatchThePythonReferenceOnRandomSequences) {
  std::ifstream in(fs::path(STAGEGATE_FIXTURES) / "repetition" / "reference.json");
  ASSERT_TRUE(in) << "missing fixture: run tools/repetition_reference.py";
  const auto ref = nlohmann::json::parse(in);
  const auto& cases = ref.at("cases");
  ASSERT_GE(cases.size(), 60u);
  int loops = 0, compared = 0;
  std::vector<Tokens> all;
  for (const auto& c : cases) {
    const auto tokens = c.at("tokens").get<Tokens>();
    const auto text = c.at("text").get<std::string>();
    SCOPED_TRACE(c.at("tokens").dump().substr(0, 80));
    const auto f = sample_figures(tokens, text);
    EXPECT_NEAR(f.seq_rep_2, c.at("seq_rep_2").get<double>(), 1e-12);
    EXPECT_NEAR(f.seq_rep_3, c.at("seq_rep_3").get<double>(), 1e-12);
    EXPECT_NEAR(f.seq_rep_4, c.at("seq_rep_4").get<double>(), 1e-12);
    EXPECT_NEAR(f.rep_16, c.at("rep_16").get<double>(), 1e-12);
    EXPECT_NEAR(f.rep_32, c.at("rep_32").get<double>(), 1e-12);
    EXPECT_NEAR(f.rep_128, c.at("rep_128").get<double>(), 1e-12);
    if (c.at("zlib_ratio").is_null()) {
      EXPECT_FALSE(f.zlib_ratio);
    } else {
      ASSERT_TRUE(f.zlib_ratio);
      EXPECT_NEAR(*f.zlib_ratio, c.at("zlib_ratio").get<double>(), 1e-12);
    }
    if (c.at("loop").is_null()) {
      EXPECT_FALSE(f.loop);
    } else {
      ASSERT_TRUE(f.loop);
      EXPECT_EQ(f.loop->period, c.at("loop").at("period").get<int>());
      EXPECT_EQ(f.loop_start, c.at("loop").at("start").get<int>());
      ++loops;
    }
    EXPECT_NEAR(f.loop_fraction, c.at("loop_fraction").get<double>(), 1e-12);
    all.push_back(tokens);
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(cases.size()));
  EXPECT_GE(loops, 10);  // the loop cases are there, not only loop-free ones
  for (int n = 1; n <= 3; ++n)
    EXPECT_NEAR(distinct_n(all, n), ref.at("distinct").at(std::to_string(n)).get<double>(), 1e-12);
}

TEST(SelfReinforcement, RepeatedTextIsOneLinePerCopy) {
  EXPECT_EQ(repeated_text("  Jesus wept. \n", 3), "Jesus wept.\nJesus wept.\nJesus wept.\n");
}

TEST(SelfReinforcement, CurveIsTheMeanProbabilityOfEachCopy) {
  const Tokens t{1, 2, 1, 2, 1, 2};
  const std::vector<double> lp{std::log(0.5), std::log(0.1), std::log(0.2), std::log(0.3),
                               std::log(0.4)};
  const auto curve = reinforcement_curve(t, lp, 3);
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_NEAR(curve[0], 0.5, 1e-12);  // copy 1 without its first token
  EXPECT_NEAR(curve[1], 0.15, 1e-12);
  EXPECT_NEAR(curve[2], 0.35, 1e-12);
  EXPECT_TRUE(reinforcement_curve(Tokens{1, 2, 1, 3, 1, 2}, lp, 3).empty());  // unequal copies
  EXPECT_TRUE(reinforcement_curve(t, lp, 4).empty());                         // 6 % 4 != 0
  EXPECT_TRUE(reinforcement_curve(t, std::vector<double>(3), 3).empty());     // lp count
}

class Human : public ::testing::Test {
 protected:
  testing::PlanDir dir;
  const fs::path corpus = fs::path(STAGEGATE_FIXTURES) / "repetition" / "corpus.jsonl.zst";
  TextFile prompts(const std::string& jsonl) {
    return read_text_jsonl(dir.write("prompts.jsonl", jsonl));
  }
};

TEST_F(Human, ContinuationIsWhatFollowsThePromptInItsDocument) {
  const auto p = prompts(
      "{\"id\": \"a\", \"text\": \"Blessed are the meek:\"}\n"
      "{\"id\": 7, \"text\": \"Vanity of\"}\n");
  const auto h = human_continuations(p, dir.path() / "prompts.jsonl", corpus, 1000);
  ASSERT_EQ(h.texts.size(), 2u);
  EXPECT_EQ(h.texts[0].text, " for they shall inherit the earth.");
  EXPECT_FALSE(h.texts[0].cut);
  EXPECT_EQ(h.texts[0].origin, corpus.string() + ":1");
  EXPECT_EQ(h.texts[1].text, " vanities, saith the Preacher.");
  EXPECT_EQ(h.corpus_sha256.size(), 64u);

  const auto cut = human_continuations(p, dir.path() / "prompts.jsonl", corpus, 12);
  EXPECT_EQ(cut.texts[0].text, " for they");  // at the last blank within 12 bytes
  EXPECT_TRUE(cut.texts[0].cut);
}

TEST_F(Human, RefusesPromptsWithoutTheirDocument) {
  auto expect_error = [&](const std::string& jsonl, const std::string& part) {
    const auto p = prompts(jsonl);
    try {
      human_continuations(p, dir.path() / "prompts.jsonl", corpus, 1000);
      ADD_FAILURE() << "accepted " << jsonl;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_error("{\"id\": \"zz\", \"text\": \"Blessed\"}\n",
               "prompts.jsonl:1: prompt 'zz': no document");
  expect_error("{\"id\": \"a\", \"text\": \"Cursed\"}\n", "does not begin with the prompt");
  expect_error("{\"id\": 7, \"text\": \"Vanity of vanities, saith the Preacher.\"}\n",
               "nothing after the prompt");
  const auto p = prompts("{\"id\": \"a\", \"text\": \"Blessed\"}\n");
  const auto bad = dir.write("bad.jsonl.zst", "not zstd at all");
  EXPECT_THROW(human_continuations(p, dir.path() / "prompts.jsonl", bad, 1000), InputError);
}

}  // namespace
}  // namespace sg::detectors::repetition
