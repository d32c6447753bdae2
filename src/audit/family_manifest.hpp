// The family manifest (models/demo/family.json style): the checkpoints of one model family,
// each with its name, its directory and the corpus slices it was trained on. A checkpoint
// directory belongs to the family whose family.json, in the directory above it, lists it
// under "stages" or "siblings". The audit (which stage is this?), `index build --family`
// (which corpus?) and `policy check` (which hash does the family list?) all read it here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::audit {

struct FamilyEntry {
  std::string name;
  bool sibling = false;             // listed under "siblings", outside the release order
  std::filesystem::path directory;  // the checkpoint, resolved against the manifest's folder
  std::vector<std::string> slices;  // the corpus slices it was trained on (may be none)
  std::string weights_sha256;       // lower-case hex; "" when the manifest lists none
};

struct FamilyManifest {
  std::filesystem::path file;
  std::string family;
  std::vector<FamilyEntry> entries;  // "stages" in file order, then "siblings"

  // InputError "FILE: FIELD: message" for JSON that is invalid, over the metadata size limit
  // or repeats a key; a missing or empty "family"; no entries; an entry without a string
  // "name" or "directory"; two entries of one name or one directory (which would make the
  // stage of a checkpoint ambiguous); a slice that is not a plain name (it names the file
  // corpus/SLICE.jsonl.zst, so '/', "." and ".." are refused); a weights_sha256 that is not
  // hex SHA-256. Other fields are allowed and ignored.
  static FamilyManifest read(const std::filesystem::path& file);
  static FamilyManifest parse(std::string_view text, const std::filesystem::path& file);

  // The entry named `name`, or whose directory is `dir` (compared after resolving both);
  // null when none.
  const FamilyEntry* entry(std::string_view name) const;
  const FamilyEntry* entry_at(const std::filesystem::path& dir) const;
};

struct FamilyMember {
  std::string family;
  std::string stage;  // the entry's name
  std::filesystem::path manifest;
};

// nullopt when there is no family.json beside the directory or it does not list it; an
// InputError when there is one and it is malformed.
std::optional<FamilyMember> find_family_member(const std::filesystem::path& model_dir);

using FamilyStage = FamilyEntry;

// The entry named `stage` in family_dir/family.json. InputError naming the manifest when it
// is unreadable or malformed, or has no such entry (the message lists the names).
FamilyStage read_family_stage(const std::filesystem::path& family_dir, const std::string& stage);

// family_dir/corpus/<slice>.jsonl.zst for each of the stage's slices, in its order; an
// InputError names a slice whose file is missing, or the stage when it lists no slices.
std::vector<std::filesystem::path> stage_corpus_files(const std::filesystem::path& family_dir,
                                                      const FamilyStage& stage);

}  // namespace sg::audit
