// The malformed-policy corpus (tests/release/malformed/): each file is one mistake, and
// reading it must be an InputError that names the file, the line and the key at fault.
// A file says what it expects on its first line, `# expect: LINE: KEY: FRAGMENT`; files
// that cannot hold a comment (empty, binary) are listed in malformed/EXPECTED instead.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "common/errors.hpp"
#include "release/policy.hpp"

namespace sg::release {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(STAGEGATE_SOURCE_DIR) / "tests/release/malformed";

struct Expectation {
  std::string line;      // "7"
  std::string key;       // "stage.s2.after"
  std::string fragment;  // a piece of the message
};

// "7: stage.s2.after: cycle ..." -> {7, stage.s2.after, cycle ...}
Expectation parse_expectation(const std::string& text) {
  Expectation e;
  const auto a = text.find(": ");
  const auto b = text.find(": ", a + 2);
  if (a == std::string::npos || b == std::string::npos) return e;
  e.line = text.substr(0, a);
  e.key = text.substr(a + 2, b - a - 2);
  e.fragment = text.substr(b + 2);
  return e;
}

std::map<std::string, Expectation> expectations() {
  std::map<std::string, Expectation> out;
  std::ifstream listed(kCorpus / "EXPECTED");
  for (std::string line; std::getline(listed, line);) {
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(": ");
    out[line.substr(0, colon)] = parse_expectation(line.substr(colon + 2));
  }
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.path().extension() != ".ini") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string first;
    std::getline(in, first);
    const std::string tag = "# expect: ";
    if (first.starts_with(tag))
      out[entry.path().filename().string()] = parse_expectation(first.substr(tag.size()));
  }
  return out;
}

TEST(PolicyMalformed, CorpusIsLargeAndEveryFileSaysWhatItExpects) {
  std::size_t files = 0;
  const auto expected = expectations();
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.path().extension() != ".ini") continue;
    ++files;
    const auto name = entry.path().filename().string();
    ASSERT_TRUE(expected.contains(name)) << name << " has no expectation";
    const auto& e = expected.at(name);
    EXPECT_FALSE(e.line.empty() || e.key.empty() || e.fragment.empty()) << name;
  }
  EXPECT_GE(files, 100u);
  EXPECT_EQ(files, expected.size());  // EXPECTED names no file that is missing
}

TEST(PolicyMalformed, EachFileIsAnInputErrorNamingFileLineAndKey) {
  int checked = 0;
  for (const auto& [name, e] : expectations()) {
    SCOPED_TRACE(name);
    const fs::path file = kCorpus / name;
    try {
      (void)Policy::load(file);
      ADD_FAILURE() << name << " was accepted";
    } catch (const InputError& error) {
      const std::string message = error.what();
      const std::string where = file.string() + ":" + e.line + ": " + e.key + ":";
      EXPECT_TRUE(message.starts_with(where)) << "expected '" << where << "'\n got: " << message;
      EXPECT_NE(message.find(e.fragment), std::string::npos)
          << "expected '" << e.fragment << "' in: " << message;
      ++checked;
    } catch (const std::exception& other) {
      ADD_FAILURE() << name << ": not an InputError: " << other.what();
    }
  }
  EXPECT_GE(checked, 100);
}

}  // namespace
}  // namespace sg::release
