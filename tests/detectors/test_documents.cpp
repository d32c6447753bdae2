// The repetition detector's documents by id (human continuations of held-out prompts): ids
// named as the prompt files name them, every error naming the file and line.
#include <zstd.h>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "plan_files.hpp"
#include "repetition/documents.hpp"

namespace sg::detectors::repetition {
namespace {

std::string zstd(const std::string& bytes) {
  std::string packed(ZSTD_compressBound(bytes.size()), '\0');
  packed.resize(ZSTD_compress(packed.data(), packed.size(), bytes.data(), bytes.size(), 3));
  return packed;
}

void expect_error(const std::string& name, const std::string& bytes, const std::string& fragment) {
  testing::PlanDir dir;
  const auto file = dir.write(name, bytes);
  try {
    read_documents(file, {"1"});
    ADD_FAILURE() << "read without error: " << bytes;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string() + fragment), std::string::npos) << e.what();
  }
}

TEST(Documents, FindsTheAskedIdsWithTheirLines) {
  testing::PlanDir dir;
  const std::string bytes =
      "{\"id\": 1, \"text\": \"one\"}\n\n{\"id\": \"b\", \"text\": \"bee\", \"more\": [1]}\r\n"
      "{\"id\": 3, \"text\": \"three\"}";
  for (const auto* name : {"d.jsonl", "d.jsonl.zst"}) {
    const auto file = dir.write(name, std::string(name).ends_with(".zst") ? zstd(bytes) : bytes);
    const auto docs = read_documents(file, {"b", "3", "absent"});
    ASSERT_EQ(docs.by_id.size(), 2u) << name;
    EXPECT_EQ(docs.by_id.at("b").text, "bee");
    EXPECT_EQ(docs.by_id.at("b").line, 3);
    EXPECT_EQ(docs.by_id.at("3").text, "three");
    EXPECT_EQ(docs.by_id.at("3").line, 4);
  }
}

// Found by fuzzing (tests/fuzz/corpus/jsonl/integer-ids): an id above 2^63 - 1 was read as a
// wrapped negative number, so the prompt file's record of that id had no continuation.
TEST(Documents, IntegerIdsAreTheirDecimalDigitsAsInPromptFiles) {
  testing::PlanDir dir;
  const auto file = dir.write(
      "d.jsonl",
      "{\"id\": 18446744073709551615, \"text\": \"big\"}\n{\"id\": -3, \"text\": \"neg\"}\n");
  const auto docs = read_documents(file, {"18446744073709551615", "-3", "-1"});
  ASSERT_EQ(docs.by_id.size(), 2u);
  EXPECT_EQ(docs.by_id.at("18446744073709551615").text, "big");
  EXPECT_EQ(docs.by_id.at("-3").text, "neg");
}

TEST(Documents, BadLinesAndStreamsAreRefusedWithTheirPlace) {
  expect_error("d.jsonl", "{\"id\": 1, \"text\": \"a\"}\n{\"id\": 1, \"text\": \"b\"}\n",
               ":2: id '1' repeated");
  expect_error("d.jsonl", "{\"id\": 1.5, \"text\": \"a\"}\n", ":1: \"id\" is neither");
  expect_error("d.jsonl", "\n{\"text\": \"no id\"}\n", ":2: expected an object");
  expect_error("d.jsonl", "{\"id\": 1, \"text\": \"a\"\n", ":1: not valid JSON");
  const auto packed = zstd("{\"id\": 1, \"text\": \"a\"}\n");
  expect_error("d.jsonl.zst", packed.substr(0, packed.size() - 2), ": truncated zstd stream");
  expect_error("d.jsonl.zst", "not zstd at all", ": not a valid zstd stream");
}

// Found by fuzzing plans (tests/fuzz/corpus/plan/human-is-a-directory.ini): `human = files/`
// escaped as the standard library's read failure, not an error naming the file.
TEST(Documents, ADirectoryIsRefusedByName) {
  testing::PlanDir dir;
  try {
    read_documents(dir.path(), {"1"});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path().string() + ": not a readable file"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sg::detectors::repetition
