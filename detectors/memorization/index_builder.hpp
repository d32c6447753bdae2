// Building a .sgidx corpus index: tokenize the documents, suffix-sort the token stream
// (SA-IS, suffix_array.hpp), write the file to a temporary name and rename it into place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "memorization/corpus_reader.hpp"
#include "memorization/text_normalization.hpp"

namespace sg::tokenizer {
class Tokenizer;
}

namespace sg::detectors::memorization {

struct BuildOptions {
  unsigned threads = 0;  // for tokenizing; 0: every core
  bool progress = true;  // progress bars on stderr (only when it is a terminal)
  // Texts are normalized before tokenizing (the leakage filter's normalized mode); the
  // header says how, and the filter and `index` queries normalize their text the same way.
  TextNormalization normalization = TextNormalization::kNone;
};

struct BuildStats {
  std::uint64_t tokens = 0;
  std::uint32_t documents = 0;
  std::uint64_t file_bytes = 0;
  double tokenize_seconds = 0;
  double sort_seconds = 0;
  double write_seconds = 0;
};

// Documents already tokenized, for building from token ids (tests, benchmarks).
struct TokenizedCorpus {
  std::vector<std::string> names;
  std::vector<std::vector<std::int32_t>> documents;
  std::uint32_t vocab_size = 0;
  std::string tokenizer_hash;
};

struct IndexBuildInput {
  std::vector<CorpusDocument> documents;
};

// Indexes the documents of `corpus_files` (corpus_reader.hpp formats), in order, tokenized
// with `tok`. Errors name the file and line (or document) at fault; `out` is never left
// half-written.
BuildStats build_index(std::span<const std::filesystem::path> corpus_files,
                       const tokenizer::Tokenizer& tok, const std::string& tokenizer_hash,
                       const std::filesystem::path& out, const BuildOptions& options = {});
BuildStats build_index(const IndexBuildInput& input, const tokenizer::Tokenizer& tok,
                       const std::string& tokenizer_hash, const std::filesystem::path& out,
                       const BuildOptions& options = {});
// Every token must be < corpus.vocab_size (an InputError otherwise).
BuildStats build_index(const TokenizedCorpus& corpus, const std::filesystem::path& out,
                       const BuildOptions& options = {});

}  // namespace sg::detectors::memorization
