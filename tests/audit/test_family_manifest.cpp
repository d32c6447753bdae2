// family.json: one reader for the audit's stage, `index build --family`'s corpus and
// `policy check`'s hashes, refusing a manifest that could name a checkpoint two ways.
#include "audit/family_manifest.hpp"

#include <gtest/gtest.h>

#include "audit/plan_files.hpp"
#include "common/errors.hpp"

namespace sg::audit {
namespace {

namespace fs = std::filesystem;

const fs::path kDemoFamily = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";

TEST(FamilyManifest, ReadsTheDemoFamilysStagesAndSibling) {
  const auto m = FamilyManifest::read(kDemoFamily / "family.json");
  EXPECT_EQ(m.family, "stagegate-demo");
  ASSERT_EQ(m.entries.size(), 5u);
  EXPECT_EQ(m.entries[0].name, "stage1");
  EXPECT_FALSE(m.entries[0].sibling);
  EXPECT_EQ(m.entries[4].name, "gpt1");
  EXPECT_TRUE(m.entries[4].sibling);
  EXPECT_EQ(m.entries[4].slices, std::vector<std::string>{"clean.train"});
  EXPECT_EQ(m.entries[0].weights_sha256.size(), 64u);
  EXPECT_EQ(m.entry_at(kDemoFamily / "stage3" / ".." / "stage2"), m.entry("stage2"));
  EXPECT_EQ(m.entry("stage9"), nullptr);
  const auto member = find_family_member(kDemoFamily / "stage2");
  ASSERT_TRUE(member);
  EXPECT_EQ(member->stage, "stage2");
}

// Found by reading while writing its fuzz target: two entries of one name (or directory)
// gave the audit one stage for a checkpoint and `index build` the other's corpus; a
// weights_sha256 that was not a string escaped `policy check` as a JSON type error.
TEST(FamilyManifest, AmbiguousOrMalformedManifestsAreRefusedNamingTheField) {
  const std::string ok = R"({"name": "a", "directory": "a"})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"family": "f", "stages": [)" + ok + ", " + ok + "]}",
       "stages[1].name: 'a' listed twice"},
      {R"({"family": "f", "stages": [)" + ok +
           R"(], "siblings": [{"name": "b", "directory": "./a/"}]})",
       "siblings[0].directory"},
      {R"({"family": "f", "stages": [{"name": "a", "directory": "a", "slices": ["../x"]}]})",
       "stages[0].slices: \"../x\" is not a slice name"},
      {R"({"family": "f", "stages": [{"name": "a", "directory": "a", "slices": ["c/d"]}]})",
       "stages[0].slices"},
      {R"({"family": "f", "stages": [{"name": "a", "directory": "a", "weights_sha256": 7}]})",
       "stages[0].weights_sha256: not a hex SHA-256"},
      {R"({"family": "f", "stages": [{"name": "a", "name": "b", "directory": "a"}]})", "name"},
      {R"({"family": "f", "stages": [{"directory": "a"}]})", "stages[0].name: missing"},
      {R"({"family": "f", "stages": []})", "lists no stages or siblings"},
      {R"({"stages": [{"name": "a", "directory": "a"}]})", "family: missing"},
      {R"([1, 2])", "family.json"},
  };
  for (const auto& [text, fragment] : cases) {
    try {
      FamilyManifest::parse(text, "fam/family.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("fam/family.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << e.what();
    }
  }
}

TEST(FamilyManifest, AStageWithoutSlicesHasNoCorpusToIndex) {
  testing::PlanDir dir;
  dir.write("family.json", R"({"family": "f", "stages": [{"name": "a", "directory": "a"}]})");
  const auto stage = read_family_stage(dir.path(), "a");
  EXPECT_EQ(stage.directory, dir.path() / "a");
  try {
    stage_corpus_files(dir.path(), stage);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'a' lists no corpus slices"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(read_family_stage(dir.path(), "b"), InputError);
}

}  // namespace
}  // namespace sg::audit
