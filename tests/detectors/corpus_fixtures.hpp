// Small corpora for the corpus-index tests: random token documents with much repetition,
// the naive scans that the index must agree with, and a scratch directory.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../common/temp_dir.hpp"
#include "memorization/corpus_index.hpp"
#include "memorization/index_format.hpp"

namespace sg::testing {

namespace fs = std::filesystem;
namespace mem = sg::detectors::memorization;

using ScratchDir = TempDir;

inline std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

// An index file's bytes with both checksums recomputed as the builder would: a crafted file,
// to check that the reader's structural checks hold without the checksums' help.
inline void refresh_checksums(std::string& bytes) {
  if (bytes.size() < mem::kHeaderBytes) return;
  mem::IndexHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  mem::Checksum payload;
  payload.update(std::as_bytes(std::span(bytes).subspan(mem::kHeaderBytes)));
  h.payload_checksum = payload.value();
  h.header_checksum = mem::header_checksum(h);
  std::memcpy(bytes.data(), &h, sizeof h);
}

// Documents of 0..max_length tokens drawn from `alphabet` (few distinct ids, so that
// n-grams repeat, also across document ends), ids spread over [0, vocab_size).
inline mem::TokenizedCorpus random_corpus(std::mt19937& rng, std::uint32_t vocab_size,
                                          int documents, int max_length, int alphabet) {
  mem::TokenizedCorpus c;
  c.vocab_size = vocab_size;
  c.tokenizer_hash = std::string(64, 'a');
  std::vector<std::int32_t> ids;
  for (int a = 0; a < alphabet; ++a)
    ids.push_back(static_cast<std::int32_t>((vocab_size - 1) - a * (vocab_size / alphabet)));
  std::uniform_int_distribution<int> pick(0, alphabet - 1), length(0, max_length);
  for (int d = 0; d < documents; ++d) {
    std::vector<std::int32_t> doc(static_cast<std::size_t>(length(rng)));
    for (auto& t : doc) t = ids[static_cast<std::size_t>(pick(rng))];
    c.documents.push_back(std::move(doc));
    c.names.push_back("doc-" + std::to_string(d));
  }
  return c;
}

inline bool occurs_at(const std::vector<std::int32_t>& doc, std::size_t at,
                      std::span<const std::int32_t> q) {
  if (at + q.size() > doc.size()) return false;
  return std::equal(q.begin(), q.end(), doc.begin() + static_cast<std::ptrdiff_t>(at));
}

// Every (document, offset) where q occurs inside one document, in order.
inline std::vector<mem::CorpusIndex::Occurrence> naive_locate(const mem::TokenizedCorpus& c,
                                                              std::span<const std::int32_t> q) {
  std::vector<mem::CorpusIndex::Occurrence> out;
  for (std::uint32_t d = 0; d < c.documents.size(); ++d) {
    const auto& doc = c.documents[d];
    for (std::size_t at = 0; at < doc.size(); ++at)
      if (occurs_at(doc, at, q)) out.push_back({d, at});
  }
  return out;
}

inline std::vector<std::uint32_t> naive_longest(const mem::TokenizedCorpus& c,
                                                std::span<const std::int32_t> q) {
  std::vector<std::uint32_t> out(q.size(), 0);
  for (std::size_t i = 0; i < q.size(); ++i) {
    for (const auto& doc : c.documents) {
      for (std::size_t at = 0; at < doc.size(); ++at) {
        std::uint32_t l = 0;
        while (i + l < q.size() && at + l < doc.size() && doc[at + l] == q[i + l]) ++l;
        out[i] = std::max(out[i], l);
      }
    }
  }
  return out;
}

}  // namespace sg::testing
