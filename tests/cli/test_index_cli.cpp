// `stagegate index` on the demo family, as a user meets it; the answers are the library's
// (whose agreement with naive scans tests/detectors checks).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_command.hpp"
#include "memorization/corpus_index.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
namespace mem = sg::detectors::memorization;
using nlohmann::json;

const std::string kDemo = std::string(STAGEGATE_SOURCE_DIR) + "/models/demo";

json run_json(const std::vector<std::string>& args) {
  auto r = run_stagegate(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json();
}

class IndexCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("sg-index-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    built_ = run_json({"index", "build", "--family", kDemo, "--stage", "stage1", "--out",
                       (dir_ / "stage1.sgidx").string(), "--json"});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string index_file() { return (dir_ / "stage1.sgidx").string(); }

  static fs::path dir_;
  static json built_;
};
fs::path IndexCli::dir_;
json IndexCli::built_;

TEST_F(IndexCli, BuildsExactlyTheStagesSlices) {
  ASSERT_TRUE(built_.is_object());
  EXPECT_EQ(built_["files"], json::array({kDemo + "/corpus/clean.train.jsonl.zst",
                                          kDemo + "/corpus/canaries.train.jsonl.zst",
                                          kDemo + "/corpus/duplicates.train.jsonl.zst"}));
  EXPECT_EQ(built_["documents"], 4658 + 508 + 876);  // corpus/stats.json
  EXPECT_EQ(built_["token_bytes"], 2);
  const auto corpus = mem::CorpusIndex::open(index_file());
  EXPECT_EQ(built_["tokens"], corpus.token_count());
  EXPECT_EQ(corpus.tokenizer_hash(), mem::tokenizer_hash(kDemo + "/stage1"));
}

TEST_F(IndexCli, CountLongestLocateByTextAndIds) {
  const std::string text = "the vault code of";
  const auto ids = run_json({"tokenize", "--model", kDemo + "/stage1", "--text", text, "--json"});
  std::string id_list;
  for (const auto& t : ids["tokens"]) id_list += (id_list.empty() ? "" : ",") + t.dump();
  const std::vector<std::int32_t> tokens = ids["tokens"];
  const auto corpus = mem::CorpusIndex::open(index_file());

  const auto by_text = run_json({"index", "count", "--index", index_file(), "--text", text,
                                 "--model", kDemo + "/stage1", "--json"});
  EXPECT_EQ(by_text, (json{{"count", 508}}));  // once in each canary copy
  EXPECT_EQ(run_json({"index", "count", "--index", index_file(), "--ids", id_list, "--json"}),
            by_text);

  const std::string sentence = "And Adam knew Eve his wife, said the zebra";
  const auto longest = run_json({"index", "longest", "--index", index_file(), "--text", sentence,
                                 "--model", kDemo + "/stage2", "--json"});
  const auto sentence_ids =
      run_json({"tokenize", "--model", kDemo + "/stage1", "--text", sentence, "--json"})["tokens"];
  EXPECT_EQ(longest["longest"],
            json(corpus.longest(sentence_ids.get<std::vector<std::int32_t>>())));
  EXPECT_GE(longest["longest"][0].get<int>(), 5);

  const auto located = run_json(
      {"index", "locate", "--index", index_file(), "--ids", id_list, "--limit", "3", "--json"});
  EXPECT_EQ(located["count"], 508);
  ASSERT_EQ(located["occurrences"].size(), 3u);
  for (const auto& o : located["occurrences"]) {
    EXPECT_EQ(o["name"].get<std::string>().rfind("canary/", 0), 0u) << o;
    EXPECT_EQ(o["offset"], 0);
  }
}

TEST_F(IndexCli, ClearErrors) {
  auto other = run_stagegate(
      {"index", "count", "--index", index_file(), "--text", "the", "--model", kDemo + "/gpt1"});
  EXPECT_EQ(other.exit_code, 3);
  EXPECT_NE(other.err.find("built with another tokenizer"), std::string::npos) << other.err;

  auto no_stage = run_stagegate({"index", "build", "--family", kDemo, "--out", "x.sgidx"});
  EXPECT_EQ(no_stage.exit_code, 2) << no_stage.err;
  auto bad_stage =
      run_stagegate({"index", "build", "--family", kDemo, "--stage", "stage9", "--out", "x.sgidx"});
  EXPECT_EQ(bad_stage.exit_code, 3);
  EXPECT_NE(bad_stage.err.find("no stage named 'stage9' (it lists stage1"), std::string::npos)
      << bad_stage.err;
  auto text_alone = run_stagegate({"index", "count", "--index", index_file(), "--text", "the"});
  EXPECT_EQ(text_alone.exit_code, 2) << text_alone.err;

  const auto cut = (dir_ / "cut.sgidx").string();
  fs::copy_file(index_file(), cut);
  fs::resize_file(cut, fs::file_size(cut) - 10);
  auto truncated = run_stagegate({"index", "count", "--index", cut, "--ids", "1"});
  EXPECT_EQ(truncated.exit_code, 3);
  EXPECT_NE(truncated.err.find(cut + ": truncated"), std::string::npos) << truncated.err;
}

TEST_F(IndexCli, BuildsFromGivenFiles) {
  const auto file = dir_ / "two.jsonl";
  std::ofstream(file) << "{\"id\": \"a\", \"text\": \"alpha beta\"}\n{\"text\": \"beta\"}\n";
  const auto out = (dir_ / "two.sgidx").string();
  const auto built = run_json({"index", "build", "--corpus", file.string(), "--model",
                               kDemo + "/stage1", "--out", out, "--json"});
  EXPECT_EQ(built["documents"], 2);
  const auto info = run_json({"index", "info", "--index", out, "--json"});
  EXPECT_EQ(info["documents"], 2);
  EXPECT_EQ(info["corpus_hash"], built["corpus_hash"]);
  EXPECT_EQ(run_json({"index", "count", "--index", out, "--text", " beta", "--model",
                      kDemo + "/stage1", "--json"}),
            (json{{"count", 1}}));  // " beta" in the first document only; the second is "beta"
}

TEST_F(IndexCli, NormalizedIndexMatchesCaseAndSpacingVariants) {
  const auto file = dir_ / "case.jsonl";
  std::ofstream(file) << "{\"id\": \"a\", \"text\": \"And the LORD said  unto Moses\"}\n";
  const auto exact = (dir_ / "case-exact.sgidx").string();
  const auto normalized = (dir_ / "case-normalized.sgidx").string();
  run_json({"index", "build", "--corpus", file.string(), "--model", kDemo + "/stage1", "--out",
            exact, "--json"});
  const auto built = run_json({"index", "build", "--corpus", file.string(), "--model",
                               kDemo + "/stage1", "--out", normalized, "--normalize", "--json"});
  EXPECT_EQ(built["normalization"], "lower-space");
  EXPECT_EQ(run_json({"index", "info", "--index", exact, "--json"})["normalization"], "none");
  const std::vector<std::string> query = {"--text", "AND the lord SAID unto\tmoses", "--model",
                                          kDemo + "/stage1", "--json"};
  auto count = [&](const std::string& index) {
    std::vector<std::string> args = {"index", "count", "--index", index};
    args.insert(args.end(), query.begin(), query.end());
    return run_json(args)["count"];
  };
  EXPECT_EQ(count(exact), 0);       // other case, other spacing: other tokens
  EXPECT_EQ(count(normalized), 1);  // the query is normalized as the corpus was
}

}  // namespace
}  // namespace sg::testing
