// RoBERTa's tokenizer: GPT-2's byte-level BPE with <s>, </s>, <pad>, <unk> and <mask>. Built
// from the demo's GPT-2 vocabulary with <|endoftext|> swapped for RoBERTa's special tokens,
// so plain text must encode exactly as the GPT-2 tokenizer encodes it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/temp_dir.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::tokenizer {
namespace {

using Ids = std::vector<std::int32_t>;
const std::filesystem::path kStage1 =
    std::filesystem::path(STAGEGATE_SOURCE_DIR) / "models/demo/stage1";

class Roberta : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    std::ifstream in(kStage1 / "vocab.json");
    auto vocab = nlohmann::json::parse(in);
    eot_ = vocab["<|endoftext|>"].get<std::int32_t>();
    vocab.erase("<|endoftext|>");
    vocab["<s>"] = eot_;  // reuses the freed id; the rest follow
    vocab["<pad>"] = eot_ + 1;
    vocab["</s>"] = eot_ + 2;
    vocab["<unk>"] = eot_ + 3;
    vocab["<mask>"] = eot_ + 4;
    std::ofstream(*dir_ / "vocab.json") << vocab.dump();
    std::filesystem::copy_file(kStage1 / "merges.txt", *dir_ / "merges.txt");
    roberta_ = load(dir_->path(), "roberta");
    gpt2_ = load(kStage1, "gpt2");
  }
  static void TearDownTestSuite() {
    roberta_.reset();
    gpt2_.reset();
    dir_.reset();
  }
  static Ids gpt2(const std::string& text) { return gpt2_->encode(text); }
  static inline std::unique_ptr<testing::TempDir> dir_;
  static inline std::unique_ptr<Tokenizer> roberta_, gpt2_;
  static inline std::int32_t eot_ = 0;
};

TEST_F(Roberta, SpecialIdsAndEndOfText) {
  EXPECT_EQ(roberta_->kind(), "roberta");
  const auto s = roberta_->special_ids();
  EXPECT_EQ(s.cls, eot_);
  EXPECT_EQ(s.pad, eot_ + 1);
  EXPECT_EQ(s.sep, eot_ + 2);
  EXPECT_EQ(s.unk, eot_ + 3);
  EXPECT_EQ(s.mask, eot_ + 4);
  EXPECT_EQ(roberta_->eos_id(), eot_ + 2);  // </s> ends a RoBERTa text
  EXPECT_EQ(roberta_->vocab_size(), eot_ + 5);
  EXPECT_FALSE(gpt2_->special_ids().cls);
}

TEST_F(Roberta, PlainTextEncodesAsGpt2) {
  for (const std::string text : {"Hello world, how are you?", " leading space", "naïve 中文 😀"})
    EXPECT_EQ(roberta_->encode(text), gpt2(text)) << text;
}

TEST_F(Roberta, SpecialTokenTextIsTheSpecialToken) {
  Ids want{eot_};
  for (auto id : gpt2("Hello world")) want.push_back(id);
  want.push_back(eot_ + 2);
  EXPECT_EQ(roberta_->encode("<s>Hello world</s>"), want);
  EXPECT_EQ(with_special_tokens(*roberta_, gpt2("Hello world")), want);
  // <mask> swallows the spaces before it; <s> does not.
  Ids masked = gpt2("Hello");
  masked.push_back(eot_ + 4);
  EXPECT_EQ(roberta_->encode("Hello  <mask>"), masked);
  Ids before_s = gpt2("Hello ");
  before_s.push_back(eot_);
  EXPECT_EQ(roberta_->encode("Hello <s>"), before_s);
  EncodeOptions plain;
  plain.allow_special = false;
  EXPECT_EQ(roberta_->encode("<s>", plain), gpt2("<s>"));
  EXPECT_EQ(roberta_->decode(roberta_->encode("<s>a <mask></s>")), "<s>a<mask></s>");
}

TEST_F(Roberta, DetectedWithoutModelType) {
  EXPECT_EQ(load(dir_->path())->kind(), "roberta");
  EXPECT_EQ(load(kStage1)->kind(), "gpt2");
}

TEST(RobertaFiles, WithoutSentenceTokensIsAnError) {
  EXPECT_THROW(load(kStage1, "roberta"), InputError);
}

}  // namespace
}  // namespace sg::tokenizer
