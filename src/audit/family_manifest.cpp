#include "audit/family_manifest.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"

namespace sg::audit {

namespace fs = std::filesystem;

std::optional<FamilyMember> find_family_member(const fs::path& model_dir) {
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(model_dir, ec);
  const fs::path manifest = dir.parent_path() / "family.json";
  if (ec || !fs::exists(manifest)) return std::nullopt;
  std::ifstream in(manifest);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(manifest.string() + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("family") || !j["family"].is_string())
    throw InputError(manifest.string() + ": 'family' is missing or not a string");
  for (const char* group : {"stages", "siblings"}) {
    if (!j.contains(group)) continue;
    if (!j[group].is_array())
      throw InputError(manifest.string() + ": '" + group + "' is not a list");
    for (const auto& e : j[group]) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string() ||
          !e.contains("directory") || !e["directory"].is_string())
        throw InputError(manifest.string() + ": every entry of '" + group +
                         "' needs string 'name' and 'directory'");
      if (fs::weakly_canonical(manifest.parent_path() / e["directory"].get<std::string>(), ec) ==
          dir)
        return FamilyMember{j["family"], e["name"], manifest};
    }
  }
  return std::nullopt;
}

FamilyStage read_family_stage(const fs::path& family_dir, const std::string& stage) {
  const fs::path manifest = family_dir / "family.json";
  std::ifstream in(manifest);
  if (!in) throw InputError(manifest.string() + ": cannot be read (not a model family directory)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(manifest.string() + ": not valid JSON: " + e.what());
  }
  std::string names;
  for (const char* group : {"stages", "siblings"}) {
    if (!j.is_object() || !j.contains(group)) continue;
    if (!j[group].is_array())
      throw InputError(manifest.string() + ": '" + group + "' is not a list");
    for (const auto& e : j[group]) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
        throw InputError(manifest.string() + ": every entry of '" + group +
                         "' needs a string 'name'");
      const auto name = e["name"].get<std::string>();
      names += (names.empty() ? "" : ", ") + name;
      if (name != stage) continue;
      FamilyStage out{name, {}, {}};
      if (!e.contains("directory") || !e["directory"].is_string())
        throw InputError(manifest.string() + ": '" + name + "' needs a string 'directory'");
      out.directory = family_dir / e["directory"].get<std::string>();
      if (!e.contains("slices") || !e["slices"].is_array())
        throw InputError(manifest.string() + ": '" + name + "' needs a list 'slices'");
      for (const auto& s : e["slices"]) {
        if (!s.is_string())
          throw InputError(manifest.string() + ": '" + name + "': a slice is not a string");
        out.slices.push_back(s.get<std::string>());
      }
      return out;
    }
  }
  throw InputError(manifest.string() + ": no stage named '" + stage + "' (it lists " +
                   (names.empty() ? std::string("none") : names) + ")");
}

std::vector<fs::path> stage_corpus_files(const fs::path& family_dir, const FamilyStage& stage) {
  std::vector<fs::path> files;
  for (const auto& slice : stage.slices) {
    const fs::path file = family_dir / "corpus" / (slice + ".jsonl.zst");
    if (!fs::exists(file))
      throw InputError(file.string() + ": missing (slice '" + slice + "' of stage '" + stage.name +
                       "' in " + (family_dir / "family.json").string() + ")");
    files.push_back(file);
  }
  return files;
}

}  // namespace sg::audit
