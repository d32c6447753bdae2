// The INI reader (plans and policies sit on it) with a schema of every value type: it must
// accept or refuse with sg::InputError, and what it accepts must honour the schema (ranges,
// lines inside the text).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/errors.hpp"
#include "common/ini.hpp"

namespace {

const sg::ini::Schema& schema() {
  using sg::ini::Key;
  using sg::ini::Range;
  using sg::ini::Type;
  static const sg::ini::Schema s = {
      {"run",
       false,
       true,
       {{"name", Type::kString, true},
        {"count", Type::kInteger, false, Range{1, 1e6}},
        {"ratio", Type::kNumber, false, Range{0, 1, false, true}},
        {"on", Type::kBoolean}}},
      {"strategy",
       true,
       false,
       {{"temperature", Type::kNumber, false, Range{0, 100}}, {"label", Type::kString}}},
  };
  return s;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  try {
    const auto doc = sg::ini::Document::parse(text, "fuzz.ini", schema());
    check(doc.string("run", "name").has_value());
    check(doc.line("run", "name") >= 1 && doc.line("run", "name") <= lines);
    if (auto c = doc.integer("run", "count")) check(*c >= 1 && *c <= 1000000);
    if (auto r = doc.number("run", "ratio")) check(*r >= 0 && *r < 1);
    (void)doc.boolean("run", "on");
    for (const auto& s : doc.sections("strategy")) {
      check(s.starts_with("strategy."));
      if (auto t = doc.number(s, "temperature")) check(*t >= 0 && *t <= 100);
      check(doc.line(s) >= 1 && doc.line(s) <= lines);
    }
  } catch (const sg::InputError&) {
    // A refusal is a correct answer to bad input.
  }
  return 0;
}
