// The family manifest (family.json, src/audit/family_manifest.cpp), which names a
// checkpoint's stage for the audit, the corpus of a stage for `index build` and the hashes
// `policy check` compares. It must be read or refused with sg::InputError, and an accepted
// manifest is unambiguous: every entry is found by its name and by its directory (so a
// checkpoint beside it gets that entry's name as its stage), slices are plain names and
// hashes hex SHA-256; reading the file and parsing its text agree.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/family_manifest.hpp"
#include "common/errors.hpp"
#include "scratch_file.hpp"

namespace {

namespace fs = std::filesystem;
using sg::audit::FamilyManifest;
using sg::fuzz::check;

fs::path resolved(const fs::path& p) {
  std::error_code ec;
  auto out = fs::weakly_canonical(p, ec);
  if (ec) out = p.lexically_normal();
  return out.has_filename() || !out.has_parent_path() ? out : out.parent_path();
}

bool same(const sg::audit::FamilyEntry& a, const sg::audit::FamilyEntry& b) {
  return a.name == b.name && a.sibling == b.sibling && a.directory == b.directory &&
         a.slices == b.slices && a.weights_sha256 == b.weights_sha256;
}

void check_manifest(const FamilyManifest& m, const fs::path& family_dir) {
  check(!m.family.empty() && !m.entries.empty());
  for (const auto& e : m.entries) {
    check(!e.name.empty() && m.entry(e.name) == &e && m.entry_at(e.directory) == &e);
    for (const auto& s : e.slices)
      check(!s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos);
    check(e.weights_sha256.empty() ||
          (e.weights_sha256.size() == 64 &&
           std::all_of(e.weights_sha256.begin(), e.weights_sha256.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })));
    const auto stage = sg::audit::read_family_stage(family_dir, e.name);
    check(same(stage, e));
    if (resolved(e.directory).parent_path() == resolved(family_dir)) {
      const auto member = sg::audit::find_family_member(e.directory);
      check(member && member->stage == e.name && member->family == m.family);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto file = sg::fuzz::scratch().write("family/family.json", text);
  std::optional<FamilyManifest> parsed;
  try {
    parsed = FamilyManifest::parse(text, file);
  } catch (const sg::InputError& e) {
    sg::fuzz::refused(e);
  }
  try {
    const auto m = FamilyManifest::read(file);
    check(parsed && parsed->entries.size() == m.entries.size());
    for (std::size_t i = 0; i < m.entries.size(); ++i)
      check(same(parsed->entries[i], m.entries[i]));
    check_manifest(m, file.parent_path());
  } catch (const sg::InputError&) {
    check(!parsed);  // a refusal is a correct answer to bad input, if both ways refuse
  }
  return 0;
}
