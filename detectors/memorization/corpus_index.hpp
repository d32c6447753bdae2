// A training corpus as a suffix array over its token stream (a .sgidx file, opened by
// mmap): how often a token sequence occurs, the longest corpus match at each position of
// a text, and where a span occurs. Matches never cross a document's end.
//
// Positions: the corpus is a stream of `token_count()` tokens, documents one after
// another; `document_begin(d)` is where document d starts in it. An open index is
// read-only: its const methods may be called from several threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memorization/corpus_reader.hpp"
#include "memorization/index_builder.hpp"
#include "memorization/tokenizer_hash.hpp"

namespace sg::detectors::memorization {

struct OpenOptions {
  // Checksums the whole file and bounds-checks the suffix array and every token while opening
  // (passes over the file at memory speed). Off, only the header and the small tables are
  // checked, and the file is trusted.
  bool verify_payload = true;
};

class CorpusIndex {
 public:
  // Maps `file` and checks magic, version, sizes and checksums; an InputError naming the
  // file says what is wrong (truncated, corrupted, not an index, newer version).
  static CorpusIndex open(const std::filesystem::path& file);
  static CorpusIndex open(const std::filesystem::path& file, const OpenOptions& options);

  CorpusIndex(CorpusIndex&&) noexcept;
  CorpusIndex& operator=(CorpusIndex&&) noexcept;
  ~CorpusIndex();

  const std::filesystem::path& path() const;
  std::uint64_t token_count() const;
  std::uint32_t document_count() const;
  std::uint32_t vocab_size() const;           // token ids are < vocab_size()
  std::uint32_t token_bytes() const;          // 2 or 4: how each token is stored
  const std::string& tokenizer_hash() const;  // hex SHA-256 (memorization::tokenizer_hash)
  const std::string& corpus_hash() const;     // hex SHA-256 of the documents' names and texts
  // How texts were normalized before tokenizing: a query's text must be normalized the same
  // way (normalize() in text_normalization.hpp) before it is encoded.
  TextNormalization normalization() const;

  // Position: 0 <= position < token_count(). Out of range is std::out_of_range.
  std::int32_t token(std::uint64_t position) const;
  std::uint32_t document_of(std::uint64_t position) const;
  std::uint64_t document_begin(std::uint32_t doc) const;   // its first token's position
  std::uint64_t document_length(std::uint32_t doc) const;  // in tokens
  std::string_view document_name(std::uint32_t doc) const;
  // Tokens [offset, offset + n) of a document, clipped at its end.
  std::vector<std::int32_t> document_tokens(std::uint32_t doc, std::uint64_t offset = 0,
                                            std::uint64_t n = UINT64_MAX) const;

  // A set of suffixes sharing a prefix of `depth` tokens (a suffix-array interval).
  struct Range {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    std::uint32_t depth = 0;
    bool empty() const { return begin >= end; }
    std::uint64_t size() const { return end - begin; }
  };
  Range all() const;  // depth 0: every position
  // Narrows r to the suffixes whose token at offset r.depth is `token`, never crossing a
  // document end. O(log r.size()); from all(), O(1) by a table of first tokens. A token
  // outside the vocabulary gives an empty range.
  Range extend(Range r, std::int32_t token) const;
  // The range of suffixes starting with `tokens` (depth = tokens.size()), by one binary
  // search comparing whole spans: faster than extending token by token from all().
  Range find(std::span<const std::int32_t> tokens) const;

  // Occurrences within documents; the empty sequence occurs token_count() times.
  std::uint64_t count(std::span<const std::int32_t> tokens) const;
  // l_i = the largest L such that tokens[i : i+L] occurs in the corpus.
  std::vector<std::uint32_t> longest(std::span<const std::int32_t> tokens) const;

  struct Occurrence {
    std::uint32_t document = 0;
    std::uint64_t offset = 0;  // within the document, in tokens
    bool operator==(const Occurrence&) const = default;
  };
  // At most `limit` occurrences, sorted by (document, offset); which ones when there are
  // more is unspecified (the first in suffix order).
  std::vector<Occurrence> locate(std::span<const std::int32_t> tokens, std::size_t limit) const;
  std::vector<Occurrence> locate(Range r, std::size_t limit) const;

 private:
  struct Impl;
  explicit CorpusIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::detectors::memorization
