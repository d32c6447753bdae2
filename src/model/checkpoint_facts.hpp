// What a record of work on a checkpoint (an audit, a release decision, a served request)
// says about it: its identity, where it was, what it is. Built in one place so every
// record describes a checkpoint the same way.
#pragma once

#include <cstdint>
#include <string>

#include "model/checkpoint.hpp"

namespace sg::model {

struct CheckpointFacts {
  std::string sha256;        // identity: checkpoint_sha256 of the weight files, hashed now
  std::string path;          // absolute, normalized directory
  std::string architecture;  // "gpt2", "openai-gpt"
  std::int64_t parameters = 0;
  std::string config_json;  // config.json as it is on disk
};

// Hashes the weights now (a record names exactly the weights it measured, never a cached
// identity) and reads config.json; an unreadable config.json is an InputError naming it.
CheckpointFacts checkpoint_facts(const Checkpoint& checkpoint);

}  // namespace sg::model
