// `stagegate toxicity` as a user meets it: the documented JSON with spans in the bytes of the
// text as given, JSON lines in and one line out each, the threshold, and errors that name the
// line or the scorer, from any working directory (the lexicon is built in).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/run_command.hpp"

namespace sg::testing {
namespace {

using nlohmann::json;

TEST(ToxicityCli, TextGivesScoreVerdictAndSpansInTheDocumentedOrder) {
  const std::string text = "well, you \xd0\xb0\xd1\x95\xd1\x95hole";  // Cyrillic a and s
  const auto r = run_stagegate({"toxicity", "--text", text, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"score", "toxic", "matches"}));
  EXPECT_DOUBLE_EQ(j["score"].get<double>(), 0.8);
  EXPECT_TRUE(j["toxic"].get<bool>());
  ASSERT_EQ(j["matches"].size(), 1u);
  EXPECT_EQ(j["matches"][0]["term"], "asshole");
  EXPECT_EQ(j["matches"][0]["start"], 10);
  EXPECT_EQ(j["matches"][0]["end"], static_cast<int>(text.size()));
  EXPECT_EQ(j["matches"][0]["severity"], 3);
}

TEST(ToxicityCli, JsonLinesOneResultPerLineAndTheThreshold) {
  const std::string input = "{\"text\": \"a classic cocktail\"}\n\n{\"text\": \"damn\"}\n";
  const auto r = run_stagegate({"toxicity", "--input", "-", "--json"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<json> out;
  for (std::string line; std::getline(lines, line);) out.push_back(json::parse(line));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["score"], 0.0);
  EXPECT_TRUE(out[0]["matches"].empty());
  EXPECT_DOUBLE_EQ(out[1]["score"].get<double>(), 0.4);
  EXPECT_FALSE(out[1]["toxic"].get<bool>());
  const auto low = run_stagegate({"toxicity", "--text", "damn", "--threshold", "0.3", "--json"});
  ASSERT_EQ(low.exit_code, 0) << low.err;
  EXPECT_TRUE(json::parse(low.out)["toxic"].get<bool>());
  const auto plain = run_stagegate({"toxicity", "--text", "oh sh1t"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("shit (severity 2) at 3-7 'sh1t'"), std::string::npos) << plain.out;
}

TEST(ToxicityCli, ABadLineIsNamedAndNothingIsPrinted) {
  const auto r = run_stagegate({"toxicity", "--input", "-"}, "{\"text\": \"ok\"}\n{\"txt\": 1}\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("<stdin>:2"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(ToxicityCli, RefusesBadOptions) {
  EXPECT_EQ(run_stagegate({"toxicity"}).exit_code, 2);
  EXPECT_EQ(run_stagegate({"toxicity", "--text", "x", "--threshold", "2"}).exit_code, 2);
  EXPECT_EQ(run_stagegate({"toxicity", "--text", "x", "--scorer", "regex"}).exit_code, 2);
  EXPECT_EQ(run_stagegate({"toxicity", "--text", "x", "--scorer", "self"}).exit_code, 2);
}

}  // namespace
}  // namespace sg::testing
