// The strict INI reader: Boost's syntax and typed values, with every error naming the file,
// the line and the key.
#include <gtest/gtest.h>

#include <fstream>

#include "common/errors.hpp"
#include "common/ini.hpp"
#include "temp_dir.hpp"

namespace sg::ini {
namespace {

const Schema& schema() {
  static const Schema s = {
      {"prompts", false, true, {{"file", Type::kString, true}}},
      {"strategy",
       true,
       false,
       {{"samples", Type::kInteger, true, Range{1, 1000}},
        {"temperature", Type::kNumber, false, Range{0, 2, true, false}},
        {"greedy", Type::kBoolean},
        {"note", Type::kString}}},
  };
  return s;
}

Document parse(const std::string& text) {
  return Document::parse(text, "plans/demo.ini", schema());
}

// Parsing must fail with an InputError whose message holds every fragment.
void expect_error(const std::string& text, const std::vector<std::string>& fragments) {
  try {
    parse(text);
    ADD_FAILURE() << "parsed without error:\n" << text;
  } catch (const InputError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message lacks '" << f << "': " << e.what();
  }
}

TEST(Ini, ReadsTypedValuesAndWhereTheyAre) {
  const auto doc = parse(
      "# a plan\n"
      "[prompts]\n"
      "file = prompts.jsonl   # trailing comment\n"
      "\n"
      "[strategy.t0-7]\n"
      "  samples=4\n"
      "temperature = 0.7\n"
      "greedy = yes\n"
      "note =\n"
      "[strategy.greedy]\r\n"
      "samples = 1\r\n");
  EXPECT_EQ(doc.sections(),
            (std::vector<std::string>{"prompts", "strategy.t0-7", "strategy.greedy"}));
  EXPECT_EQ(doc.sections("strategy"),
            (std::vector<std::string>{"strategy.t0-7", "strategy.greedy"}));
  EXPECT_EQ(doc.string("prompts", "file"), "prompts.jsonl");
  EXPECT_EQ(doc.integer("strategy.t0-7", "samples"), 4);
  EXPECT_EQ(doc.number("strategy.t0-7", "temperature"), 0.7);
  EXPECT_EQ(doc.boolean("strategy.t0-7", "greedy"), true);
  EXPECT_EQ(doc.string("strategy.t0-7", "note"), "");
  EXPECT_EQ(doc.integer("strategy.greedy", "samples"), 1);
  EXPECT_FALSE(doc.number("strategy.greedy", "temperature"));
  EXPECT_EQ(doc.line("strategy.t0-7", "temperature"), 7);
  EXPECT_EQ(doc.line("strategy.greedy", "temperature"), 10);  // absent: its section's line
  EXPECT_EQ(doc.line("strategy.other"), 0);
}

TEST(Ini, ExpandReplacesAPlaceholderInEveryStringValueOnly) {
  auto doc = parse(
      "[prompts]\nfile = out/{stage}/{stage}.jsonl\n[strategy.g]\nsamples = 2\n"
      "note = {other}\n");
  doc.expand("stage", "stage4");
  EXPECT_EQ(*doc.string("prompts", "file"), "out/stage4/stage4.jsonl");
  EXPECT_EQ(*doc.string("strategy.g", "note"), "{other}");
  EXPECT_EQ(*doc.integer("strategy.g", "samples"), 2);
}

TEST(Ini, AByteOrderMarkIsSkipped) {
  EXPECT_EQ(parse("\xEF\xBB\xBF[prompts]\nfile = a\n").string("prompts", "file"), "a");
}

// Found by fuzzing plans (tests/fuzz/corpus/plan/nul-in-path.ini): a NUL byte in a path
// value named the plan's own folder to the operating system and another path everywhere else.
TEST(Ini, TextThatIsNotATextFileIsRefusedAtItsLine) {
  expect_error(std::string("[prompts]\nfile = \0a\n", 19),
               {"plans/demo.ini:2: encoding: byte 0x00"});
  expect_error("[prompts]\n# \x1b[31m\nfile = a\n", {":2: encoding: byte 0x1b is a control"});
  expect_error("[prompts]\nfile = caf\xE9\n", {":2: encoding: byte 0xe9 is not valid UTF-8"});
  expect_error("[prompts]\nfile = \xED\xA0\x80\n", {":2: encoding: byte 0xed"});  // a surrogate
  EXPECT_EQ(parse("[prompts]\r\nfile = caf\xC3\xA9\t\r\n").string("prompts", "file"),
            "caf\xC3\xA9");
}

TEST(Ini, AFileBeyondTheSizeLimitIsRefusedBeforeItIsRead) {
  sg::testing::TempDir dir;
  const auto file = dir / "huge.ini";
  std::ofstream(file) << "[prompts]\nfile = a\n" << std::string(kMaxFileBytes, '#') << "\n";
  try {
    (void)Document::read(file, schema());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string() +
                                         ": 1048596 bytes, beyond the 1048576-byte limit"),
              std::string::npos)
        << e.what();
  }
}

TEST(Ini, UnknownSectionNamesFileLineAndSection) {
  expect_error("[prompts]\nfile = a\n\n[detectorz]\n",
               {"plans/demo.ini:4:", "[detectorz]", "unknown section", "[strategy.NAME]"});
  expect_error("[prompts]\nfile = a\n[strategy.a b]\nsamples = 1\n",
               {"plans/demo.ini:3:", "[strategy.a b]", "letters, digits"});
  expect_error("[prompts]\nfile = a\n[strategy]\nsamples = 1\n",
               {"plans/demo.ini:3:", "[strategy]"});
}

