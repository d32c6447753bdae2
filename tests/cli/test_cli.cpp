// The command line as a user meets it: output formats, error messages and exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/fixture_models.hpp"
#include "cli/run_command.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kGpt1 = std::string(STAGEGATE_FIXTURES) + "/models/openai-gpt-f32";

// A case of a fixture's expected.json: the PyTorch reference's logprobs and greedy
// continuation (tools/make_fixtures.py).
json reference_case(const std::string& model_dir, const std::string& name) {
  std::ifstream in(fs::path(model_dir) / "expected.json");
  const json expected = json::parse(in);
  for (const auto& c : expected["cases"])
    if (c["name"] == name) return c;
  ADD_FAILURE() << "no case " << name << " in " << model_dir;
  return json::object();
}

std::string join_ids(const std::vector<std::int32_t>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

// The text of token ids as `stagegate tokenize --decode` gives it.
std::string decode(const std::string& model_dir, const std::vector<std::int32_t>& ids) {
  auto r = run_stagegate({"tokenize", "--model", model_dir, "--ids", join_ids(ids), "--decode"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, r.out.size() - 1);  // without the final newline
}

TEST(Cli, VersionNamesTheCommit) {
  auto r = run_stagegate({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The version is the project's (CMakeLists.txt); the commit a short hash.
  std::ifstream cmake(std::string(STAGEGATE_SOURCE_DIR) + "/CMakeLists.txt");
  std::stringstream text;
  text << cmake.rdbuf();
  std::smatch project;
  std::string cmake_text = text.str();
  ASSERT_TRUE(std::regex_search(cmake_text, project,
                                std::regex(R"(project\(stagegate VERSION ([0-9.]+))")));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      r.out, m, std::regex(R"(stagegate ([0-9.]+) \(commit ([0-9a-f]{7,40})(-dirty)?\)\n)")))
      << "built outside git? " << r.out;
  EXPECT_EQ(m[1].str(), project[1].str());
}

TEST(Cli, UnknownCommandAndFlagAreUsageErrors) {
  auto unknown = run_stagegate({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("frobnicate"), std::string::npos) << unknown.err;
  EXPECT_EQ(unknown.out, "");
  auto r = run_stagegate({"score", "--model", kGpt2, "--ids", "1,2", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bogus"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  auto bad_value = run_stagegate({"generate", "--model", kGpt2, "--ids", "1", "--top-p", "2"});
  EXPECT_EQ(bad_value.exit_code, 2);
  EXPECT_NE(bad_value.err.find("--top-p"), std::string::npos) << bad_value.err;
  EXPECT_EQ(bad_value.out, "");
  auto not_a_number =
      run_stagegate({"generate", "--model", kGpt2, "--ids", "1", "--max-tokens", "x"});
  EXPECT_EQ(not_a_number.exit_code, 2);
  EXPECT_NE(not_a_number.err.find("max-tokens"), std::string::npos) << not_a_number.err;
  EXPECT_EQ(not_a_number.out, "");
}

TEST(Cli, HelpWorksEverywhere) {
  for (std::string cmd : {"score", "generate", "bench", "devices", "tokenize"}) {
    auto r = run_stagegate({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_EQ(r.out.rfind("usage: stagegate " + cmd, 0), 0u) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("--help"), std::string::npos) << cmd << ": " << r.out;
  }
}

TEST(Cli, DevicesListsLavapipeOrAGpu) {
  auto r = run_stagegate({"devices", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_GE(j.size(), 1u);
  auto table = run_stagegate({"devices"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::istringstream lines(table.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "index  type        memory     16-bit  name");
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& d = j[i];
    EXPECT_EQ(d["index"], i);
    ASSERT_TRUE(d["name"].is_string());
    EXPECT_FALSE(d["name"].get<std::string>().empty());
    EXPECT_TRUE(d["type"] == "discrete" || d["type"] == "integrated" || d["type"] == "virtual" ||
                d["type"] == "cpu" || d["type"] == "other")
        << d["type"];
    EXPECT_GT(d["memory_mb"].get<std::uint64_t>(), 0u);
    EXPECT_TRUE(d["storage_16bit"].is_boolean());
    EXPECT_FALSE(d["driver"].get<std::string>().empty());
    // The table lists the same device on its own line.
    ASSERT_TRUE(std::getline(lines, line)) << "the table lacks device " << i;
    EXPECT_EQ(line.rfind(std::to_string(i) + " ", 0), 0u) << line;
    EXPECT_NE(line.find(d["type"].get<std::string>()), std::string::npos) << line;
    EXPECT_NE(line.find(d["name"].get<std::string>() + " (" + d["driver"].get<std::string>() + ")"),
              std::string::npos)
        << line;
  }
  EXPECT_FALSE(std::getline(lines, line)) << "extra line: " << line;
}

TEST(Cli, ScoreJsonMatchesTheReference) {
  // A 17-token case of the fixture, against the PyTorch reference's logprobs.
  auto c = reference_case(kGpt2, "odd_17");
  auto ids = c["ids"].get<std::vector<std::int32_t>>();
  auto want = c["logprobs"].get<std::vector<double>>();
  ASSERT_EQ(ids.size(), 17u);
  auto r = run_stagegate(
      {"score", "--model", kGpt2, "--ids", join_ids(ids), "--json", "--dtype", "f32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["tokens"], json(ids));
  ASSERT_EQ(j["logprobs"].size(), want.size());
  double total = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(j["logprobs"][i].get<double>(), want[i], 2e-3) << "token " << i + 1;
    total += want[i];
  }
  EXPECT_NEAR(j["total_logprob"].get<double>(), total, 2e-3 * 16);
  EXPECT_NEAR(j["perplexity"].get<double>(), std::exp(-total / 16), 2e-3 * std::exp(-total / 16));
  // The same numbers as text.
  auto t = run_stagegate({"score", "--model", kGpt2, "--ids", join_ids(ids), "--dtype", "f32"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      t.out, m,
      std::regex(R"(tokens: 17 \(16 scored\)\ntotal logprob: (\S+)\nperplexity: (\S+)\n)")))
      << t.out;
  EXPECT_NEAR(std::stod(m[1].str()), total, 2e-3 * 16);
  EXPECT_NEAR(std::stod(m[2].str()), std::exp(-total / 16), 2e-3 * std::exp(-total / 16));
}

TEST(Cli, ScorePrependEosScoresTheFirstToken) {
  // gpt2-f32's end-of-text token is 999 (config.json): --prepend-eos scores 10 after it.
  auto r = run_stagegate(
      {"score", "--model", kGpt2, "--ids", "10,20", "--prepend-eos", "--json", "--dtype", "f32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["tokens"], json({999, 10, 20}));
  ASSERT_EQ(j["logprobs"].size(), 2u);
  auto explicit_eos =
      run_stagegate({"score", "--model", kGpt2, "--ids", "999,10,20", "--json", "--dtype", "f32"});
  ASSERT_EQ(explicit_eos.exit_code, 0) << explicit_eos.err;
  EXPECT_EQ(j, json::parse(explicit_eos.out));
  // GPT-1 has no end-of-text token to prepend.
  auto gpt1 = run_stagegate({"score", "--model", kGpt1, "--ids", "10,20", "--prepend-eos"});
  EXPECT_EQ(gpt1.exit_code, 3);
  EXPECT_NE(gpt1.err.find("no end-of-text token"), std::string::npos) << gpt1.err;
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
  auto args_with_seed = [](const std::string& seed) {
    return std::vector<std::string>{"generate",     "--model", kGpt2,    "--ids",  "1,2,3",
                                    "--max-tokens", "12",      "--seed", seed,     "--temperature",
                                    "0.9",          "--top-k", "50",     "--json", "--ignore-eos",
                                    "--dtype",      "f32"};
  };
  auto a = run_stagegate(args_with_seed("7"));
  auto b = run_stagegate(args_with_seed("7"));
  auto other = run_stagegate(args_with_seed("8"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  ASSERT_EQ(other.exit_code, 0) << other.err;
  auto ja = json::parse(a.out), jb = json::parse(b.out), jo = json::parse(other.out);
  EXPECT_EQ(ja, jb);  // every field, the logprobs included
  EXPECT_NE(ja["tokens"], jo["tokens"]) << "seeds 7 and 8 drew the same 12 tokens";
  EXPECT_EQ(ja["finish_reason"], "length");
  EXPECT_EQ(ja["seed"], 7);
  EXPECT_EQ(jo["seed"], 8);
  auto tokens = ja["tokens"].get<std::vector<std::int32_t>>();
  ASSERT_EQ(tokens.size(), 12u);
  for (auto t : tokens) EXPECT_TRUE(t >= 0 && t < 1000) << t;
  EXPECT_EQ(ja["text"], decode(kGpt2, tokens));
  // The logprobs are the raw model's: `score` of prompt + continuation gives the same.
  std::vector<std::int32_t> all{1, 2, 3};
  all.insert(all.end(), tokens.begin(), tokens.end());
  auto s = run_stagegate(
      {"score", "--model", kGpt2, "--ids", join_ids(all), "--json", "--dtype", "f32"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto scored = json::parse(s.out)["logprobs"].get<std::vector<double>>();
  ASSERT_EQ(scored.size(), 14u);
  ASSERT_EQ(ja["logprobs"].size(), 12u);
  for (std::size_t i = 0; i < 12; ++i)
    EXPECT_NEAR(ja["logprobs"][i].get<double>(), scored[2 + i], 1e-4) << "token " << i;
}

TEST(Cli, GenerateDrawsAndReportsASeed) {
  std::vector<std::string> args{"generate",     "--model", kGpt2,    "--ids",       "1",
                                "--max-tokens", "6",       "--json", "--ignore-eos"};
  auto r = run_stagegate(args);
  auto again = run_stagegate(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto j = json::parse(r.out);
  ASSERT_TRUE(j["seed"].is_number_unsigned());
  EXPECT_NE(j["seed"], json::parse(again.out)["seed"]) << "two runs drew the same seed";
  // The reported seed reproduces the run.
  args.insert(args.end(), {"--seed", std::to_string(j["seed"].get<std::uint64_t>())});
  auto replay = run_stagegate(args);
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(json::parse(replay.out), j);
}

TEST(Cli, GenerateStreamsTextFromAPrompt) {
  // Greedy from a text prompt: the streamed text is the decoded continuation, which is the
  // one the prompt's token ids give.
  auto ids = run_stagegate({"tokenize", "--model", kGpt2, "--text", "Hello"});
  ASSERT_EQ(ids.exit_code, 0) << ids.err;
  std::string prompt_ids = ids.out.substr(0, ids.out.size() - 1);
  auto greedy = [&](std::vector<std::string> args, const std::string& max_tokens) {
    args.insert(args.begin(), {"generate", "--model", kGpt2});
    args.insert(args.end(), {"--max-tokens", max_tokens, "--temperature", "0", "--ignore-eos",
                             "--dtype", "f32"});
    return run_stagegate(args);
  };
  auto streamed = greedy({"--prompt", "Hello"}, "5");
  auto from_ids = greedy({"--ids", prompt_ids, "--json"}, "5");
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  ASSERT_EQ(from_ids.exit_code, 0) << from_ids.err;
  auto j = json::parse(from_ids.out);
  auto tokens = j["tokens"].get<std::vector<std::int32_t>>();
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(j["text"], decode(kGpt2, tokens));
  EXPECT_EQ(streamed.out, j["text"].get<std::string>() + "\n");
  // The same from a reference case: its greedy continuation, streamed as text.
  auto c = reference_case(kGpt2, "two_tokens");
  auto want = c["greedy"].get<std::vector<std::int32_t>>();
  want.resize(8);
  auto ref = greedy({"--ids", join_ids(c["greedy_prompt"].get<std::vector<std::int32_t>>())}, "8");
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  EXPECT_EQ(ref.out, decode(kGpt2, want) + "\n");
}

TEST(Cli, Gpt1HasNoEndOfTextAndRunsToMaxTokens) {
  // Without --ignore-eos, GPT-1 (no end-of-text token) generates all 8 tokens: the
  // reference's greedy continuation.
  auto c = reference_case(kGpt1, "full_context");
  auto want = c["greedy"].get<std::vector<std::int32_t>>();
  want.resize(8);
  auto r = run_stagegate({"generate", "--model", kGpt1, "--ids",
                          join_ids(c["greedy_prompt"].get<std::vector<std::int32_t>>()),
                          "--max-tokens", "8", "--temperature", "0", "--json", "--dtype", "f32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["tokens"], json(want));
  EXPECT_EQ(j["logprobs"].size(), 8u);
  EXPECT_EQ(j["finish_reason"], "length");
  EXPECT_EQ(j["text"], decode(kGpt1, want));
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
  // Token ids need no tokenizer: the same scores as with one.
  auto ids = run_stagegate({"score", "--model", dir.string(), "--ids", "1,2,3", "--json"});
  auto full = run_stagegate({"score", "--model", kGpt2, "--ids", "1,2,3", "--json"});
  EXPECT_EQ(ids.exit_code, 0) << ids.err;
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(ids.out, full.out);
  fs::remove_all(dir);
}

TEST(Cli, MissingModelDirectoryIsBadInput) {
  auto r = run_stagegate({"score", "--model", "/nonexistent/model", "--ids", "1,2"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("/nonexistent/model"), std::string::npos) << r.err;
}

TEST(Cli, BenchJsonHasTheDocumentedFields) {
  auto r = run_stagegate({"bench", "--model", kGpt2, "--prompt-tokens", "8", "--gen-tokens", "4",
                          "--batch", "1,2", "--json", "--dtype", "f32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  // F32 weights stay F32 on the device: it holds at least the weight file's bytes.
  const double weights_mb =
      static_cast<double>(fs::file_size(kGpt2 + "/model.safetensors")) / 1048576.0;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& row = j[i];
    EXPECT_EQ(row.size(), 11u) << row.dump();
    EXPECT_EQ(row["batch"], i + 1);
    // Greedy over a 1000-token vocabulary: the device's summary lists every id and decides
    // every pick.
    EXPECT_EQ(row["sampling"], "device");
    EXPECT_EQ(row["summary_picks"].get<std::size_t>(), 4 * (i + 1));
    EXPECT_EQ(row["full_row_picks"].get<std::size_t>(), 0u);
    EXPECT_EQ(row["dtype"], "f32");
    EXPECT_GT(row["prefill_tok_s"].get<double>(), 0.0);
    EXPECT_GT(row["decode_tok_s"].get<double>(), 0.0);
    const double p50 = row["ms_per_token_p50"].get<double>();
    const double p99 = row["ms_per_token_p99"].get<double>();
    EXPECT_GT(p50, 0.0);
    EXPECT_LE(p50, p99);
    // The mean step (batch tokens per step) is no slower than the slowest, which p99 is here.
    EXPECT_LE(1e3 * static_cast<double>(i + 1) / row["decode_tok_s"].get<double>(),
              p99 * (1 + 1e-9));
    EXPECT_GT(row["peak_rss_mb"].get<double>(), weights_mb);
    EXPECT_GE(row["peak_device_mb"].get<double>(), 0.9 * weights_mb);
  }
  // Peaks only grow across the run.
  EXPECT_GE(j[1]["peak_rss_mb"].get<double>(), j[0]["peak_rss_mb"].get<double>());
  EXPECT_GE(j[1]["peak_device_mb"].get<double>(), j[0]["peak_device_mb"].get<double>());

  // --host-sampling reads every row back instead, and top-k sampling is accepted.
  r = run_stagegate({"bench", "--model", kGpt2, "--prompt-tokens", "8", "--gen-tokens", "4",
                     "--batch", "2", "--json", "--temperature", "1", "--top-k", "5",
                     "--host-sampling"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["sampling"], "host");
  EXPECT_EQ(j[0]["summary_picks"].get<std::size_t>(), 0u);
  EXPECT_EQ(j[0]["full_row_picks"].get<std::size_t>(), 8u);
}

// One token generated is the prompt pass's pick: no decode step is timed, so the decode
// figures are null in the JSON and "-" in the table, never a NaN or a zero.
TEST(Cli, BenchWithOneGeneratedTokenReportsNoDecodeFigures) {
  auto r = run_stagegate({"bench", "--model", kGpt2, "--prompt-tokens", "8", "--gen-tokens", "1",
                          "--batch", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_GT(j[0]["prefill_tok_s"].get<double>(), 0.0);
  for (const char* key : {"decode_tok_s", "ms_per_token_p50", "ms_per_token_p99"}) {
    ASSERT_TRUE(j[0].contains(key)) << key;
    EXPECT_TRUE(j[0][key].is_null()) << key << ": " << j[0][key].dump();
  }
  r = run_stagegate(
      {"bench", "--model", kGpt2, "--prompt-tokens", "8", "--gen-tokens", "1", "--batch", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
  // The row: batch, dtype, prefill, then "-" for decode t/s, p50 and p99.
  std::istringstream table(r.out);
  std::string line, row;
  while (std::getline(table, line))
    if (line.rfind("    2 ", 0) == 0) row = line;
  ASSERT_FALSE(row.empty()) << r.out;
  std::istringstream cells(row);
  std::vector<std::string> words{std::istream_iterator<std::string>(cells), {}};
  ASSERT_GE(words.size(), 6u) << row;
  EXPECT_EQ(words[3], "-") << row;
  EXPECT_EQ(words[4], "-") << row;
  EXPECT_EQ(words[5], "-") << row;
}

// --profile times the prompt's pass and a decode step, dispatch by dispatch: every operation
// of a two-layer GPT-2 pass shows up with its count.
TEST(Cli, BenchProfileCountsEveryDispatchOfThePromptAndADecodeStepAtEachBatch) {
  auto r = run_stagegate({"bench", "--model", kGpt2, "--prompt-tokens", "8", "--gen-tokens", "2",
                          "--batch", "1,3", "--json", "--profile"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  // Two layers: ln_1, ln_2 each and ln_f; four projections each and the LM head. A batch's
  // prompts are one pass, its decode tokens one step: the counts do not grow with the batch.
  const std::map<std::string, int> expected{{"attention", 2},     {"embed", 1},
                                            {"gather_rows", 1},   {"layer_norm", 5},
                                            {"logit_summary", 1}, {"matmul", 9}};
  for (const auto& row : j)
    for (const char* key : {"profile_prefill_pass", "profile_decode_step"}) {
      SCOPED_TRACE(std::string(key) + " at batch " + row["batch"].dump());
      ASSERT_TRUE(row.contains(key)) << row.dump();
      std::map<std::string, int> got;
      for (const auto& op : row[key]) {
        EXPECT_GT(op["ms"].get<double>(), 0.0) << op.dump();
        got[op["op"].get<std::string>()] = op["dispatches"].get<int>();
      }
      EXPECT_EQ(got, expected);
    }
  EXPECT_EQ(j[0]["batch"], 1);
  EXPECT_EQ(j[1]["batch"], 3);
}

}  // namespace
}  // namespace sg::testing
