// GPT-2's tokenizer against tiktoken's GPT-2 ranks (fixture made by
// tools/tokenizer/make_fixtures.js), plus the error and streaming contracts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::tokenizer {
namespace {

const std::filesystem::path kGpt2Dir =
    std::filesystem::path(STAGEGATE_SOURCE_DIR) / "models/gpt2-tokenizer";

const Tokenizer& gpt2() {
  static const auto tok = load(kGpt2Dir);
  return *tok;
}

TEST(Gpt2Tokenizer, LoadsGpt2Vocabulary) {
  EXPECT_EQ(gpt2().kind(), "gpt2");
  EXPECT_EQ(gpt2().vocab_size(), 50257);
  EXPECT_EQ(gpt2().eos_id(), 50256);
}

TEST(Gpt2Tokenizer, MatchesTiktokenOnTheWholeCorpus) {
  std::ifstream in(std::filesystem::path(STAGEGATE_FIXTURES) / "tokenizer/gpt2_corpus.jsonl");
  ASSERT_TRUE(in) << "fixture missing";
  std::string line;
  int count = 0, mismatches = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    auto text = j["text"].get<std::string>();
    auto want = j["ids"].get<std::vector<std::int32_t>>();
    auto got = gpt2().encode(text);
    if (got != want && ++mismatches <= 5)
      ADD_FAILURE() << "mismatch on " << nlohmann::json(text).dump();
    EXPECT_EQ(gpt2().decode(got), text) << "round trip of " << nlohmann::json(text).dump();
    ++count;
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(count, 1000);
}

TEST(Gpt2Tokenizer, EndOfTextIsSpecialUnlessDisabled) {
  auto with = gpt2().encode("a<|endoftext|>b");
  EXPECT_EQ(with, (std::vector<std::int32_t>{64, 50256, 65}));
  EncodeOptions plain;
  plain.allow_special = false;
  auto without = gpt2().encode("a<|endoftext|>b", plain);
  EXPECT_EQ(std::count(without.begin(), without.end(), 50256), 0);
  EXPECT_EQ(gpt2().decode(without), "a<|endoftext|>b");
}

TEST(Gpt2Tokenizer, InvalidUtf8NamesTheByteOffset) {
  try {
    gpt2().encode("ok \xff bad");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("byte offset 3"), std::string::npos) << e.what();
  }
  // A truncated sequence at the end, an overlong encoding and a surrogate are invalid too.
  EXPECT_THROW(gpt2().encode("abc\xe2\x82"), InputError);
  EXPECT_THROW(gpt2().encode("\xc0\xaf"), InputError);
  EXPECT_THROW(gpt2().encode("\xed\xa0\x80"), InputError);
}

TEST(Gpt2Tokenizer, ReplaceModeMatchesPythonErrorsReplace) {
  EncodeOptions o;
  o.invalid_utf8 = InvalidUtf8::kReplace;
  // Python: b"a\xe2\x82b\xffc\xc0\xafd".decode(errors="replace") == "a\ufffdb\ufffdc\ufffd\ufffdd"
  auto ids = gpt2().encode(
      "a\xe2\x82"
      "b\xff"
      "c\xc0\xaf"
      "d",
      o);
  EXPECT_EQ(gpt2().decode(ids), "a\uFFFDb\uFFFDc\uFFFD\uFFFDd");
  EXPECT_EQ(ids, gpt2().encode("a\uFFFDb\uFFFDc\uFFFD\uFFFDd"));
}

TEST(Gpt2Tokenizer, DecodeReplacesBrokenBytesAndRejectsBadIds) {
  // 🤖 is three tokens in GPT-2; without the last, its bytes are an unfinished character.
  auto robot = gpt2().encode("🤖");
  ASSERT_EQ(robot.size(), 3u);
  std::vector<std::int32_t> half(robot.begin(), robot.end() - 1);
  EXPECT_EQ(gpt2().decode(half), "\uFFFD");
  std::vector<std::int32_t> bad{1, 50257};
  EXPECT_THROW(gpt2().decode(bad), InputError);
}

TEST(StreamDecoder, HoldsBackIncompleteCharacters) {
  const std::string text = "naïve 🤖 → 日本語 ok";
  auto ids = gpt2().encode(text);
  StreamDecoder stream(gpt2());
  std::string out;
  for (auto id : ids) {
    std::string piece = stream.push(id);
    // Every emitted piece is whole UTF-8 on its own.
    EXPECT_EQ(gpt2().decode(gpt2().encode(piece)), piece);
    out += piece;
  }
  out += stream.finish();
  EXPECT_EQ(out, text);
}

TEST(StreamDecoder, FinishFlushesAnUnfinishedCharacter) {
  auto robot = gpt2().encode("🤖");
  StreamDecoder stream(gpt2());
  std::string out;
  for (std::size_t i = 0; i + 1 < robot.size(); ++i) out += stream.push(robot[i]);
  EXPECT_EQ(out, "");
  EXPECT_EQ(stream.finish(), "\uFFFD");
}

}  // namespace
}  // namespace sg::tokenizer
