// `stagegate generate --leakage-index`: the model's own greedy continuation, indexed as the
// corpus, is not reproduced, each block is in the --json events, and an index of another
// tokenizer or a span without an index is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/fixture_models.hpp"
#include "cli/run_command.hpp"
#include "memorization/index_builder.hpp"
#include "memorization/tokenizer_hash.hpp"
#include "plan_files.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
namespace mem = detectors::memorization;
using nlohmann::json;

json generate(const std::vector<std::string>& extra) {
  std::vector<std::string> args{"generate", "--model",       kGpt2,   "--ids",
                                "1,2,3",    "--temperature", "0",     "--max-tokens",
                                "12",       "--ignore-eos",  "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_stagegate(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json::object();
}

fs::path index_of(const PlanDir& dir, std::vector<std::int32_t> tokens, const std::string& hash) {
  mem::TokenizedCorpus c;
  c.vocab_size = 1000;  // the fixture's
  c.tokenizer_hash = hash;
  c.names = {"continuation"};
  c.documents = {std::move(tokens)};
  const auto file = dir.path() / "c.sgidx";
  mem::build_index(c, file, {.threads = 1, .progress = false});
  return file;
}

TEST(GenerateLeakage, TheIndexedContinuationIsBlockedAndEachBlockIsAnEvent) {
  const auto free = generate({});
  ASSERT_TRUE(free["events"].empty());
  auto corpus = std::vector<std::int32_t>{1, 2, 3};
  for (auto t : free["tokens"]) corpus.push_back(t);
  PlanDir dir;
  const auto index = index_of(dir, corpus, mem::tokenizer_hash(kGpt2));

  const auto filtered = generate({"--leakage-index", index.string(), "--leakage-n", "4"});
  ASSERT_FALSE(filtered["events"].empty());
  EXPECT_NE(filtered["tokens"], free["tokens"]);
  for (const auto& e : filtered["events"]) {
    EXPECT_EQ(e["filter"], "memorization.leakage");
    EXPECT_EQ(e["action"], "block");
    EXPECT_EQ(e["detail"]["span_length"], 4);
    EXPECT_EQ(e["detail"]["document"]["name"], "continuation");
    EXPECT_EQ(e["detail"]["document"]["id"], 0);
  }
  // No 4 tokens of prompt + output in a row are the corpus's.
  auto all = std::vector<std::int32_t>{1, 2, 3};
  for (auto t : filtered["tokens"]) all.push_back(t);
  for (std::size_t i = 0; i + 4 <= all.size(); ++i)
    EXPECT_EQ(std::search(corpus.begin(), corpus.end(), all.begin() + i, all.begin() + i + 4),
              corpus.end())
        << "4-gram at " << i;
}

TEST(GenerateLeakage, AnIndexOfAnotherTokenizerAndASpanWithoutIndexAreRefused) {
  PlanDir dir;
  const auto index = index_of(dir, {1, 2, 3}, std::string(64, 'a'));
  auto r = run_stagegate(
      {"generate", "--model", kGpt2, "--ids", "1", "--leakage-index", index.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("c.sgidx"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tokenizer"), std::string::npos) << r.err;
  r = run_stagegate({"generate", "--model", kGpt2, "--ids", "1", "--leakage-n", "8"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--leakage-index"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sg::testing
