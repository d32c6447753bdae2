// API keys: shown once, stored as hashes, found by hash alone, revoked without being
// forgotten, and a keys file that is not one is refused by field.
#include "serve/api_keys.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "audit/plan_files.hpp"
#include "common/errors.hpp"
#include "common/sha256.hpp"

namespace sg::serve {
namespace {

std::string text_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(ApiKeys, AKeyIsShownOnceAndStoredOnlyAsItsHash) {
  testing::PlanDir dir;
  auto keys = KeysFile::read(dir.path() / "keys.json");
  EXPECT_TRUE(keys.keys().empty());
  const auto key = keys.add("researchers", "alice");
  const auto other = keys.add("public", "");
  ASSERT_EQ(key.size(), 3u + 48u);
  EXPECT_EQ(key.substr(0, 3), "sg-");
  EXPECT_NE(key, other);
  keys.write();

  const auto stored = text_of(dir.path() / "keys.json");
  EXPECT_EQ(stored.find(key), std::string::npos);
  EXPECT_EQ(stored.find(key.substr(3)), std::string::npos);
  EXPECT_NE(stored.find(sha256_hex(key)), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "keys.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const auto again = KeysFile::read(dir.path() / "keys.json");
  ASSERT_EQ(again.keys().size(), 2u);
  const auto* found = again.find(key);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->audience, "researchers");
  EXPECT_EQ(found->label, "alice");
  EXPECT_EQ(found->id, sha256_hex(key).substr(0, 12));
  EXPECT_EQ(again.find(other)->audience, "public");
  EXPECT_EQ(again.find(key + "x"), nullptr);
  EXPECT_EQ(again.find(""), nullptr);
  EXPECT_EQ(again.find(sha256_hex(key)), nullptr);  // the hash is not a key
}

TEST(ApiKeys, ARevokedKeyStaysListedWithWhen) {
  testing::PlanDir dir;
  auto keys = KeysFile::read(dir.path() / "keys.json");
  const auto key = keys.add("public", "");
  const auto id = keys.keys().front().id;
  keys.revoke(id);
  keys.write();
  const auto again = KeysFile::read(dir.path() / "keys.json");
  ASSERT_NE(again.find(key), nullptr);
  ASSERT_TRUE(again.find(key)->revoked);
  EXPECT_EQ(again.find(key)->revoked->substr(0, 2), "20");
  auto copy = again;
  EXPECT_THROW(copy.revoke(id), InputError);
  EXPECT_THROW(copy.revoke("000000000000"), InputError);
}

TEST(ApiKeys, AnAudienceMustBeAPolicyName) {
  KeysFile keys;
  EXPECT_THROW(keys.add("research ers", ""), UsageError);
  EXPECT_THROW(keys.add("", ""), UsageError);
  EXPECT_THROW(keys.add("a.b", ""), UsageError);
  EXPECT_NO_THROW(keys.add("lab_2-b", ""));
}

TEST(ApiKeys, AFileThatIsNotAKeysFileIsRefusedByField) {
  const std::string hash = sha256_hex("sg-x");
  const std::string good = R"({"id": ")" + hash.substr(0, 12) +
                           R"(", "audience": "a", "label": "", "sha256": ")" + hash +
                           R"(", "created": "2026-11-28T09:00:00.123Z", "revoked": null})";
  EXPECT_EQ(
      KeysFile::parse(R"({"stagegate_keys": 1, "keys": [)" + good + "]}", "k.json").keys().size(),
      1u);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"keys": []})", "stagegate_keys: missing"},
      {R"({"stagegate_keys": 2, "keys": []})", "not format 1"},
      {R"({"stagegate_keys": 1})", "keys: missing"},
      {R"({"stagegate_keys": 1, "keys": [)" + good + ", " + good + "]}",
       "keys[1].id: '" + hash.substr(0, 12) + "' listed twice"},
      {R"({"stagegate_keys": 1, "keys": [{"id": "x"}]})", "keys[0].audience: missing"},
      {R"({"stagegate_keys": 1, "keys": [)" +
           std::string(good).replace(good.find(hash), 64, std::string(64, 'G')) + "]}",
       "keys[0].sha256: not a hex SHA-256"},
      {R"({"stagegate_keys": 1, "keys": [)" +
           std::string(good).replace(good.find("2026-11-28T"), 11, "2026-02-30T") + "]}",
       "keys[0].created"},
      {R"({"stagegate_keys": 1, "stagegate_keys": 1, "keys": []})", "k.json"},
      {"not json", "k.json"},
  };
  for (const auto& [text, fragment] : cases) {
    try {
      KeysFile::parse(text, "k.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << e.what();
    }
  }
}

// The rename over a non-empty folder fails (as it would on a full or read-only disk the
// write would): an error naming the file, what was there untouched, no temporary left.
TEST(ApiKeys, AFailedWriteLeavesWhatWasThereAndNoTemporary) {
  testing::PlanDir dir;
  dir.write("keys.json/inside", "kept");
  KeysFile at_folder =
      KeysFile::parse(R"({"stagegate_keys": 1, "keys": []})", dir.path() / "keys.json");
  at_folder.add("a", "");
  try {
    at_folder.write();
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("keys.json: not written"), std::string::npos) << e.what();
  }
  EXPECT_EQ(text_of(dir.path() / "keys.json" / "inside"), "kept");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);  // keys.json/ alone
}

}  // namespace
}  // namespace sg::serve
