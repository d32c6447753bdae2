// The bytes of data/lexicon.tsv, embedded at build time (cmake/embed_text.cmake) so that
// stagegate finds its lexicon from any working directory.
#pragma once

#include <string_view>

namespace sg::detectors::toxicity {

std::string_view builtin_lexicon_tsv();

}  // namespace sg::detectors::toxicity
