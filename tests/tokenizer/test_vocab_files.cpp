// vocab.json + merges.txt reading: what it promises the tokenizers (ids number the tokens
// 0..n-1 once each) and how it refuses hostile files (tests/fuzz/corpus/gpt2_vocab has them).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/errors.hpp"
#include "common/temp_dir.hpp"
#include "tokenizer/vocab_files.hpp"

namespace sg::tokenizer {
namespace {

std::string refusal(std::string_view vocab, std::string_view merges) {
  try {
    parse_vocab_files(vocab, merges, "dir");
  } catch (const InputError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(VocabFiles, ParsesIdsAndMergesInRankOrder) {
  const auto files =
      parse_vocab_files(R"({"a": 1, "b": 0, "ab": 2})", "#version: 0.2\r\na b\r\n\nab ab", "d");
  EXPECT_EQ(files.vocab_size, 3);
  EXPECT_EQ(files.vocab.at("ab"), 2);
  ASSERT_EQ(files.merges.size(), 2u);
  EXPECT_EQ(files.merges[0], std::make_pair(std::string("a"), std::string("b")));
  EXPECT_EQ(files.merges[1], std::make_pair(std::string("ab"), std::string("ab")));
}

// A few bytes claiming id 2^30 once made both tokenizers allocate a 2^30-entry table.
TEST(VocabFiles, RefusesAnIdBeyondTheTokenCount) {
  const auto why = refusal(R"({"a": 0, "b": 1073741824})", "");
  EXPECT_NE(why.find("dir/vocab.json"), std::string::npos) << why;
  EXPECT_NE(why.find("'b' has id 1073741824, outside 0..1"), std::string::npos) << why;
  EXPECT_NE(refusal(R"({"a": 18446744073709551615})", "").find("outside 0..0"), std::string::npos);
  EXPECT_NE(refusal(R"({"a": -1})", "").find("outside"), std::string::npos);
}

// Two tokens with one id would make decoding that id ambiguous (and GPT-2's lossless
// round trip false).
TEST(VocabFiles, RefusesTwoTokensSharingAnId) {
  const auto why = refusal(R"({"a": 0, "b": 0})", "");
  EXPECT_NE(why.find("share id 0"), std::string::npos) << why;
}

TEST(VocabFiles, RefusesNonIntegerIdsAndNonObjects) {
  EXPECT_NE(refusal(R"({"a": 0.5})", "").find("not a whole number"), std::string::npos);
  EXPECT_NE(refusal("[0]", "").find("not a JSON object"), std::string::npos);
  EXPECT_NE(refusal("{\"a\": 0", "").find("not valid JSON"), std::string::npos);
  // Found by fuzz_gpt2_vocab: nlohmann throws out_of_range, not parse_error, for a number
  // past a double's range, and it escaped the reader.
  EXPECT_NE(refusal(R"({"a": 0, "b": 1e07374})", "").find("dir/vocab.json: not valid JSON"),
            std::string::npos);
}

TEST(VocabFiles, MergeErrorsNameTheLine) {
  const auto why = refusal(R"({"a": 0})", "#version: 0.2\na b\na  b\n");
  EXPECT_NE(why.find("dir/merges.txt:3: expected two symbols"), std::string::npos) << why;
  EXPECT_NE(refusal(R"({"a": 0})", "a").find("merges.txt:1:"), std::string::npos);
}

TEST(VocabFiles, ReadsFromAFolderAndNamesAMissingFile) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "vocab.json") << R"({"a": 0, "b": 1, "ab": 2})";
  EXPECT_THROW(read_vocab_files(dir.path()), InputError);
  std::ofstream(dir.path() / "merges.txt") << "a b";  // no final newline
  const auto files = read_vocab_files(dir.path());
  EXPECT_EQ(files.vocab_size, 3);
  EXPECT_EQ(files.merges.size(), 1u);
}

}  // namespace
}  // namespace sg::tokenizer
