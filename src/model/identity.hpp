// Checkpoint identity: SHA-256 over the weight file(s). A decision recorded for one file
// never applies to a modified one.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sg::model {

// Hex SHA-256 of one file (streamed; OpenSSL EVP).
std::string sha256_file(const std::filesystem::path& file);

// Identity of a checkpoint: for one file, that file's SHA-256; for several (sharded), the
// SHA-256 of the concatenation "<name> <sha256>\n" over the files in name order.
std::string checkpoint_sha256(const std::vector<std::filesystem::path>& weight_files);

// A cache of identities under `cache_dir`, keyed by path. An entry is reused only when
// (device, inode, size, mtime_ns, ctime_ns) all match the file; otherwise re-hashed.
// `force_rehash` (for commands that record or enforce a decision) always re-hashes.
std::string cached_checkpoint_sha256(const std::vector<std::filesystem::path>& weight_files,
                                     const std::filesystem::path& cache_dir, bool force_rehash);

}  // namespace sg::model
