// GPT-1's tokenizer: each normalisation rule of Hugging Face's OpenAIGPTTokenizer (without
// ftfy/spaCy), checked by hand, and encode(decode(encode(s))) == encode(s) on real text.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "tokenizer/basic_tokenizer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::tokenizer {
namespace {

using Words = std::vector<std::string>;

TEST(BasicTokenizer, LowerCasesAndSplitsPunctuation) {
  EXPECT_EQ(basic_tokenize("Hello, World!"), (Words{"hello", ",", "world", "!"}));
  EXPECT_EQ(basic_tokenize("don't"), (Words{"don", "'", "t"}));
  EXPECT_EQ(basic_tokenize("a-b_c"), (Words{"a", "-", "b", "_", "c"}));
  EXPECT_EQ(basic_tokenize("«quoted»"), (Words{"«", "quoted", "»"}));            // Unicode Pi/Pf
  EXPECT_EQ(basic_tokenize("$5 + 3^2"), (Words{"$", "5", "+", "3", "^", "2"}));  // ASCII symbols
}

TEST(BasicTokenizer, StripsAccents) {
  EXPECT_EQ(basic_tokenize("Café NAÏVE Ångström"), (Words{"cafe", "naive", "angstrom"}));
  EXPECT_EQ(basic_tokenize("e\u0301"), (Words{"e"}));
}

TEST(BasicTokenizer, CleansControlsAndWhitespace) {
  EXPECT_EQ(basic_tokenize("a\tb\nc\r\nd\u00a0e\u3000f"), (Words{"a", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(basic_tokenize(std::string("x\0y", 3)), (Words{"xy"}));
  EXPECT_EQ(basic_tokenize("x\u0007y\uFFFDz\u200bw"), (Words{"xyzw"}));  // Cc, U+FFFD, Cf dropped
  EXPECT_TRUE(basic_tokenize("   \t\n ").empty());
}

TEST(BasicTokenizer, SpacesOutCjkIdeographs) {
  EXPECT_EQ(basic_tokenize("中文abc字"), (Words{"中", "文", "abc", "字"}));
  // Kana are not CJK ideographs, so they stay one word; NFD splits the dakuten off が as a
  // non-spacing mark, which accent stripping drops (as Hugging Face's tokenizer does).
  EXPECT_EQ(basic_tokenize("ひらがな"), (Words{"ひらかな"}));
}

class Gpt1Tokenizer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tok_ = load(std::filesystem::path(STAGEGATE_FIXTURES) / "models/openai-gpt-f32");
  }
  static inline std::unique_ptr<Tokenizer> tok_;
};

TEST_F(Gpt1Tokenizer, DetectedFromWordEndMerges) {
  EXPECT_EQ(tok_->kind(), "openai-gpt");
  EXPECT_FALSE(tok_->eos_id());
}

TEST_F(Gpt1Tokenizer, WordsEndWithWordEndMarker) {
  auto ids = tok_->encode("the beginning");
  EXPECT_EQ(tok_->decode(ids), "the beginning");
  // Every word's last token carries </w>: decoding single tokens shows the boundaries.
  std::string last = tok_->decode_bytes(std::span(&ids.back(), 1));
  EXPECT_EQ(last.back(), ' ');
}

TEST_F(Gpt1Tokenizer, UnknownSymbolsBecomeUnk) {
  auto ids = tok_->encode("☃");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(tok_->decode(ids), "<unk>");
}

// Lower-casing and accent stripping lose information, so the property is on ids. Texts with
// symbols outside this small vocabulary are left out: "<unk>" decodes to the literal text
// "<unk>", which no tokenizer maps back to the unknown token.
TEST_F(Gpt1Tokenizer, ReEncodingDecodedTextIsStable) {
  std::ifstream in(std::filesystem::path(STAGEGATE_FIXTURES) / "tokenizer/gpt2_corpus.jsonl");
  const auto unk = tok_->encode("☃").front();
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    auto text = nlohmann::json::parse(line)["text"].get<std::string>();
    auto ids = tok_->encode(text);
    if (std::find(ids.begin(), ids.end(), unk) != ids.end()) continue;
    EXPECT_EQ(tok_->encode(tok_->decode(ids)), ids) << nlohmann::json(text).dump();
    ++checked;
  }
  EXPECT_GT(checked, 200);  // most KJV verses
}

}  // namespace
}  // namespace sg::tokenizer
