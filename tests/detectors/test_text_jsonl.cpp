// Prompt and held-out files: JSON Lines whose every error names the file and the line.
#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "plan_files.hpp"
#include "seam/text_jsonl.hpp"

namespace sg::detectors {
namespace {

void expect_error(const std::string& bytes, const std::vector<std::string>& fragments) {
  testing::PlanDir dir;
  const auto file = dir.write("prompts.jsonl", bytes);
  try {
    read_text_jsonl(file);
    ADD_FAILURE() << "read without error: " << bytes;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message lacks '" << f << "': " << e.what();
  }
}

TEST(TextJsonl, IdsAreStringsIntegersOrTheLineNumber) {
  testing::PlanDir dir;
  const std::string bytes =
      "{\"id\": \"intro\", \"text\": \"Once upon a time\"}\n"
      "\n"
      "{\"text\": \"Caf\\u00e9 \xF0\x9F\x98\x80\", \"toxicity\": 0.1}\r\n"
      "{\"id\": 17, \"text\": \"\"}";
  const auto f = read_text_jsonl(dir.write("p.jsonl", bytes));
  ASSERT_EQ(f.records.size(), 3u);
  EXPECT_EQ(f.records[0].id, "intro");
  EXPECT_EQ(f.records[1].id, "3");
  EXPECT_EQ(f.records[1].text, "Caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(f.records[1].line, 3);
  EXPECT_EQ(f.records[2].id, "17");
  EXPECT_EQ(f.records[2].text, "");
  EXPECT_EQ(f.sha256, sha256_hex(bytes));
}

TEST(TextJsonl, BadLinesNameTheirLine) {
  expect_error("{\"text\": \"a\"}\n{\"text\": \"b\xC3\x28\"}\n",
               {":2:", "invalid UTF-8", "byte 12"});
  expect_error("{\"text\": \"a\"}\n{\"text\": \"b\"\n", {":2:", "not valid JSON"});
  expect_error("[\"text\"]\n", {":1:", "JSON object"});
  expect_error("{\"id\": 1}\n", {":1:", "text"});
  expect_error("{\"text\": 5}\n", {":1:", "text"});
  expect_error("{\"id\": 1.5, \"text\": \"a\"}\n", {":1:", "id"});
  expect_error("{\"id\": \"\", \"text\": \"a\"}\n", {":1:", "id"});
  expect_error("{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"a\", \"text\": \"y\"}\n",
               {":2:", "'a' repeated", "first at line 1"});
  expect_error("{\"text\": \"x\"}\n{\"id\": \"1\", \"text\": \"y\"}\n", {":2:", "'1' repeated"});
  expect_error("\n  \n", {"no records"});
}

TEST(TextJsonl, AMissingFileIsNamed) {
  EXPECT_THROW(read_text_jsonl("/nonexistent/prompts.jsonl"), InputError);
}

}  // namespace
}  // namespace sg::detectors
