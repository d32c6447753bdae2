// The command line as a user meets it: output formats, error messages and exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_command.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kGpt2 = std::string(STAGEGATE_FIXTURES) + "/models/gpt2-f32";
const std::string kGpt1 = std::string(STAGEGATE_FIXTURES) + "/models/openai-gpt-f32";

TEST(Cli, VersionNamesTheCommit) {
  auto r = run_stagegate({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("stagegate 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("commit "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("commit unknown"), std::string::npos) << "built outside git? " << r.out;
}

TEST(Cli, UnknownCommandAndFlagAreUsageErrors) {
  EXPECT_EQ(run_stagegate({"frobnicate"}).exit_code, 2);
  auto r = run_stagegate({"score", "--model", kGpt2, "--ids", "1,2", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bogus"), std::string::npos) << r.err;
  auto bad_value = run_stagegate({"generate", "--model", kGpt2, "--ids", "1", "--top-p", "2"});
  EXPECT_EQ(bad_value.exit_code, 2);
  EXPECT_NE(bad_value.err.find("--top-p"), std::string::npos) << bad_value.err;
  auto not_a_number =
      run_stagegate({"generate", "--model", kGpt2, "--ids", "1", "--max-tokens", "x"});
  EXPECT_EQ(not_a_number.exit_code, 2);
}

TEST(Cli, HelpWorksEverywhere) {
  for (std::string cmd : {"score", "generate", "bench", "devices", "tokenize"}) {
    auto r = run_stagegate({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("usage: stagegate " + cmd), std::string::npos) << cmd << ": " << r.out;
  }
}

TEST(Cli, DevicesListsLavapipeOrAGpu) {
  auto r = run_stagegate({"devices", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_GE(j.size(), 1u);
  EXPECT_TRUE(j[0].contains("name"));
}

TEST(Cli, ScoreJsonHasTheDocumentedShape) {
  auto r = run_stagegate(
      {"score", "--model", kGpt2, "--ids", "10,20,30,40", "--json", "--dtype", "f32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["tokens"], json({10, 20, 30, 40}));
  ASSERT_EQ(j["logprobs"].size(), 3u);
  double total = 0;
  for (double lp : j["logprobs"]) {
    EXPECT_LT(lp, 0.0);
    total += lp;
  }
  EXPECT_NEAR(j["total_logprob"].get<double>(), total, 1e-9);
  EXPECT_NEAR(j["perplexity"].get<double>(), std::exp(-total / 3), 1e-6);
}

TEST(Cli, ScorePrependEosScoresTheFirstToken) {
  auto r = run_stagegate({"score", "--model", kGpt2, "--ids", "10,20", "--prepend-eos", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["logprobs"].size(), 2u);
  EXPECT_EQ(j["tokens"].size(), 3u);
}

TEST(Cli, ScoreNeedsTwoTokens) {
  auto r = run_stagegate({"score", "--model", kGpt2, "--ids", "10"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("at least two tokens"), std::string::npos) << r.err;
}

TEST(Cli, IdsOutsideTheVocabularyAreBadInput) {
  auto r = run_stagegate({"score", "--model", kGpt2, "--ids", "1,999999"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("999999"), std::string::npos) << r.err;
  auto junk = run_stagegate({"score", "--model", kGpt2, "--ids", "1,two"});
  EXPECT_EQ(junk.exit_code, 3);
  EXPECT_NE(junk.err.find("two"), std::string::npos) << junk.err;
}

TEST(Cli, PromptLongerThanTheContextIsBadInput) {
  std::string ids = "1";
  for (int i = 0; i < 600; ++i) ids += ",1";
  auto r = run_stagegate({"generate", "--model", kGpt2, "--ids", ids, "--max-tokens", "1"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("context"), std::string::npos) << r.err;
}

TEST(Cli, GenerateJsonIsReproducibleBySeed) {
  std::vector<std::string> args{"generate",     "--model", kGpt2,    "--ids",  "1,2,3",
                                "--max-tokens", "12",      "--seed", "7",      "--temperature",
                                "0.9",          "--top-k", "50",     "--json", "--ignore-eos"};
  auto a = run_stagegate(args);
  auto b = run_stagegate(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto ja = json::parse(a.out), jb = json::parse(b.out);
  EXPECT_EQ(ja["tokens"], jb["tokens"]);
  EXPECT_EQ(ja["tokens"].size(), 12u);
  EXPECT_EQ(ja["logprobs"].size(), 12u);
  EXPECT_EQ(ja["finish_reason"], "length");
  EXPECT_EQ(ja["seed"], 7);
  EXPECT_TRUE(ja["text"].is_string());
}

TEST(Cli, GenerateDrawsAndReportsASeed) {
  auto r =
      run_stagegate({"generate", "--model", kGpt2, "--ids", "1", "--max-tokens", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out)["seed"].is_number_unsigned());
}

TEST(Cli, GenerateStreamsTextFromAPrompt) {
  auto r = run_stagegate({"generate", "--model", kGpt2, "--prompt", "Hello", "--max-tokens", "5",
                          "--temperature", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
}

TEST(Cli, Gpt1HasNoEndOfTextAndRunsToMaxTokens) {
  auto r = run_stagegate({"generate", "--model", kGpt1, "--ids", "5,6", "--max-tokens", "6",
                          "--temperature", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["tokens"].size(), 6u);
  EXPECT_EQ(j["finish_reason"], "length");
}

TEST(Cli, TextWithoutATokenizerIsAClearError) {
  fs::path dir = fs::temp_directory_path() / "stagegate-no-tokenizer";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kGpt2 + "/config.json", dir / "config.json");
  fs::copy_file(kGpt2 + "/model.safetensors", dir / "model.safetensors");
  auto r = run_stagegate({"score", "--model", dir.string(), "--text", "hello world"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("tokenizer not available"), std::string::npos) << r.err;
  EXPECT_EQ(run_stagegate({"score", "--model", dir.string(), "--ids", "1,2,3"}).exit_code, 0);
  fs::remove_all(dir);
}

TEST(Cli, MissingModelDirectoryIsBadInput) {
  auto r = run_stagegate({"score", "--model", "/nonexistent/model", "--ids", "1,2"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("/nonexistent/model"), std::string::npos) << r.err;
}

TEST(Cli, BenchJsonHasTheDocumentedFields) {
  auto r = run_stagegate({"bench", "--model", kGpt2, "--prompt-tokens", "8", "--gen-tokens", "4",
                          "--batch", "1,2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  for (const char* key : {"batch", "dtype", "prefill_tok_s", "decode_tok_s", "ms_per_token_p50",
                          "ms_per_token_p99", "peak_rss_mb", "peak_device_mb"})
    EXPECT_TRUE(j[0].contains(key)) << key;
  EXPECT_GT(j[1]["decode_tok_s"].get<double>(), 0.0);
}

}  // namespace
}  // namespace sg::testing