TEST(Ini, UnknownKeyNamesFileLineAndKey) {
  expect_error("[prompts]\nfile = a\n[strategy.greedy]\nsamples = 1\ntemprature = 0\n",
               {"plans/demo.ini:5:", "strategy.greedy.temprature", "unknown key",
                "known: samples, temperature"});
}

TEST(Ini, DuplicateKeyNamesBothLines) {
  expect_error("[prompts]\nfile = a\n[strategy.greedy]\nsamples = 1\n\nsamples = 2\n",
               {"plans/demo.ini:6:", "strategy.greedy.samples", "repeated", "first at line 4"});
}

TEST(Ini, RepeatedSectionIsAnError) {
  expect_error("[prompts]\nfile = a\n[strategy.g]\nsamples = 1\n[strategy.g]\ntemperature = 1\n",
               {"plans/demo.ini:5:", "[strategy.g]", "repeated", "first at line 3"});
}

TEST(Ini, BadValuesNameFileLineKeyAndValue) {
  const std::string head = "[prompts]\nfile = a\n[strategy.g]\n";
  expect_error(head + "samples = 3.5\n",
               {"plans/demo.ini:4:", "strategy.g.samples", "'3.5'", "integer"});
  expect_error(head + "samples = 99999999999999999999\n",
               {"plans/demo.ini:4:", "strategy.g.samples"});
  expect_error(head + "samples = 1\ntemperature = warm\n",
               {"plans/demo.ini:5:", "strategy.g.temperature", "'warm'", "number"});
  expect_error(head + "samples = 1\ntemperature = nan\n", {"plans/demo.ini:5:", "not finite"});
  expect_error(head + "samples = 1\ngreedy = maybe\n",
               {"plans/demo.ini:5:", "strategy.g.greedy", "'maybe'", "true or false"});
  expect_error(head + "samples =\n", {"plans/demo.ini:4:", "strategy.g.samples", "empty value"});
}

TEST(Ini, StructuralErrors) {
  expect_error("file = a\n[prompts]\n", {"plans/demo.ini:1:", "file", "outside any section"});
  expect_error("[prompts]\nfile a\n", {"plans/demo.ini:2:", "file a", "expected"});
  expect_error("[prompts]\n= a\n", {"plans/demo.ini:2:", "missing key"});
  expect_error("[strategy.g]\nsamples = 1\n", {"plans/demo.ini", "[prompts]", "missing section"});
  expect_error("[prompts]\nfile = a\n[strategy.g]\ntemperature = 1\n",
               {"plans/demo.ini:3:", "strategy.g.samples", "missing"});
}

TEST(Ini, FailPointsAtTheKeyOrItsSection) {
  const auto doc = parse("[prompts]\nfile = a\n[strategy.g]\nsamples = 5\n");
  try {
    doc.fail("strategy.g", "samples", "must be odd");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "plans/demo.ini:4: strategy.g.samples: must be odd");
  }
  try {
    doc.fail("strategy.g", "", "not used");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "plans/demo.ini:3: [strategy.g]: not used");
  }
}

TEST(Ini, ReadingAMissingFileNamesIt) {
  try {
    Document::read("/nonexistent/plan.ini", schema());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/plan.ini"), std::string::npos);
  }
}

TEST(Ini, SplitList) {
  EXPECT_EQ(split_list(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("  ").empty());
}

}  // namespace
}  // namespace sg::ini

namespace sg::ini {
namespace {

TEST(Ini, NumbersOutsideTheirRangeAreRefusedWithTheirLine) {
  // 2^32 + 1 fits the 64-bit parse but would wrap to 1 in an int: the range refuses it.
  expect_error("[prompts]\nfile = p\n[strategy.a]\nsamples = 4294967297\n",
               {"plans/demo.ini:4: strategy.a.samples: '4294967297' is out of range", "[1, 1000]"});
  expect_error("[prompts]\nfile = p\n[strategy.a]\nsamples = 0\n", {":4:", "[1, 1000]"});
  expect_error("[prompts]\nfile = p\n[strategy.a]\nsamples = 1\ntemperature = 0\n",
               {":5: strategy.a.temperature: '0' is out of range: must be in (0, 2]"});
  expect_error("[prompts]\nfile = p\n[strategy.a]\nsamples = 99999999999999999999\n",
               {":4:", "is not an integer in [1, 1000]"});
  const auto doc = parse("[prompts]\nfile = p\n[strategy.a]\nsamples = 1000\ntemperature = 2\n");
  EXPECT_EQ(doc.integer("strategy.a", "samples"), 1000);
  EXPECT_EQ(doc.number("strategy.a", "temperature"), 2.0);
}

TEST(Ini, ANumericKeyWithoutARangeIsAProgrammingError) {
  const Schema bad = {{"s", false, false, {{"n", Type::kInteger}}}};
  EXPECT_THROW(Document::parse("[s]\n", "x.ini", bad), std::logic_error);
}

TEST(Ini, NearMissesGetAHint) {
  expect_error("[prompts]\nfiel = p\n", {":2: prompts.fiel: unknown key", "did you mean 'file'?"});
  expect_error("[prompt]\nfile = p\n",
               {":1: [prompt]: unknown section", "did you mean 'prompts'?"});
  // A different word gets the list, not a guess.
  try {
    parse("[prompts]\nzzzzzz = p\n");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find("did you mean"), std::string::npos) << e.what();
  }
  EXPECT_EQ(did_you_mean("stirde", {"stride", "heldout"}), "; did you mean 'stride'?");
  EXPECT_EQ(did_you_mean("stride", {"stride"}), "");
  EXPECT_EQ(did_you_mean("x", {}), "");
}

}  // namespace
}  // namespace sg::ini
