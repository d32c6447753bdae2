// `stagegate tokenize` as a user meets it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/run_command.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kGpt2 = std::string(STAGEGATE_SOURCE_DIR) + "/models/gpt2-tokenizer";

TEST(TokenizeCli, TextToIdsAndBack) {
  auto r = run_stagegate({"tokenize", "--model", kGpt2, "--text", "Hello world"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "15496,995\n");
  auto j = run_stagegate({"tokenize", "--model", kGpt2, "--text", "Hello world", "--json"});
  EXPECT_EQ(json::parse(j.out)["tokens"], json({15496, 995}));
  auto d = run_stagegate({"tokenize", "--model", kGpt2, "--ids", "15496,995", "--decode"});
  EXPECT_EQ(d.out, "Hello world\n");
}

TEST(TokenizeCli, SpecialTokenAndNoSpecial) {
  auto r = run_stagegate({"tokenize", "--model", kGpt2, "--text", "<|endoftext|>"});
  EXPECT_EQ(r.out, "50256\n");
  auto p = run_stagegate({"tokenize", "--model", kGpt2, "--text", "<|endoftext|>", "--no-special"});
  EXPECT_NE(p.out, "50256\n");
}

TEST(TokenizeCli, JsonLinesInOrderFromStdin) {
  std::string input;
  for (int i = 0; i < 5000; ++i) input += json{{"text", "line " + std::to_string(i)}}.dump() + "\n";
  auto r = run_stagegate(
      {"tokenize", "--model", kGpt2, "--input", "-", "--format", "jsonl", "--threads", "2"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> out;
  for (std::string line; std::getline(lines, line);) out.push_back(line);
  ASSERT_EQ(out.size(), 5000u);
  // Order is kept across threads and batches: spot-check the first and the last lines.
  for (int i : {0, 4999}) {
    auto one = run_stagegate(
        {"tokenize", "--model", kGpt2, "--text", "line " + std::to_string(i), "--json"});
    EXPECT_EQ(json::parse(out[static_cast<std::size_t>(i)]), json::parse(one.out)) << i;
  }
  int n = static_cast<int>(out.size());
  EXPECT_EQ(n, 5000);
}

TEST(TokenizeCli, JsonLinesErrorsNameTheLine) {
  auto r = run_stagegate({"tokenize", "--model", kGpt2, "--input", "-", "--format", "jsonl"},
                         "{\"text\": \"ok\"}\n{\"txt\": 1}\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("<stdin>:2"), std::string::npos) << r.err;
}

TEST(TokenizeCli, InvalidUtf8IsAnErrorOrReplaced) {
  fs::path f = fs::temp_directory_path() / "stagegate-bad-utf8.txt";
  std::ofstream(f, std::ios::binary) << "ab\xff"
                                        "cd";
  auto r = run_stagegate({"tokenize", "--model", kGpt2, "--input", f.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("byte offset 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(f.string()), std::string::npos) << r.err;
  auto ok = run_stagegate(
      {"tokenize", "--model", kGpt2, "--input", f.string(), "--invalid-utf8", "replace"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  fs::remove(f);
}

TEST(TokenizeCli, IdsOutsideTheVocabularyAreBadInput) {
  auto r = run_stagegate({"tokenize", "--model", kGpt2, "--decode", "--ids", "50257"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("50257"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sg::testing
