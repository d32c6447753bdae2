// The official `openai` npm client (tests/serve/openai_client, pinned) calls `stagegate
// serve` unchanged: check.mjs runs its calls against a server on loopback and reports each
// check that failed. Node and the package come from tools/setup.sh; without them this test
// fails saying so, rather than passing having checked nothing.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "serve/serve_fixture.hpp"

namespace sg::testing {
namespace {

TEST(ServeOpenAiClient, TheOfficialClientWorksUnchanged) {
  const auto dir = std::filesystem::path(STAGEGATE_SOURCE_DIR) / "tests/serve/openai_client";
  ASSERT_TRUE(std::filesystem::exists(dir / "node_modules/openai/package.json"))
      << "the openai package is not installed in " << dir
      << ": run tools/setup.sh (it runs npm ci there)";
  ASSERT_EQ(std::system("node --version > /dev/null 2>&1"), 0)
      << "node not found: run tools/setup.sh";
  ServeFixture f("", 4, 8);  // 8 choices may wait: n = 9 is refused with 503
  f.start();
  const std::string command = "node " + (dir / "check.mjs").string() + " " +
                              std::to_string(f.server->port()) + " " + f.researcher_key + " " +
                              f.public_key + " " + f.strict_key + " " + f.limited_key + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  ASSERT_TRUE(pipe);
  std::string out;
  std::array<char, 4096> buf{};
  while (const auto n = std::fread(buf.data(), 1, buf.size(), pipe.get()))
    out.append(buf.data(), n);
  const int status = pclose(pipe.release());
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("openai client: all checks passed"), std::string::npos) << out;
}

}  // namespace
}  // namespace sg::testing
