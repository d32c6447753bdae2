// Release policies (src/release/policy.cpp), read from a folder holding the files a policy
// names (a family manifest, plans, corpus indexes, a toxicity classifier's weights). A
// policy must load or be refused with sg::InputError, and an accepted policy is whole:
//   - stage names are unique and stages come in release order (each after its `after`);
//   - every name it uses (audiences, filters, stages of requirements and access sections)
//     is defined; hashes are lower-case hex SHA-256, dates YYYY-MM-DD, thresholds finite;
//   - the filters of every (stage, audience) pair are each defined once and include the
//     stage's and the audience's own;
//   - reading the file and parsing its text agree; dropping comments and blank lines and
//     reversing the order of sections and keys gives the same policy.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "ini_reorder.hpp"
#include "release/policy.hpp"
#include "scratch_file.hpp"

namespace {

namespace fs = std::filesystem;
using sg::fuzz::check;
using sg::release::Policy;

// The files the seed policies name, under files/ (written once per process). Only their
// existence is checked when a policy is read, except the manifest's, which is parsed.
const fs::path& policy_dir() {
  static const fs::path dir = [] {
    const auto& s = sg::fuzz::scratch();
    std::ifstream family(fs::path(STAGEGATE_SOURCE_DIR) / "models/demo/family.json");
    s.write("files/family.json", {std::istreambuf_iterator<char>(family), {}});
    for (const char* stage : {"stage1", "stage2", "stage3", "stage4"}) {
      s.write("files/" + std::string(stage) + "/model.safetensors", "weights");
      s.write("files/index/" + std::string(stage) + ".sgidx", "index");
    }
    for (const char* plan : {"demo", "a", "b"})
      s.write("files/plans/" + std::string(plan) + ".ini", "[detectors]\n");
    s.write("files/plans/toxicity-filter.ini", "[detectors]\n");
    s.write("files/classifier/model.safetensors", "classifier weights");
    return s.path();
  }();
  return dir;
}

std::optional<Policy> load(const std::string& name, std::string_view text) {
  const auto file = sg::fuzz::scratch().write(name, std::string(text));
  try {
    auto loaded = Policy::load(file);
    const auto parsed = Policy::parse(text, file);
    check(parsed.sha256 == loaded.sha256 && parsed.stages.size() == loaded.stages.size());
    return loaded;
  } catch (const sg::InputError& e) {
    sg::fuzz::refused(e);
    return std::nullopt;  // a refusal is a correct answer to bad input
  }
}

bool is_hex_hash(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_date(const std::string& s) {
  return s.size() == 10 && s[4] == '-' && s[7] == '-' &&
         std::all_of(s.begin(), s.end(), [](char c) { return c == '-' || (c >= '0' && c <= '9'); });
}

template <class T>
std::set<std::string> names(const std::vector<T>& items) {
  std::set<std::string> out;
  for (const auto& i : items) out.insert(i.name);
  return out;
}

bool subset(const std::vector<std::string>& items, const std::set<std::string>& defined) {
  return std::all_of(items.begin(), items.end(),
                     [&](const std::string& i) { return defined.count(i) > 0; });
}

// What the policy says, independent of where in the file it says it: compared between a
// policy and its reordered copy.
std::map<std::string, std::vector<std::string>> meaning(const Policy& p) {
  std::map<std::string, std::vector<std::string>> out;
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  out["family"] = {p.family, p.manifest ? p.manifest->string() : ""};
  for (const auto& s : p.stages) {
    out["stage " + s.name] = {s.checkpoint.string(), s.sha256, s.not_before.value_or("")};
    out["stage " + s.name + " after"] = sorted(s.after);
    for (const auto& a : p.audiences) {
      std::vector<std::string> filters;
      for (const auto* f : p.filters_for(s.name, a.name)) filters.push_back(f->name);
      out["filters " + s.name + " " + a.name] = sorted(filters);
    }
    std::vector<std::string> reqs;
    for (const auto* r : p.requirements_for(s.name)) reqs.push_back(r->name);
    out["requirements " + s.name] = sorted(reqs);
  }
  for (const auto& r : p.requirements)
    out["requirement " + r.name] = {r.plan.string(),
                                    r.metric,
                                    r.strategy,
                                    r.slice,
                                    std::string(to_string(r.comparison)),
                                    std::to_string(r.threshold),
                                    std::string(to_string(r.estimate))};
  for (const auto& a : p.audiences)
    out["audience " + a.name] = {std::to_string(a.unreleased),
                                 std::to_string(a.requests_per_minute),
                                 std::to_string(a.tokens_per_minute), std::to_string(a.log_text)};
  for (const auto& f : p.filters)
    out["filter " + f.name] = {std::string(to_string(f.type)), f.index.string(),
                               std::to_string(f.leakage_n)};
  return out;
}

void check_policy(const Policy& p, std::string_view text) {
  check(p.sha256 == sg::sha256_hex(text));
  const auto audiences = names(p.audiences);
  const auto filters = names(p.filters);
  std::set<std::string> stages;
  for (const auto& s : p.stages) {
    check(subset(s.after, stages));  // release order: what it follows came before
    check(stages.insert(s.name).second);
    check(is_hex_hash(s.sha256) && (!s.not_before || is_date(*s.not_before)));
    check(!s.audiences.empty() && subset(s.audiences, audiences) && subset(s.filters, filters));
    check(&p.stage(s.name) == &s);
  }
  for (const auto& a : p.audiences) {
    check(subset(a.filters, filters) && &p.audience(a.name) == &a);
    check(a.requests_per_minute >= 0 && a.tokens_per_minute >= 0);
  }
  for (const auto& r : p.requirements)
    check(!r.stages.empty() && subset(r.stages, stages) && std::isfinite(r.threshold));
  for (const auto& x : p.access)
    check(stages.count(x.stage) && audiences.count(x.audience) && subset(x.filters, filters));
  for (const auto& s : p.stages) {
    for (const auto& a : p.audiences) {
      std::set<std::string> got;
      for (const auto* f : p.filters_for(s.name, a.name))
        check(filters.count(f->name) && got.insert(f->name).second);
      for (const auto& f : s.filters) check(got.count(f));
      for (const auto& f : a.filters) check(got.count(f));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  policy_dir();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto policy = load("policy.ini", text);
  if (!policy) return 0;
  check_policy(*policy, text);
  const auto other = load("reordered.ini", sg::fuzz::reordered(text));
  check(other && meaning(*other) == meaning(*policy));
  return 0;
}
