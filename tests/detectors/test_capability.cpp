// The capability detector's parts that need no device: the LAMBADA-style task file, how the
// predicted word is read from a continuation, and bits per byte worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "capability/bits_per_byte.hpp"
#include "capability/zero_shot.hpp"
#include "common/errors.hpp"
#include "plan_files.hpp"

namespace sg::detectors::capability {
namespace {

namespace fs = std::filesystem;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ZeroShotTask, TheLastWordIsTheTargetAsInLambadasJsonl) {
  sg::testing::PlanDir dir;
  const auto file =
      dir.write("lambada.jsonl",
                "{\"text\": \"the cat sat on the mat and then the cat\"}\n"
                "{\"id\": \"two\", \"text\": \"And the LORD said unto  \\n Moses.\\n\"}\n");
  const auto items = zero_shot_items(file, read_text_jsonl(file));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].id, "1");  // LAMBADA's lines have no id: the line number
  EXPECT_EQ(items[0].context, "the cat sat on the mat and then the");
  EXPECT_EQ(items[0].target, "cat");
  EXPECT_EQ(items[1].id, "two");
  EXPECT_EQ(items[1].context, "And the LORD said unto");
  EXPECT_EQ(items[1].target, "Moses.");
}

TEST(ZeroShotTask, APassageWithNothingToPredictIsRefusedAtItsLine) {
  sg::testing::PlanDir dir;
  const auto one = dir.write("one.jsonl", "{\"text\": \"a b\"}\n{\"text\": \"  alone \"}\n");
  EXPECT_EQ(error_of([&] { zero_shot_items(one, read_text_jsonl(one)); }),
            one.string() + ":2: text: a zero-shot passage needs a context before its last word");
  const auto dots = dir.write("dots.jsonl", "{\"text\": \"and then ...\"}\n");
  EXPECT_EQ(error_of([&] { zero_shot_items(dots, read_text_jsonl(dots)); }),
            dots.string() + ":1: text: the last word '...' has no letter or digit to predict");
}

TEST(ZeroShotAnswer, TheFirstNewWordWithoutItsPunctuation) {
  const std::string context = "and he afterward";
  auto word = [&](const std::string& continuation) {
    const std::string full = context + continuation;
    const auto p = predicted_word(full, context.size());
    return p ? std::string(p->word) : std::string("(none)");
  };
  EXPECT_EQ(word(" hungered. And"), "hungered");
  EXPECT_EQ(word("\n\n\"Hungered,\" he"), "Hungered");
  EXPECT_EQ(word(""), "(none)");
  EXPECT_EQ(word("   "), "(none)");
  // Glued onto the context's last word: that longer word is the prediction, never a match.
  EXPECT_EQ(word("ly then"), "afterwardly");
  EXPECT_EQ(word(", and"), "afterward");
  const std::string quoted = context + " \"hungered\"";
  const auto p = predicted_word(quoted, context.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->start, context.size() + 2);  // the bare word's bytes in the full text
}

TEST(ZeroShotAnswer, TheTargetAsTheTokenizerCanWriteIt) {
  const auto gpt2 = tokenizer::load(kDemo / "stage1", "gpt2");
  const auto gpt1 = tokenizer::load(kDemo / "gpt1", "openai-gpt");
  EXPECT_EQ(expressible_target(*gpt2, "Jordan."), "Jordan");
  EXPECT_EQ(expressible_target(*gpt1, "Jordan."), "jordan");  // GPT-1 lower-cases its input
  EXPECT_EQ(bare_word("\"(well)\","), "well");
  EXPECT_EQ(bare_word("don't"), "don't");
}

// Bits per byte by hand: a text of 16 bytes whose tokens get log-probs of k ln 2 (k bits each).
TEST(BitsPerByte, EveryByteIsScoredAfterTheEndOfTextToken) {
  const auto gpt2 = tokenizer::load(kDemo / "stage1", "gpt2");
  const std::string text = "In the beginning";
  std::vector<std::int32_t> tokens = {*gpt2->eos_id()};
  for (auto id : gpt2->encode(text)) tokens.push_back(id);
  ASSERT_EQ(tokens.size(), 4u);  // <|endoftext|> In _the _beginning
  const std::vector<double> logprobs = {-3 * std::numbers::ln2, -1 * std::numbers::ln2,
                                        -4 * std::numbers::ln2};
  Sample s;
  s.text = text;
  s.tokens = tokens;
  s.logprobs = logprobs;
  const auto score = byte_score(s, *gpt2);
  ASSERT_TRUE(score);
  EXPECT_NEAR(score->bits, 8.0, 1e-12);
  EXPECT_EQ(score->bytes, 16);
  EXPECT_NEAR(score->bits_per_byte(), 0.5, 1e-12);
}

TEST(BitsPerByte, WithoutAnEndOfTextTokenTheFirstTokensBytesAreNotCounted) {
  const auto gpt1 = tokenizer::load(kDemo / "gpt1", "openai-gpt");
  ASSERT_FALSE(gpt1->eos_id());
  const std::string text = "In the beginning";
  const auto tokens = gpt1->encode(text);
  ASSERT_GE(tokens.size(), 3u);
  ASSERT_EQ(gpt1->decode_bytes(std::span(tokens).first(1)).rfind("in", 0), 0u);
  const std::vector<double> logprobs(tokens.size() - 1, -2 * std::numbers::ln2);
  Sample s;
  s.text = text;
  s.tokens = tokens;
  s.logprobs = logprobs;
  const auto score = byte_score(s, *gpt1);
  ASSERT_TRUE(score);
  EXPECT_EQ(score->bytes, 14);  // "In" is the unscored first token
  EXPECT_NEAR(score->bits_per_byte(), 2.0 * static_cast<double>(logprobs.size()) / 14, 1e-12);
  s.logprobs = {};
  EXPECT_FALSE(byte_score(s, *gpt1));
}

}  // namespace
}  // namespace sg::detectors::capability
