#include "audit/family_manifest.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "model/strict_json.hpp"

namespace sg::audit {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Resolves symbolic links, "." and "..", and drops a trailing '/', so that two spellings of
// one directory compare equal.
fs::path resolved(const fs::path& p) {
  std::error_code ec;
  auto out = fs::weakly_canonical(p, ec);
  if (ec) out = p.lexically_normal();
  return out.has_filename() || !out.has_parent_path() ? out : out.parent_path();
}

bool plain_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find_first_of("/\\") == std::string::npos &&
         s.find('\0') == std::string::npos;
}

bool hex_sha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

class Reader {
 public:
  explicit Reader(const fs::path& file) : file_(file) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(file_.string() + ": " + field + ": " + what);
  }

  std::string string_field(const json& object, const std::string& key,
                           const std::string& field) const {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string()) fail(field, "missing, or not a string");
    auto value = it->get<std::string>();
    if (value.empty()) fail(field, "empty");
    return value;
  }

  FamilyEntry entry(const json& e, bool sibling, const std::string& field) const {
    if (!e.is_object()) fail(field, "not an object {\"name\": ..., \"directory\": ...}");
    FamilyEntry out;
    out.sibling = sibling;
    out.name = string_field(e, "name", field + ".name");
    out.directory = file_.parent_path() / string_field(e, "directory", field + ".directory");
    if (const auto slices = e.find("slices"); slices != e.end()) {
      if (!slices->is_array()) fail(field + ".slices", "not a list");
      for (const auto& s : *slices) {
        if (!s.is_string() || !plain_name(s.get<std::string>()))
          fail(field + ".slices", s.dump() +
                                      " is not a slice name (a plain file name: it names "
                                      "corpus/SLICE.jsonl.zst)");
        out.slices.push_back(s.get<std::string>());
      }
    }
    if (const auto sha = e.find("weights_sha256"); sha != e.end()) {
      if (!sha->is_string() || !hex_sha256(sha->get<std::string>()))
        fail(field + ".weights_sha256", "not a hex SHA-256");
      out.weights_sha256 = sha->get<std::string>();
      std::transform(out.weights_sha256.begin(), out.weights_sha256.end(),
                     out.weights_sha256.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    return out;
  }

 private:
  fs::path file_;
};

}  // namespace

FamilyManifest FamilyManifest::read(const fs::path& file) {
  return parse(model::read_metadata_file(file), file);
}

FamilyManifest FamilyManifest::parse(std::string_view text, const fs::path& file) {
  const Reader r(file);
  const json j = model::parse_strict_json_object(text, file.string());
  FamilyManifest m;
  m.file = file;
  m.family = r.string_field(j, "family", "family");
  for (const char* group : {"stages", "siblings"}) {
    const auto list = j.find(group);
    if (list == j.end()) continue;
    if (!list->is_array()) r.fail(group, "not a list");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string field = std::string(group) + "[" + std::to_string(i) + "]";
      auto e = r.entry((*list)[i], std::string_view(group) == "siblings", field);
      if (m.entry(e.name)) r.fail(field + ".name", "'" + e.name + "' listed twice");
      if (const auto* other = m.entry_at(e.directory))
        r.fail(field + ".directory",
               e.directory.string() + " is also the directory of '" + other->name + "'");
      m.entries.push_back(std::move(e));
    }
  }
  if (m.entries.empty()) r.fail("stages", "the manifest lists no stages or siblings");
  return m;
}

const FamilyEntry* FamilyManifest::entry(std::string_view name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

const FamilyEntry* FamilyManifest::entry_at(const fs::path& dir) const {
  const auto target = resolved(dir);
  for (const auto& e : entries)
    if (resolved(e.directory) == target) return &e;
  return nullptr;
}

std::optional<FamilyMember> find_family_member(const fs::path& model_dir) {
  const fs::path dir = resolved(model_dir);
  const fs::path manifest = dir.parent_path() / "family.json";
  std::error_code ec;
  if (!fs::exists(manifest, ec)) return std::nullopt;
  const auto m = FamilyManifest::read(manifest);
  const auto* e = m.entry_at(dir);
  if (!e) return std::nullopt;
  return FamilyMember{m.family, e->name, manifest};
}

FamilyStage read_family_stage(const fs::path& family_dir, const std::string& stage) {
  const fs::path manifest = family_dir / "family.json";
  std::error_code ec;
  if (!fs::is_regular_file(manifest, ec))
    throw InputError(manifest.string() + ": cannot be read (not a model family directory)");
  const auto m = FamilyManifest::read(manifest);
  if (const auto* e = m.entry(stage)) return *e;
  std::string names;
  for (const auto& e : m.entries) names += (names.empty() ? "" : ", ") + e.name;
  throw InputError(manifest.string() + ": no stage named '" + stage + "' (it lists " + names + ")");
}

std::vector<fs::path> stage_corpus_files(const fs::path& family_dir, const FamilyStage& stage) {
  if (stage.slices.empty())
    throw InputError((family_dir / "family.json").string() + ": '" + stage.name +
                     "' lists no corpus slices");
  std::vector<fs::path> files;
  for (const auto& slice : stage.slices) {
    const fs::path file = family_dir / "corpus" / (slice + ".jsonl.zst");
    if (!fs::is_regular_file(file))
      throw InputError(file.string() + ": missing (slice '" + slice + "' of stage '" + stage.name +
                       "' in " + (family_dir / "family.json").string() + ")");
    files.push_back(file);
  }
  return files;
}

}  // namespace sg::audit
