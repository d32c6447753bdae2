// `stagegate repetition` as a user meets it: hand-worked figures for ids and text, JSON lines
// in and out, and errors that name the line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/run_command.hpp"

namespace sg::testing {
namespace {

using nlohmann::json;

const std::string kStage1 = std::string(STAGEGATE_SOURCE_DIR) + "/models/demo/stage1";

std::vector<json> json_lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

TEST(RepetitionCli, IdsGiveTheHandWorkedFiguresInTheDocumentedOrder) {
  // bigrams 12 23 31 12 23: 3 of 5 unique; trigrams 123 231 312 123: 3 of 4; positions 3..5
  // repeat a token of the 16 before them, 1 and 2 do not.
  const auto r =
      run_stagegate({"repetition", "--model", kStage1, "--ids", "1,2,3,1,2,3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::ordered_json::parse(r.out);  // keeps the printed order
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"seq_rep_2", "seq_rep_3", "seq_rep_4", "rep_16",
                                            "rep_32", "rep_128", "zlib_ratio", "loop"}));
  EXPECT_DOUBLE_EQ(j["seq_rep_2"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(j["seq_rep_3"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(j["seq_rep_4"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["rep_16"].get<double>(), 0.6);
  EXPECT_TRUE(j["zlib_ratio"].is_number());
  EXPECT_TRUE(j["loop"].is_null());
}

TEST(RepetitionCli, JsonLinesOfTextsAndIdsOneLineEach) {
  const auto r = run_stagegate(
      {"repetition", "--model", kStage1, "--input", "-", "--json"},
      "{\"tokens\": [5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5]}\n\n{\"text\": \"\"}\n"
      "{\"text\": \"" +
          [] {
            std::string t;
            for (int i = 0; i < 12; ++i) t += " the LORD";
            return t;
          }() +
          "\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = json_lines(r.out);
  ASSERT_EQ(out.size(), 3u);  // the blank line is skipped
  EXPECT_EQ(out[0]["loop"], (json{{"period", 1}, {"start", 0}}));
  EXPECT_DOUBLE_EQ(out[0]["rep_16"].get<double>(), 1.0);
  EXPECT_TRUE(out[1]["zlib_ratio"].is_null());  // an empty text has no ratio
  EXPECT_EQ(out[1]["seq_rep_2"], 0.0);
  EXPECT_LT(out[2]["zlib_ratio"].get<double>(), 0.5);  // twelve copies compress well
  EXPECT_GT(out[2]["seq_rep_2"].get<double>(), 0.5);
}

TEST(RepetitionCli, TextWithoutJsonIsOneReadableLine) {
  const auto r = run_stagegate({"repetition", "--model", kStage1, "--text", "Jesus wept."});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("seq_rep_2 0  seq_rep_3 0", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("loop none"), std::string::npos) << r.out;
}

TEST(RepetitionCli, BadInputNamesTheLineAndBadUsageIsRefused) {
  auto r = run_stagegate({"repetition", "--model", kStage1, "--input", "-"},
                         "{\"text\": \"fine\"}\n{\"words\": 3}\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("<stdin>:2:"), std::string::npos) << r.err;
  r = run_stagegate({"repetition", "--model", kStage1, "--input", "-"}, "not json\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("<stdin>:1: not valid JSON"), std::string::npos) << r.err;
  r = run_stagegate({"repetition", "--model", kStage1, "--text", "a", "--ids", "1"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_stagegate({"repetition", "--model", kStage1, "--ids", "1,99999"});
  EXPECT_EQ(r.exit_code, 3);  // outside the vocabulary
}

}  // namespace
}  // namespace sg::testing
