// A tokenizer file's whole contents, for the readers that parse from bytes (so that fuzzing
// and tests can feed them without files).
#pragma once

#include <filesystem>
#include <string>

namespace sg::tokenizer {

// Throws sg::InputError naming the file when it cannot be read.
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace sg::tokenizer
