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

}  // namespace sg::audit
