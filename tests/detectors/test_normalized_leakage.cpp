// The leakage filter's normalized mode, on demo corpus text and the demo tokenizer: copies of
// a training passage that change only case or spacing tokenize unlike the original, pass
// the exact filter and are blocked by the normalized one; text the corpus does not hold is
// never blocked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "../common/temp_dir.hpp"
#include "memorization/corpus_index.hpp"
#include "memorization/leakage_filter.hpp"
#include "memorization/tokenizer_hash.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
namespace mem = detectors::memorization;
using nlohmann::json;

const fs::path kDemo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";
constexpr std::uint32_t kN = 16;

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string spaces_doubled(const std::string& s) {
  std::string out;
  for (char c : s) out += c == ' ' ? std::string("  ") : std::string(1, c);
  return out;
}

struct Indexes {
  Indexes() : tokenizer(tokenizer::load(kDemo / "stage1")) {
    auto docs = mem::read_corpus_file(kDemo / "corpus" / "clean.train.jsonl.zst");
    docs.resize(40);
    passage = docs[7].text;
    const auto hash = mem::tokenizer_hash(kDemo / "stage1");
    mem::IndexBuildInput input{docs};
    mem::build_index(input, *tokenizer, hash, dir.path() / "exact.sgidx",
                     {.threads = 1, .progress = false});
    mem::build_index(
        input, *tokenizer, hash, dir.path() / "normalized.sgidx",
        {.threads = 1, .progress = false, .normalization = mem::TextNormalization::kLowerSpace});
    exact = std::make_shared<const mem::CorpusIndex>(
        mem::CorpusIndex::open(dir.path() / "exact.sgidx"));
    normalized = std::make_shared<const mem::CorpusIndex>(
        mem::CorpusIndex::open(dir.path() / "normalized.sgidx"));
  }
  TempDir dir;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
  std::string passage;
  std::shared_ptr<const mem::CorpusIndex> exact, normalized;
};

const Indexes& indexes() {
  static const Indexes built;
  return built;
}

struct Block {
  std::size_t position;  // output token vetoed
  json detail;
};

// Feeds `text` (its first `prompt_tokens` tokens as the prompt, the rest as output the model
// chose) through a filter; the first veto, if any.
std::optional<Block> first_block(const mem::LeakageFilterFactory& factory, const std::string& text,
                                 std::size_t prompt_tokens) {
  const auto ids = indexes().tokenizer->encode(text);
  if (ids.size() <= prompt_tokens) throw std::logic_error("text shorter than its prompt");
  auto filter = factory.make();
  const std::span all(ids);
  for (std::size_t i = prompt_tokens; i < ids.size(); ++i) {
    const engine::GenerationState state{all.first(prompt_tokens),
                                        all.subspan(prompt_tokens, i - prompt_tokens)};
    if (auto event = filter->veto(state, ids[i])) {
      EXPECT_EQ(event->filter, "memorization.leakage");
      EXPECT_EQ(event->position, static_cast<std::int64_t>(i - prompt_tokens));
      return Block{i - prompt_tokens, json::parse(event->detail_json)};
    }
    filter->stop(state);
  }
  return std::nullopt;
}

TEST(NormalizedLeakage, TheIndexRecordsItsNormalization) {
  EXPECT_EQ(indexes().exact->normalization(), mem::TextNormalization::kNone);
  EXPECT_EQ(indexes().normalized->normalization(), mem::TextNormalization::kLowerSpace);
  EXPECT_EQ(mem::normalize_lower_space("  The\tLORD  said,\n\nLet "), "the lord said, let");
  // A normalized index needs the tokenizer to re-tokenize text.
  EXPECT_THROW(mem::LeakageFilterFactory(indexes().normalized, kN), std::invalid_argument);
}

TEST(NormalizedLeakage, BlocksCopiesThatDifferInCaseOrSpacing) {
  const auto& ix = indexes();
  const mem::LeakageFilterFactory exact(ix.exact, kN);
  const mem::LeakageFilterFactory normalized(ix.normalized, kN, ix.tokenizer);
  ASSERT_GT(ix.passage.size(), 400u);
  const std::string original = ix.passage.substr(0, 400);

  // The original: both filters block it once a span of N tokens is copied.
  const auto exact_block = first_block(exact, original, 4);
  ASSERT_TRUE(exact_block);
  EXPECT_EQ(exact_block->position, kN - 5);
  const auto normalized_block = first_block(normalized, original, 4);
  ASSERT_TRUE(normalized_block);
  EXPECT_EQ(normalized_block->detail["normalized"], "lower-space");
  EXPECT_EQ(normalized_block->detail["span_length"], kN);

  for (const auto& variant : {upper(original), spaces_doubled(original)}) {
    // The exact filter lets the whole near-copy through (the guard that makes the
    // normalized filter's block mean something) ...
    EXPECT_FALSE(first_block(exact, variant, 4)) << variant.substr(0, 60);
    // ... the normalized one stops it, pointing at the passage it copies.
    const auto block = first_block(normalized, variant, 4);
    ASSERT_TRUE(block) << variant.substr(0, 60);
    EXPECT_EQ(block->detail["document"]["id"], 7);
    // Within a few words of the N-token mark: the near-copy has more tokens than the original.
    EXPECT_LT(block->position, 4 * kN);
  }
}

TEST(NormalizedLeakage, NeverBlocksTextTheCorpusDoesNotHold) {
  const auto& ix = indexes();
  const mem::LeakageFilterFactory normalized(ix.normalized, kN, ix.tokenizer);
  const std::string fresh =
      "The committee met on Tuesday to review the quarterly budget, and after a long "
      "discussion about travel costs, printer paper and the new coffee machine, it agreed "
      "to postpone every decision until the auditors had sent their report in March.";
  EXPECT_FALSE(first_block(normalized, fresh, 4));
  EXPECT_FALSE(first_block(normalized, upper(fresh), 4));
}

}  // namespace
}  // namespace sg::testing
