// The family manifest (models/demo/family.json style) that names a checkpoint's stage: a
// checkpoint directory belongs to the family whose family.json, in the directory above
// it, lists it under "stages" or "siblings".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sg::audit {

struct FamilyMember {
  std::string family;
  std::string stage;  // the entry's name
  std::filesystem::path manifest;
};

// nullopt when there is no family.json beside the directory or it does not list it. A
// family.json that is not valid JSON, or lacks the fields, is an InputError naming it.
std::optional<FamilyMember> find_family_member(const std::filesystem::path& model_dir);

// A stage (or sibling) as family.json lists it.
struct FamilyStage {
  std::string name;
  std::filesystem::path directory;  // the checkpoint, resolved against the family directory
  std::vector<std::string> slices;  // the corpus slices it was trained on
};

// The entry named `stage` in family_dir/family.json. InputError naming the manifest when it
// is unreadable, lacks the fields, or has no such entry (the message lists the names).
FamilyStage read_family_stage(const std::filesystem::path& family_dir, const std::string& stage);

// family_dir/corpus/<slice>.jsonl.zst for each of the stage's slices, in its order; an
// InputError names a slice whose file is missing.
std::vector<std::filesystem::path> stage_corpus_files(const std::filesystem::path& family_dir,
                                                      const FamilyStage& stage);

}  // namespace sg::audit
