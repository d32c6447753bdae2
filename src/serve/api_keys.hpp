// API keys of `stagegate serve`: a keys file maps each key's SHA-256 to an audience of the
// release policy. A key is shown once, when `stagegate keys add` makes it, and never stored;
// a stolen keys file lets nobody in. Revoked keys stay listed (with when), so an id in the
// request log always names a known key.
//
//   {"stagegate_keys": 1, "keys": [{"id": "3f9a0c2e41d7", "audience": "researchers",
//     "label": "alice", "sha256": "…", "created": "2026-11-28T09:00:00Z", "revoked": null}]}
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::serve {

struct ApiKey {
  std::string id;        // the first 12 hex digits of sha256: names the key in lists and logs
  std::string audience;  // a policy's [audience.NAME]
  std::string label;     // who or what holds it; may be empty
  std::string sha256;    // hex SHA-256 of the whole key text
  std::string created;   // UTC, "YYYY-MM-DDTHH:MM:SSZ"
  std::optional<std::string> revoked;  // UTC, when it was revoked
};

class KeysFile {
 public:
  // A file that does not exist yet is an empty set (the first `keys add` creates it).
  // InputError naming the file and the field for anything malformed: invalid or over-size
  // JSON, a repeated key, an unknown format version, a bad id, hash, audience or date, two
  // entries with one id or hash.
  static KeysFile read(const std::filesystem::path& file);
  static KeysFile parse(std::string_view text, const std::filesystem::path& file);

  const std::filesystem::path& file() const { return file_; }
  const std::vector<ApiKey>& keys() const { return keys_; }

  // Makes a new key for `audience` (letters, digits, '_' or '-', as policies name them),
  // records its hash and returns the key text ("sg-" and 48 hex digits: 192 random bits
  // from the kernel). The file is not written until write().
  std::string add(const std::string& audience, const std::string& label);
  // Marks the key of this id revoked; InputError when there is none or it already is.
  void revoke(std::string_view id);
  // The key whose hash matches `key`, revoked or not (the caller tells the two apart);
  // null when none does. Compares every stored hash in full, in time independent of where
  // they differ.
  const ApiKey* find(std::string_view key) const;

  // Writes the file whole under a temporary name beside it, flushed to disk, then renamed
  // over it: a crash leaves the old file or the new one, never half of one. Mode 0600.
  void write() const;

 private:
  std::filesystem::path file_;
  std::vector<ApiKey> keys_;
};

}  // namespace sg::serve
