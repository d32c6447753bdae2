// What identifies a tokenizer to an index: the hex SHA-256 of its vocab.json and
// merges.txt. An index built with one tokenizer answers nothing meaningful about token ids
// from another, so the audit compares this with the index's tokenizer_hash().
#pragma once

#include <filesystem>
#include <string>

namespace sg::detectors::memorization {

// `dir`: a checkpoint or tokenizer directory holding vocab.json + merges.txt. Hashes the
// files' bytes (each preceded by its name and size), so that the four demo stages, which
// share a tokenizer, share one index. Throws InputError naming a missing file.
std::string tokenizer_hash(const std::filesystem::path& dir);

// Throws InputError naming the index and the model when `index_hash` is not the hash of
// the tokenizer in `model_dir`.
void check_tokenizer_matches(const std::string& index_hash, const std::filesystem::path& index,
                             const std::filesystem::path& model_dir);

}  // namespace sg::detectors::memorization
