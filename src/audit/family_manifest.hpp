// The family manifest (models/demo/family.json style) that names a checkpoint's stage: a
// checkpoint directory belongs to the family whose family.json, in the directory above
// it, lists it under "stages" or "siblings".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace sg::audit {

struct FamilyMember {
  std::string family;
  std::string stage;  // the entry's name
  std::filesystem::path manifest;
};

// nullopt when there is no family.json beside the directory or it does not list it. A
// family.json that is not valid JSON, or lacks the fields, is an InputError naming it.
std::optional<FamilyMember> find_family_member(const std::filesystem::path& model_dir);

}  // namespace sg::audit
