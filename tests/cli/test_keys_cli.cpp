// `stagegate keys`: the key on standard output alone and once, list and revoke by id, and
// clear errors for a missing file, a bad audience or an unknown id.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/plan_files.hpp"
#include "cli/run_command.hpp"
#include "serve/api_keys.hpp"

namespace {

using sg::testing::run_stagegate;

TEST(KeysCli, AddListRevoke) {
  sg::testing::PlanDir dir;
  const auto file = (dir.path() / "keys.json").string();
  auto added = run_stagegate(
      {"keys", "add", "--keys", file, "--audience", "researchers", "--name", "alice"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  ASSERT_EQ(added.out.size(), 3u + 48u + 1u) << added.out;  // the key and a newline, nothing else
  const std::string key = added.out.substr(0, added.out.size() - 1);
  EXPECT_NE(added.err.find("shown only now"), std::string::npos) << added.err;

  const auto keys = sg::serve::KeysFile::read(file);
  ASSERT_NE(keys.find(key), nullptr);
  const std::string id = keys.find(key)->id;

  auto listed = run_stagegate({"keys", "list", "--keys", file, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto j = nlohmann::json::parse(listed.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], id);
  EXPECT_EQ(j[0]["audience"], "researchers");
  EXPECT_TRUE(j[0]["revoked"].is_null());
  EXPECT_EQ(listed.out.find(key), std::string::npos);

  auto revoked = run_stagegate({"keys", "revoke", "--keys", file, id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  auto text = run_stagegate({"keys", "list", "--keys", file});
  EXPECT_NE(text.out.find(id + "  researchers  alice  "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("revoked 20"), std::string::npos) << text.out;
}

TEST(KeysCli, MistakesAreClearErrors) {
  sg::testing::PlanDir dir;
  const auto file = (dir.path() / "keys.json").string();
  auto bad_audience = run_stagegate({"keys", "add", "--keys", file, "--audience", "a b"});
  EXPECT_EQ(bad_audience.exit_code, 2);
  EXPECT_NE(bad_audience.err.find("not an audience name"), std::string::npos) << bad_audience.err;
  EXPECT_FALSE(std::filesystem::exists(file));

  auto no_file = run_stagegate({"keys", "list", "--keys", file});
  EXPECT_EQ(no_file.exit_code, 3);
  EXPECT_NE(no_file.err.find(file + ": no such keys file"), std::string::npos) << no_file.err;

  ASSERT_EQ(run_stagegate({"keys", "add", "--keys", file, "--audience", "a"}).exit_code, 0);
  auto unknown = run_stagegate({"keys", "revoke", "--keys", file, "abcdefabcdef"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("no key with id 'abcdefabcdef'"), std::string::npos) << unknown.err;

  auto junk = dir.write("junk.json", "{\"keys\": []}");
  auto not_keys = run_stagegate({"keys", "add", "--keys", junk.string(), "--audience", "a"});
  EXPECT_EQ(not_keys.exit_code, 3);
  EXPECT_NE(not_keys.err.find("stagegate_keys"), std::string::npos) << not_keys.err;

  EXPECT_EQ(run_stagegate({"keys", "rotate", "--keys", file}).exit_code, 2);
  EXPECT_EQ(run_stagegate({"keys"}).exit_code, 2);
}

}  // namespace
