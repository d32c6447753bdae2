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

const std::string kGpt2Tokenizer = std::string(STAGEGATE_SOURCE_DIR) + "/models/gpt2-tokenizer";

std::vector<std::string> split_lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every output line equals the wanted JSON, in order (the first five differences reported).
void expect_json_lines(const std::string& output, const std::vector<json>& want) {
  auto out = split_lines(output);
  ASSERT_EQ(out.size(), want.size());
  int wrong = 0;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (json::parse(out[i]) != want[i] && ++wrong <= 5)
      ADD_FAILURE() << "line " << i + 1 << ": " << out[i] << "\nwant " << want[i].dump();
  EXPECT_EQ(wrong, 0);
}

// The tokenizer corpus with the ids tiktoken gives each text (tools/tokenizer/make_fixtures.js).
std::vector<json> tiktoken_corpus() {
  std::ifstream in(fs::path(STAGEGATE_FIXTURES) / "tokenizer/gpt2_corpus.jsonl");
  std::vector<json> cases;
  for (std::string line; std::getline(in, line);) cases.push_back(json::parse(line));
  return cases;
}

TEST(TokenizeCli, TextToIdsAndBack) {
  auto r = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--text", "Hello world"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "15496,995\n");
  auto j =
      run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--text", "Hello world", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.out, "{\"tokens\":[15496,995]}\n");
  auto d = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--ids", "15496,995", "--decode"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "Hello world\n");
  auto dj = run_stagegate(
      {"tokenize", "--model", kGpt2Tokenizer, "--ids", "15496,995", "--decode", "--json"});
  ASSERT_EQ(dj.exit_code, 0) << dj.err;
  EXPECT_EQ(dj.out, "{\"text\":\"Hello world\"}\n");
}

TEST(TokenizeCli, SpecialTokenAndNoSpecial) {
  auto r = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--text", "a<|endoftext|>b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "64,50256,65\n");
  // As plain text: "<", "|", "end", "of", "text", "|", ">" (tiktoken's encode_ordinary, as
  // the corpus fixture records for "<|endoftext" and "endoftext|>").
  auto p = run_stagegate(
      {"tokenize", "--model", kGpt2Tokenizer, "--text", "a<|endoftext|>b", "--no-special"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out, "64,27,91,437,1659,5239,91,29,65\n");
  // Both decode back to the same text.
  for (const char* ids : {"64,50256,65", "64,27,91,437,1659,5239,91,29,65"}) {
    auto d = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--ids", ids, "--decode"});
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_EQ(d.out, "a<|endoftext|>b\n") << ids;
  }
}

TEST(TokenizeCli, JsonLinesInOrderFromStdin) {
  // 5000 lines (three batches of 2048 lines on two threads), each a text of the tiktoken
  // corpus, in a shuffled order: every output line must hold that text's tiktoken ids.
  auto corpus = tiktoken_corpus();
  ASSERT_GT(corpus.size(), 1000u);
  std::string input;
  std::vector<json> want;
  for (std::size_t i = 0; i < 5000; ++i) {
    const auto& c = corpus[(i * 7919) % corpus.size()];
    input += json{{"text", c["text"]}}.dump() + "\n";
    want.push_back(json{{"tokens", c["ids"]}});
  }
  auto r = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--input", "-", "--format",
                          "jsonl", "--threads", "2"},
                         input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_json_lines(r.out, want);
}

TEST(TokenizeCli, JsonLinesDecodeInOrder) {
  // The way back: the corpus's tiktoken ids, 5000 lines, each decoding to its own text.
  auto corpus = tiktoken_corpus();
  ASSERT_GT(corpus.size(), 1000u);
  std::string input;
  std::vector<json> want;
  for (std::size_t i = 0; i < 5000; ++i) {
    const auto& c = corpus[(i * 4001) % corpus.size()];
    input += json{{"tokens", c["ids"]}}.dump() + "\n";
    want.push_back(json{{"text", c["text"]}});
  }
  auto r = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--input", "-", "--format",
                          "jsonl", "--decode", "--threads", "2"},
                         input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_json_lines(r.out, want);
}

TEST(TokenizeCli, JsonLinesErrorsNameTheLine) {
  auto r =
      run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--input", "-", "--format", "jsonl"},
                    "{\"text\": \"ok\"}\n{\"txt\": 1}\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("<stdin>:2: expected an object with \"text\""), std::string::npos) << r.err;
  auto bad_json =
      run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--input", "-", "--format", "jsonl"},
                    "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{not json\n");
  EXPECT_EQ(bad_json.exit_code, 3);
  EXPECT_NE(bad_json.err.find("<stdin>:3: not valid JSON"), std::string::npos) << bad_json.err;
}

TEST(TokenizeCli, InvalidUtf8IsAnErrorOrReplaced) {
  fs::path f = fs::temp_directory_path() / "stagegate-bad-utf8.txt";
  std::ofstream(f, std::ios::binary) << "ab\xff"
                                        "cd";
  auto r = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--input", f.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("byte offset 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(f.string()), std::string::npos) << r.err;
  // Replaced as Python's errors="replace" does: "ab", U+FFFD (GPT-2's token 4210), "cd".
  auto ok = run_stagegate(
      {"tokenize", "--model", kGpt2Tokenizer, "--input", f.string(), "--invalid-utf8", "replace"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "397,4210,10210\n");
  auto same = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--text",
                             "ab\xEF\xBF\xBD"
                             "cd"});
  EXPECT_EQ(same.out, ok.out);
  fs::remove(f);
}

TEST(TokenizeCli, IdsOutsideTheVocabularyAreBadInput) {
  auto r = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--decode", "--ids", "50257"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("50257"), std::string::npos) << r.err;
  auto last = run_stagegate({"tokenize", "--model", kGpt2Tokenizer, "--decode", "--ids", "50256"});
  EXPECT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(last.out, "<|endoftext|>\n");
}

}  // namespace
}  // namespace sg::testing
