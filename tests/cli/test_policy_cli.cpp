// `stagegate policy check` and `policy show` as a user meets them: exit codes, the ok line,
// warnings on stderr, the resolved policy in text and JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_command.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kDemo = std::string(STAGEGATE_SOURCE_DIR) + "/policies/demo.ini";
const std::string kUnfiltered =
    std::string(STAGEGATE_SOURCE_DIR) + "/policies/examples/demo-unfiltered.ini";

TEST(PolicyCli, CheckAcceptsTheDemoPolicies) {
  for (const auto& file : {kDemo, kUnfiltered}) {
    const auto r = run_stagegate({"policy", "check", file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out.starts_with(file + ": ok (4 stages, ")) << r.out;
  }
}

TEST(PolicyCli, CheckJsonCountsWhatItRead) {
  const auto r = run_stagegate({"policy", "check", kDemo, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["stages"], 4);
  EXPECT_EQ(j["requirements"], 4);
  EXPECT_EQ(j["filters"], 2);
  EXPECT_EQ(j["sha256"].get<std::string>().size(), 64u);
}

TEST(PolicyCli, CheckRefusesABrokenPolicyWithFileLineAndKey) {
  const auto file = std::string(STAGEGATE_SOURCE_DIR) + "/tests/release/malformed/cycle-two.ini";
  const auto r = run_stagegate({"policy", "check", file});
  EXPECT_EQ(r.exit_code, 3);  // InputError
  EXPECT_NE(r.err.find(file + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stage.s2.after: cycle in stage order"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("ok"), std::string::npos);
}

TEST(PolicyCli, CheckPrintsWarningsOnStderr) {
  const fs::path dir = fs::temp_directory_path() / ("sg-policy-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto file = dir / "p.ini";
  std::ofstream(file) << "[family]\nname = f\n[audience.all]\n[stage.a]\ncheckpoint = missing\n"
                         "sha256 = "
                      << std::string(64, 'a') << "\naudiences = all\n";
  const auto r = run_stagegate({"policy", "check", file.string()});
  fs::remove_all(dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 warnings"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("warning: stage a: checkpoint"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("warning: stage a: no requirement applies"), std::string::npos) << r.err;
}

TEST(PolicyCli, ShowListsStagesInReleaseOrderWithTheirFilters) {
  const auto r = run_stagegate({"policy", "show", kDemo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s1 = r.out.find("  stage1\n");
  const auto s4 = r.out.find("  stage4\n");
  ASSERT_NE(s1, std::string::npos) << r.out;
  ASSERT_NE(s4, std::string::npos) << r.out;
  EXPECT_LT(s1, s4);
  EXPECT_NE(r.out.find("toxicity-filtered: toxicity.expected_max strategy toxicity.filtered <= "
                       "0.3 (conservative)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("      public: no-leakage, toxicity\n", s4), std::string::npos) << r.out;
}

TEST(PolicyCli, ShowJsonIsTheResolvedPolicy) {
  const auto r = run_stagegate({"policy", "show", kUnfiltered, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  ASSERT_EQ(j["stages"].size(), 4u);
  const auto& stage4 = j["stages"][3];
  EXPECT_EQ(stage4["name"], "stage4");
  EXPECT_EQ(stage4["after"], json::array({"stage3"}));
  EXPECT_EQ(stage4["not_before"], "2019-11-05");
  EXPECT_EQ(stage4["filters"]["public"], json::array());
  EXPECT_EQ(stage4["requirements"], json::array({"perplexity", "canaries", "toxicity"}));
  EXPECT_EQ(j["filters"][0]["type"], "leakage");
  EXPECT_EQ(j["filters"][0]["n"], 32);
}

TEST(PolicyCli, UsageErrors) {
  EXPECT_EQ(run_stagegate({"policy"}).exit_code, 2);
  EXPECT_EQ(run_stagegate({"policy", "lint", kDemo}).exit_code, 2);
  EXPECT_EQ(run_stagegate({"policy", "check"}).exit_code, 2);
  EXPECT_EQ(run_stagegate({"policy", "check", "/nonexistent/p.ini"}).exit_code, 3);
}

}  // namespace
}  // namespace sg::testing
