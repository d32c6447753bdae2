// A tokenizer from a checkpoint or tokenizer directory, for commands that need no weights.
#pragma once

#include <filesystem>
#include <memory>

#include "tokenizer/tokenizer.hpp"

namespace sg::cli {

// vocab.json + merges.txt of `dir`, with config.json's model type when there is one.
// InputError when the directory holds no tokenizer.
std::unique_ptr<tokenizer::Tokenizer> load_tokenizer_dir(const std::filesystem::path& dir);

}  // namespace sg::cli
