// Loading the tokenizer of a checkpoint or tokenizer directory, for the commands that need
// only the tokenizer (tokenize, index), not the weights.
#pragma once

#include <filesystem>
#include <memory>

#include "tokenizer/tokenizer.hpp"

namespace sg::cli {

// dir/vocab.json + dir/merges.txt, with the algorithm config.json's model_type names when
// there is one. InputError when the directory has no tokenizer.
std::unique_ptr<tokenizer::Tokenizer> load_tokenizer_dir(const std::filesystem::path& dir);

}  // namespace sg::cli
