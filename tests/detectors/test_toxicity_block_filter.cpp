// The in-loop lexicon filter with the demo family's tokenizer: a token is vetoed exactly when
// it would complete a listed term of at least the minimum severity, across BPE pieces and
// from the prompt's end; each veto is a "toxicity.block" event naming the term.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/errors.hpp"
#include "toxicity/lexicon_filter.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
namespace tox = detectors::toxicity;
using nlohmann::json;

const fs::path kStage4 = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo" / "stage4";

class BlockFilterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { tok_ = tokenizer::load(kStage4).release(); }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }

  std::vector<std::int32_t> ids(std::string_view text) const { return tok_->encode(text); }
  // The single token `text` encodes to (the case needs exactly that piece).
  std::int32_t token(std::string_view text) const {
    const auto t = ids(text);
    EXPECT_EQ(t.size(), 1u) << "'" << text << "' is not one token";
    return t.empty() ? 0 : t.front();
  }
  // Asks a fresh filter about `candidate` after `prompt` + `output`.
  std::optional<engine::FilterEvent> veto(std::string_view prompt, std::string_view output,
                                          std::int32_t candidate, int min_severity = 1) const {
    const auto filter = tox::make_lexicon_block_filter(*tok_, min_severity)->make();
    const auto p = ids(prompt);
    const auto g = ids(output);
    return filter->veto({p, g}, candidate);
  }

  static inline tokenizer::Tokenizer* tok_ = nullptr;  // NOLINT: one per suite
};

TEST_F(BlockFilterTest, BlocksThePieceThatCompletesATerm) {
  const auto event = veto("user12: you are a", " sh", token("it"));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->filter, "toxicity.block");
  EXPECT_EQ(event->action, "block");
  EXPECT_EQ(event->position, static_cast<std::int64_t>(ids(" sh").size()));
  const auto detail = json::parse(event->detail_json);
  EXPECT_EQ(detail["term"], "shit");
  EXPECT_EQ(detail["severity"], 2);
  EXPECT_EQ(detail["token"], token("it"));
  EXPECT_EQ(detail["text"], "it");
}

TEST_F(BlockFilterTest, LetsInnocentCompletionsThrough) {
  EXPECT_FALSE(veto("user12: you are a", " sh", token("ell")).has_value());
  EXPECT_FALSE(veto("you", " are", token(" a")).has_value());
  // The last piece of a word that contains a term (an earlier piece that ends exactly on a
  // term, like " ass" before "assin", is blocked: the filter cannot see what follows).
  for (const auto* word : {" cocktail", " Dickens", " Scunthorpe", " assassin", " therapist",
                           " classic", " shiitake", " Matsushita"}) {
    const auto t = ids(word);
    ASSERT_GE(t.size(), 1u);
    const std::vector<std::int32_t> rest(t.begin(), t.end() - 1);
    const auto filter = tox::make_lexicon_block_filter(*tok_, 1)->make();
    const auto prompt = ids("we talked about the");
    EXPECT_FALSE(filter->veto({prompt, rest}, t.back()).has_value()) << word;
  }
}

TEST_F(BlockFilterTest, JudgesOnlyWhatTheCandidateCompletes) {
  // The term is already in the text (the prompt's or an earlier output's): the next token
  // does not complete it.
  EXPECT_FALSE(veto("you are a shit", "", token(" and")).has_value());
  EXPECT_FALSE(veto("hi", " you shit", token(" and")).has_value());
  // A term begun in the prompt and completed by the output is blocked.
  EXPECT_TRUE(veto("user12: you are a sh", "", token("it")).has_value());
}

TEST_F(BlockFilterTest, SeesObfuscationsAcrossPieces) {
  for (const auto* text : {" sh1t", " f.u.c.k", " fuuuuck", " @ss", " $hit"}) {
    const auto t = ids(text);
    ASSERT_GE(t.size(), 2u) << text;  // the term really spans pieces
    const std::vector<std::int32_t> rest(t.begin(), t.end() - 1);
    const auto filter = tox::make_lexicon_block_filter(*tok_, 1)->make();
    const auto prompt = ids("you are a");
    EXPECT_TRUE(filter->veto({prompt, rest}, t.back()).has_value()) << text;
  }
}

TEST_F(BlockFilterTest, HonoursTheMinimumSeverity) {
  // "damn" has severity 2, "fuck" 3 (data/lexicon.tsv).
  EXPECT_TRUE(veto("oh", " dam", token("n"), 2).has_value());
  EXPECT_FALSE(veto("oh", " dam", token("n"), 3).has_value());
  EXPECT_TRUE(veto("oh", " fu", token("ck"), 3).has_value());
}

TEST_F(BlockFilterTest, KeepsStateAsTheOutputGrows) {
  // One filter across steps, the way the generator uses it: catches up on accepted tokens.
  const auto filter = tox::make_lexicon_block_filter(*tok_, 1)->make();
  const auto prompt = ids("user7: nobody asked you,");
  std::vector<std::int32_t> out;
  for (const auto* piece : {" you", " are", " a"}) {
    const auto t = token(piece);
    ASSERT_FALSE(filter->veto({prompt, out}, t).has_value()) << piece;
    out.push_back(t);
    ASSERT_FALSE(filter->stop({prompt, out}).has_value());
  }
  const auto sh = ids(" sh");
  out.insert(out.end(), sh.begin(), sh.end());
  EXPECT_TRUE(filter->veto({prompt, out}, token("it")).has_value());
  EXPECT_FALSE(filter->veto({prompt, out}, token("ell")).has_value());
}

TEST_F(BlockFilterTest, RefusesAnUnknownSeverity) {
  EXPECT_THROW(tox::make_lexicon_block_filter(*tok_, 0), UsageError);
  EXPECT_THROW(tox::make_lexicon_block_filter(*tok_, 4), UsageError);
}

}  // namespace
}  // namespace sg::testing
