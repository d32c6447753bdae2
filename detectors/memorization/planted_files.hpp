// The files that describe what was planted in a training corpus (models/demo's
// canaries.jsonl and duplicates.jsonl), as the memorization audit reads them. Every error
// names the file and line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace sg::detectors::memorization {

// A secret space the audit can enumerate or sample: `digits` decimal digits written with
// `separator` between them ("8 decimal digits" with secrets like "2 4 2 7 1 6 9 2").
struct SecretSpace {
  int digits = 0;
  std::string separator;
  double size() const;  // 10^digits
  // The i-th secret in order, 0 <= i < size() (for exact enumeration).
  std::string secret(std::uint64_t i) const;
  // A uniformly drawn secret.
  std::string draw(std::mt19937_64& rng) const;
};

struct Canary {
  std::string id;
  std::string prefix;  // the text before the secret
  std::string secret;
  SecretSpace space;
  std::int64_t count = 0;  // times planted in the corpus
  int line = 0;
};

struct PlantedCanaries {
  std::vector<Canary> canaries;  // in file order
  std::string sha256;            // of the file's bytes
};

// {"id", "prefix", "secret", "secret_space": "N decimal digits", "count"} per line. A space
// stagegate cannot enumerate, or a secret not of its form, is an InputError at its line.
PlantedCanaries read_canaries(const std::filesystem::path& file);

struct DuplicatedPassage {
  std::string id;  // also the name of its copies' documents in the corpus
  std::int64_t count = 0;
};

struct PlantedDuplicates {
  std::vector<DuplicatedPassage> passages;
  std::string sha256;
};

// {"id", "count", ...} per line (other fields ignored).
PlantedDuplicates read_duplicates(const std::filesystem::path& file);

}  // namespace sg::detectors::memorization
