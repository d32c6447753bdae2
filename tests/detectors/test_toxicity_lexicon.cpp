// The lexicon scorer on the built-in word lists: each obfuscation rule, in a sentence, is
// found with its span in the original bytes; words that merely contain a term are not; the
// score follows the documented severity weights; a malformed lexicon is refused by line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/errors.hpp"
#include "toxicity/lexicon_scorer.hpp"

namespace sg::testing {
namespace {

namespace tox = detectors::toxicity;

struct Obfuscated {
  const char* rule;
  std::string text;
  std::string written;  // the bytes the match must span, as they occur in text
  const char* term;
};

// Each normalization rule of the matcher in a sentence (escapes spell the invisible ones).
const std::vector<Obfuscated>& obfuscation_set() {
  static const std::vector<Obfuscated> set = {
      {"plain", "well, shit happens.", "shit", "shit"},
      {"case", "What the FUCK is this", "FUCK", "fuck"},
      {"mixed case", "you ShIt head", "ShIt", "shit"},
      {"cyrillic homoglyphs", "you \xd0\xb0\xd1\x95\xd1\x95hole", "\xd0\xb0\xd1\x95\xd1\x95hole",
       "asshole"},                                                           // U+0430 U+0455 U+0455
      {"greek homoglyph", "what an idi\xce\xbft", "idi\xce\xbft", "idiot"},  // U+03BF
      {"fullwidth", "\xef\xbd\x86\xef\xbd\x95\xef\xbd\x83\xef\xbd\x8b you all",
       "\xef\xbd\x86\xef\xbd\x95\xef\xbd\x83\xef\xbd\x8b", "fuck"},
      {"mathematical bold",
       "go \xf0\x9d\x90\x9f\xf0\x9d\x90\xae\xf0\x9d\x90\x9c\xf0\x9d\x90\xa4 "
       "yourself",
       "\xf0\x9d\x90\x9f\xf0\x9d\x90\xae\xf0\x9d\x90\x9c\xf0\x9d\x90\xa4", "fuck"},
      {"precomposed accents", "you little b\xc3\xaet\xc3\xa7h", "b\xc3\xaet\xc3\xa7h", "bitch"},
      {"combining accent", "sh\x69\xcc\x88t, again", "sh\x69\xcc\x88t", "shit"},
      {"zero-width space", "f\xe2\x80\x8buck off", "f\xe2\x80\x8buck", "fuck"},
      {"zero-width joiner", "kiss my a\xe2\x80\x8dss", "a\xe2\x80\x8dss", "ass"},
      {"soft hyphen", "what a sh\xc2\xadit show", "sh\xc2\xadit", "shit"},
      {"word joiner", "you cu\xe2\x81\xa0nt", "cu\xe2\x81\xa0nt", "cunt"},
      {"leet digit", "this is sh1t", "sh1t", "shit"},
      {"leet digits", "a 5h17 day", "5h17", "shit"},
      {"leet at", "kiss my @ss now", "@ss", "ass"},
      {"leet dollar", "what a $hit idea", "$hit", "shit"},
      {"leet dollars", "you a$$hole", "a$$hole", "asshole"},
      {"leet bang", "stop it, b!tch", "b!tch", "bitch"},
      {"repeated letters", "fuuuuuck this", "fuuuuuck", "fuck"},
      {"repeated letters at the end", "oh shiiiit.", "shiiiit", "shit"},
      {"repeated run", "kiss my asssss", "asssss", "ass"},
      {"dots", "f.u.c.k you", "f.u.c.k", "fuck"},
      {"spaces", "f u c k you", "f u c k", "fuck"},
      {"hyphens", "such s-h-i-t", "s-h-i-t", "shit"},
      {"dots and spaces", "f. u. c. k. that", "f. u. c. k", "fuck"},
      {"multi-word term", "you piece of shit", "piece of shit", "piece of shit"},
      {"multi-word term run together", "some bigtits pics", "bigtits", "big tits"},
      {"plural", "those cunts again", "cunts", "cunt"},
      {"all at once", "\xef\xbc\xa6.\xef\xbc\xb5.\xef\xbc\xa3.\xef\xbc\xab!",
       "\xef\xbc\xa6.\xef\xbc\xb5.\xef\xbc\xa3.\xef\xbc\xab", "fuck"},
      {"leet and repeats", "$h11iiit", "$h11iiit", "shit"},
  };
  return set;
}

// Words and sentences that contain a term, or look like one, and are innocent.
const std::vector<std::string>& innocent_set() {
  static const std::vector<std::string> set = {
      "Scunthorpe United won at home.",
      "The assassin escaped through the passage.",
      "A cocktail at the bar.",
      "We read Dickens in class.",
      "My therapist is kind.",
      "A classic film.",
      "Shiitake mushrooms are tasty.",
      "Essex, Sussex and Middlesex.",
      "The cockpit of the plane.",
      "Hancock signed it.",
      "A careful analysis of the data.",
      "Arsenal played well.",
      "The title of the book.",
      "As soon as possible, as I said.",
      "We assess the bass and the grass.",
      "Kansas is flat.",
      "A skyscraper in the city.",
      "A sextant for the sailor.",
      "Matsushita makes televisions.",
      "Cumulative documents.",
      "Penistone is a town.",
      "Take the 455 bus at 5:17.",
      "Call 911 in the class of 2005.",
      "Write to hello@ssl.example for help.",
      "He was a bassist.",
      "The shell of a snail.",
      "Grapes and drapes.",
      "Pass the assorted nuts.",
      "She made a scrapbook.",
      "I assume the glass is clean.",
      "The documents were cumbersome.",
  };
  return set;
}

std::string spans_of(const tox::Score& s, std::string_view text) {
  std::string out;
  for (const auto& m : s.matches)
    out += "[" + m.term + " '" +
           std::string(text.substr(static_cast<std::size_t>(m.start),
                                   static_cast<std::size_t>(m.end - m.start))) +
           "']";
  return out;
}

class LexiconScorerTest : public ::testing::Test {
 protected:
  tox::LexiconScorer scorer{tox::Lexicon::builtin()};
};

TEST_F(LexiconScorerTest, FindsEachObfuscationWithItsOriginalBytes) {
  for (const auto& o : obfuscation_set()) {
    const auto at = o.text.find(o.written);
    ASSERT_NE(at, std::string::npos) << o.rule;  // the case itself is well formed
    const auto s = scorer.score_one(o.text);
    ASSERT_EQ(s.matches.size(), 1u) << o.rule << ": " << spans_of(s, o.text);
    EXPECT_EQ(s.matches[0].term, o.term) << o.rule;
    EXPECT_EQ(s.matches[0].start, static_cast<std::int64_t>(at)) << o.rule;
    EXPECT_EQ(s.matches[0].end, static_cast<std::int64_t>(at + o.written.size())) << o.rule;
    EXPECT_GT(s.value, 0) << o.rule;
  }
}

TEST_F(LexiconScorerTest, FlagsNoInnocentWord) {
  for (const auto& text : innocent_set()) {
    const auto s = scorer.score_one(text);
    EXPECT_TRUE(s.matches.empty()) << text << ": " << spans_of(s, text);
    EXPECT_EQ(s.value, 0) << text;
  }
}

TEST_F(LexiconScorerTest, RepeatedLettersNeverShortenATerm) {
  // "ass" needs its two s: one s is the word "as"; a doubled letter is not stretched.
  for (const char* text : {"as", "a$", "@s", "sh1", "assess"})
    EXPECT_TRUE(scorer.score_one(text).matches.empty()) << text;
}

TEST_F(LexiconScorerTest, SpacedLettersMustBeSpelledOut) {
  // Separators inside a word only when every letter stands alone: "is hit" is not "shit".
  for (const char* text : {"this hit", "sh it", "a ss", "as s", "s.hit"})
    EXPECT_TRUE(scorer.score_one(text).matches.empty()) << text;
}

TEST_F(LexiconScorerTest, ScoreCombinesSeverityWeights) {
  const auto lexicon = tox::Lexicon::builtin();
  const auto& terms = lexicon->terms();
  auto severity = [&](std::string_view t) {
    for (const auto& term : terms)
      if (term.text == t) return term.severity;
    return 0;
  };
  ASSERT_EQ(severity("fuck"), 3);
  ASSERT_EQ(severity("damn"), 2);
  EXPECT_DOUBLE_EQ(scorer.score_one("fuck").value, 0.8);
  EXPECT_DOUBLE_EQ(scorer.score_one("damn").value, 0.4);
  EXPECT_NEAR(scorer.score_one("damn, fuck").value, 1 - 0.6 * 0.2, 1e-12);
  EXPECT_EQ(scorer.score_one("a lovely day").value, 0);
  const std::vector<std::string_view> texts = {"damn", "a lovely day", "fuck"};
  const auto scores = scorer.score(texts);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_DOUBLE_EQ(scores[0].value, 0.4);
  EXPECT_EQ(scores[1].value, 0);
  EXPECT_DOUBLE_EQ(scores[2].value, 0.8);
}

TEST_F(LexiconScorerTest, OverlappingMatchesKeepTheLongest) {
  const auto s = scorer.score_one("a piece of shit");
  ASSERT_EQ(s.matches.size(), 1u) << spans_of(s, "a piece of shit");
  EXPECT_EQ(s.matches[0].term, "piece of shit");
}

TEST_F(LexiconScorerTest, InvalidUtf8AndATruncatedEndAreNotErrors) {
  EXPECT_EQ(scorer.score_one("shit \xff\xfe").matches.size(), 1u);
  EXPECT_EQ(scorer.score_one("shit \xe2\x80").matches.size(), 1u);
  EXPECT_TRUE(scorer.score_one("\x01\x02").matches.empty());
}

TEST_F(LexiconScorerTest, CanonicalNamesTheDataByHash) {
  const auto c = scorer.canonical();
  EXPECT_NE(c.find("sha256=" + std::string(tox::Lexicon::builtin()->sha256())), std::string::npos);
  EXPECT_EQ(tox::Lexicon::builtin()->sha256().size(), 64u);
}

TEST(LexiconParse, RefusesMalformedLinesByNumber) {
  auto error_of = [](std::string_view tsv) {
    try {
      (void)tox::Lexicon::parse(tsv, "x.tsv");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("# c\nok\t2\ts\nbad line\n").find("x.tsv:3:"), std::string::npos);
  EXPECT_NE(error_of("ok\t4\ts\n").find("severity"), std::string::npos);
  EXPECT_NE(error_of("o-k\t2\ts\n").find("outside"), std::string::npos);
  EXPECT_NE(error_of("ok\t2\ts\nok\t3\ts\n").find("twice"), std::string::npos);
  EXPECT_NE(error_of("# only\n").find("no terms"), std::string::npos);
  const auto lexicon = tox::Lexicon::parse("ab cd\t1\tx\n", "x.tsv");
  ASSERT_EQ(lexicon.terms().size(), 1u);
  EXPECT_EQ(lexicon.terms()[0].text, "ab cd");
}

}  // namespace
}  // namespace sg::testing
