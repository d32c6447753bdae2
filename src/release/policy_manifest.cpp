// `policy check`'s comparison with the family manifest: the policy's SHA-256 is the
// authority, so a family.json that lists another one is worth a warning, never an error
// (the manifest may describe a retrained file the policy has not adopted yet).
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "release/policy_schema.hpp"

namespace sg::release::detail {

namespace {

std::filesystem::path normal(const std::filesystem::path& p) {
  std::error_code ec;
  auto out = std::filesystem::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : out;
}

// The manifest's entry for `stage`: the one whose directory is the stage's checkpoint, else
// the one of the same name.
const nlohmann::json* entry_for(const nlohmann::json& entries, const std::filesystem::path& dir,
                                const Stage& stage) {
  const auto checkpoint = normal(stage.checkpoint);
  for (const auto& e : entries)
    if (e.is_object() && e.contains("directory") && e["directory"].is_string() &&
        normal(dir / e["directory"].get<std::string>()) == checkpoint)
      return &e;
  for (const auto& e : entries)
    if (e.is_object() && e.value("name", std::string()) == stage.name) return &e;
  return nullptr;
}

}  // namespace

std::vector<std::string> manifest_warnings(const Policy& policy) {
  if (!policy.manifest) return {};
  const auto& path = *policy.manifest;
  std::ifstream in(path);
  if (!in) throw InputError(path.string() + ": cannot be read (the policy's family.manifest)");
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path.string() + ": not valid JSON: " + e.what());
  }
  if (!manifest.is_object() || !manifest.contains("stages") || !manifest["stages"].is_array())
    throw InputError(path.string() + ": stages: missing or not an array");
  std::vector<std::string> warnings;
  for (const auto& stage : policy.stages) {
    const auto* e = entry_for(manifest["stages"], path.parent_path(), stage);
    if (!e) {
      warnings.push_back("stage " + stage.name + ": " + path.string() +
                         " lists no such stage or checkpoint directory");
      continue;
    }
    const auto listed = e->value("weights_sha256", std::string());
    if (listed != stage.sha256)
      warnings.push_back("stage " + stage.name + ": " + path.string() + " lists weights_sha256 " +
                         (listed.empty() ? "(none)" : listed) + ", the policy " + stage.sha256 +
                         " (the policy is the authority: decisions hash against its value)");
  }
  return warnings;
}

}  // namespace sg::release::detail
