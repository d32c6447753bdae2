// `policy check`'s comparison with the family manifest: the policy's SHA-256 is the
// authority, so a family.json that lists another one is worth a warning, never an error
// (the manifest may describe a retrained file the policy has not adopted yet).
#include "audit/family_manifest.hpp"
#include "release/policy_schema.hpp"

namespace sg::release::detail {

std::vector<std::string> manifest_warnings(const Policy& policy) {
  if (!policy.manifest) return {};
  const auto manifest = audit::FamilyManifest::read(*policy.manifest);
  std::vector<std::string> warnings;
  for (const auto& stage : policy.stages) {
    // The entry whose directory is the stage's checkpoint, else the one of its name.
    const auto* e = manifest.entry_at(stage.checkpoint);
    if (!e) e = manifest.entry(stage.name);
    if (!e) {
      warnings.push_back("stage " + stage.name + ": " + manifest.file.string() +
                         " lists no such stage or checkpoint directory");
      continue;
    }
    if (e->weights_sha256 != stage.sha256)
      warnings.push_back(
          "stage " + stage.name + ": " + manifest.file.string() + " lists weights_sha256 " +
          (e->weights_sha256.empty() ? "(none)" : e->weights_sha256) + ", the policy " +
          stage.sha256 + " (the policy is the authority: decisions hash against its value)");
  }
  return warnings;
}

}  // namespace sg::release::detail
