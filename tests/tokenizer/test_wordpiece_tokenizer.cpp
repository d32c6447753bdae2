// BERT's WordPiece tokenizer: each rule on a hand-made vocabulary, the malformed-file errors,
// and agreement with the independent Python reference (tools/wordpiece.py) on a varied text
// set, through the demo classifier's vocabulary and a cased one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/temp_dir.hpp"
#include "tokenizer/basic_tokenizer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/wordpiece_files.hpp"

namespace sg::tokenizer {
namespace {

using Ids = std::vector<std::int32_t>;
using Words = std::vector<std::string>;
const std::filesystem::path kFixtures(STAGEGATE_FIXTURES);

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// ids: [PAD]0 [UNK]1 [CLS]2 [SEP]3 [MASK]4 un5 ##aff6 ##able7 a8 ##b9 b10 ##a11 ,12 !13 x14
// ##x15 cafe16 été17
std::unique_ptr<Tokenizer> small(const testing::TempDir& dir, const std::string& config = "") {
  write(
      dir / "vocab.txt",
      "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\n##aff\n##able\na\n##b\nb\n##a\n,\n!\nx\n##x\ncafe\n"
      "été\n");
  if (!config.empty()) write(dir / "tokenizer_config.json", config);
  return load(dir.path(), "bert");
}

TEST(WordPiece, GreedyLongestMatchFirstWithContinuations) {
  testing::TempDir dir;
  auto tok = small(dir);
  EXPECT_EQ(tok->kind(), "bert");
  EXPECT_EQ(tok->encode("unaffable"), (Ids{5, 6, 7}));
  EXPECT_EQ(tok->encode("ab ba abab"), (Ids{8, 9, 10, 11, 8, 9, 11, 9}));
}

TEST(WordPiece, UncoverableOrOverlongWordIsUnknown) {
  testing::TempDir dir;
  auto tok = small(dir);
  EXPECT_EQ(tok->encode("abz, un"), (Ids{1, 12, 5}));  // "abz": no "##z" -> the whole word
  EXPECT_EQ(tok->encode(std::string(100, 'x')).size(), 100u);
  EXPECT_EQ(tok->encode(std::string(101, 'x')), (Ids{1}));
  // The limit counts characters, not bytes: 60 two-byte characters are 120 bytes.
  std::string accented;
  for (int i = 0; i < 60; ++i) accented += "\u00e9";
  EXPECT_EQ(tok->encode(accented).size(), 1u);
}

TEST(WordPiece, SpecialTokenTextIsTheSpecialToken) {
  testing::TempDir dir;
  auto tok = small(dir);
  EXPECT_EQ(tok->encode("[CLS]un[SEP] [MASK]!"), (Ids{2, 5, 3, 4, 13}));
  EXPECT_EQ(tok->encode("[cls]"), (Ids{1, 1, 1}));  // case matters: "[", "cls", "]" unknown
  EncodeOptions plain;
  plain.allow_special = false;
  EXPECT_EQ(tok->encode("[SEP]", plain), (Ids{1, 1, 1}));
  const auto special = tok->special_ids();
  EXPECT_EQ(special.cls, 2);
  EXPECT_EQ(special.sep, 3);
  EXPECT_EQ(special.pad, 0);
  EXPECT_EQ(special.unk, 1);
  EXPECT_EQ(special.mask, 4);
  EXPECT_FALSE(tok->eos_id());
  const Ids ids{5, 6};
  EXPECT_EQ(with_special_tokens(*tok, ids), (Ids{2, 5, 6, 3}));
}

TEST(WordPiece, DecodeJoinsContinuations) {
  testing::TempDir dir;
  auto tok = small(dir);
  EXPECT_EQ(tok->decode(Ids{2, 5, 6, 7, 12, 8, 3}), "[CLS] unaffable , a [SEP]");
  EXPECT_EQ(tok->decode(Ids{9, 8}), "##b a");  // a leading continuation stays as written
  EXPECT_EQ(tok->decode_bytes(Ids{5, 6, 8}), " unaff a");
  EXPECT_THROW(tok->decode(Ids{18}), InputError);
}

TEST(WordPiece, ConfigTurnsLowerCasingOff) {
  testing::TempDir lower_dir, cased_dir;
  EXPECT_EQ(small(lower_dir)->encode("CAFÉ"), (Ids{16}));
  auto cased = small(cased_dir, R"({"do_lower_case": false})");
  EXPECT_EQ(cased->encode("été CAFE"), (Ids{17, 1}));
  EXPECT_EQ(cased->encode("e\u0301te\u0301"), (Ids{17}));  // NFC composes before lookup
}

TEST(WordPiece, ConfigNamesOtherSpecialTokens) {
  testing::TempDir dir;
  auto tok = small(dir, R"({"unk_token": {"content": "x"}, "cls_token": "b"})");
  EXPECT_EQ(tok->encode("zzz"), (Ids{14}));
  EXPECT_EQ(tok->special_ids().cls, 10);
}

void expect_error(const std::string& vocab, const std::string& config, const std::string& what) {
  testing::TempDir dir;
  write(dir / "vocab.txt", vocab);
  if (!config.empty()) write(dir / "tokenizer_config.json", config);
  try {
    load(dir.path(), "bert");
    ADD_FAILURE() << "no error for: " << what;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(WordPiece, MalformedFilesAreNamedWithTheirLine) {
  expect_error("[UNK]\na\n\nb\n", "", "vocab.txt:3: empty line");
  expect_error("[UNK]\na b\n", "", "vocab.txt:2: token 'a b' contains whitespace");
  expect_error("[UNK]\na\nb\na\n", "", "vocab.txt:4: token 'a' repeats line 2");
  expect_error("[UNK]\n\xff\n", "", "vocab.txt:2: not valid UTF-8");
  expect_error("", "", "vocab.txt: no tokens");
  expect_error("a\n##b\n", "", "vocab.txt: lacks the unknown token '[UNK]'");
  expect_error("[UNK]\n", "{", "tokenizer_config.json: not valid JSON");
  // nlohmann reports a number past a double's range as out_of_range, not parse_error.
  expect_error("[UNK]\n", R"({"x": 1e999})", "tokenizer_config.json: not valid JSON");
  expect_error("[UNK]\n", R"({"do_lower_case": "yes"})", "field 'do_lower_case'");
  expect_error("[UNK]\n", R"({"unk_token": 5})", "field 'unk_token'");
  testing::TempDir empty;
  EXPECT_THROW(load(empty.path(), "bert"), InputError);
}

TEST(WordPiece, ParsesFilesFromBytes) {
  const auto plain = parse_wordpiece_files("[UNK]\r\nthe\n##re", std::nullopt, "d");
  EXPECT_EQ(plain.tokens, (std::vector<std::string>{"[UNK]", "the", "##re"}));
  EXPECT_TRUE(plain.basic.lower_case);
  const auto cased =
      parse_wordpiece_files("<unk>\n", R"({"do_lower_case": false, "unk_token": "<unk>"})", "d");
  EXPECT_FALSE(cased.basic.lower_case);
  EXPECT_EQ(cased.unk, "<unk>");
  try {
    parse_wordpiece_files("a\n", "{", "d");
    ADD_FAILURE() << "accepted a broken tokenizer_config.json";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("d/tokenizer_config.json: not valid JSON"),
              std::string::npos)
        << e.what();
  }
}

TEST(WordPiece, LoadDetectsVocabTxt) {
  testing::TempDir dir;
  write(dir / "vocab.txt", "[UNK]\na\n");
  EXPECT_EQ(load(dir.path())->kind(), "bert");
}

TEST(BasicTokenizer, FollowsPythonLowerAndWhitespace) {
  EXPECT_EQ(basic_tokenize("ΟΔΟΣ ΣΑΣ.", {false, false}), (Words{"ΟΔΟΣ", "ΣΑΣ", "."}));
  EXPECT_EQ(basic_tokenize("ΟΔΟΣ ΣΑΣ.", {true, false}),
            (Words{"\u03bf\u03b4\u03bf\u03c2", "\u03c3\u03b1\u03c2", "."}));
  EXPECT_EQ(basic_tokenize("İ", {true, false}), (Words{"i\u0307"}));
  EXPECT_EQ(basic_tokenize("a\u2028b\u2029c"), (Words{"a", "b", "c"}));
  EXPECT_EQ(basic_tokenize("Cafe\u0301", {false, std::nullopt}), (Words{"Caf\u00e9"}));
  EXPECT_EQ(basic_tokenize("Café", {false, true}), (Words{"Cafe"}));
}

// The Python reference's tokens, ids and decoded text for each fixture text.
void expect_matches_reference(const std::string& fixture) {
  std::ifstream in(kFixtures / "tokenizer" / fixture);
  ASSERT_TRUE(in) << fixture;
  const auto j = nlohmann::json::parse(in);
  const auto tok =
      load(std::filesystem::path(STAGEGATE_SOURCE_DIR) / j["tokenizer"].get<std::string>());
  ASSERT_GE(j["cases"].size(), 20u);
  for (const auto& c : j["cases"]) {
    const auto text = c["text"].get<std::string>();
    const auto ids = tok->encode(text);
    EXPECT_EQ(ids, c["ids"].get<Ids>()) << text;
    EXPECT_EQ(tok->decode(ids), c["decoded"].get<std::string>()) << text;
  }
}

TEST(WordPiece, MatchesPythonReferenceOnDemoVocabulary) {
  expect_matches_reference("wordpiece_demo.json");
}

TEST(WordPiece, MatchesPythonReferenceCased) {
  expect_matches_reference("wordpiece_cased.json");
}

}  // namespace
}  // namespace sg::tokenizer
