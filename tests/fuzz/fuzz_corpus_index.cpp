// Corpus indexes (.sgidx, detectors/memorization/corpus_index.cpp), two ways, chosen by the
// first input byte:
//   - raw: the rest is an index file. Its checksums are recomputed before it is written, so
//     that the structural checks are fuzzed alone (the checksums guard against accidents, not
//     against a crafted file). It must open or be refused with sg::InputError; an opened
//     index answers every query, in range or not, without reading outside the file, and its
//     documents partition the token stream with tokens inside the vocabulary.
//   - built: the rest is a small tokenized corpus, indexed by the builder; the opened index
//     must answer count, locate and longest as a brute-force scan of the documents does.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "../detectors/corpus_fixtures.hpp"
#include "common/errors.hpp"
#include "memorization/corpus_index.hpp"
#include "memorization/index_builder.hpp"
#include "scratch_file.hpp"

namespace {

namespace mem = sg::detectors::memorization;
using sg::fuzz::check;
using Tokens = std::vector<std::int32_t>;

// Queries from the input's own bytes, in and out of range: only their safety is checked.
void query_anything(const mem::CorpusIndex& index, std::span<const std::uint8_t> seed) {
  const std::uint64_t n = index.token_count();
  const std::uint32_t docs = index.document_count();
  std::uint64_t total = 0;
  for (std::uint32_t d = 0; d < docs; ++d) {
    const auto begin = index.document_begin(d);
    const auto length = index.document_length(d);
    check(begin == total);
    total += length;
    const auto tokens = index.document_tokens(d);
    check(tokens.size() == length);
    for (std::uint64_t i = 0; i < length; ++i) {
      check(tokens[i] >= 0 && static_cast<std::uint32_t>(tokens[i]) < index.vocab_size());
      check(index.token(begin + i) == tokens[i] && index.document_of(begin + i) == d);
    }
    (void)index.document_name(d);
    // Where the index says a span occurs lies in a document (at most at its end: a crafted
    // suffix array out of order is not detected, and gives wrong answers, not wild ones).
    const auto span = std::span(tokens).first(std::min<std::size_t>(tokens.size(), 3));
    for (const auto& o : index.locate(span, 8))
      check(o.document < docs && o.offset <= index.document_length(o.document));
    for (const auto l : index.longest(tokens)) check(l <= tokens.size());
  }
  check(total == n);
  check(index.count({}) == n);
  Tokens probe;
  for (const auto b : seed.first(std::min<std::size_t>(seed.size(), 6))) {
    probe.push_back(static_cast<std::int32_t>(b) - 2);  // -2, -1: outside any vocabulary
    const auto r = index.find(probe);
    check(r.begin <= r.end && r.end <= n);
    (void)index.count(probe);
    for (const auto& o : index.locate(probe, 4))
      check(o.document < docs && o.offset <= index.document_length(o.document));
    const auto l = index.longest(probe);
    check(l.size() == probe.size());
    for (std::size_t i = 0; i < l.size(); ++i) check(l[i] <= probe.size() - i);
  }
  auto r = index.all();
  for (const auto t : probe) r = index.extend(r, t);
  check(r.end <= n);
  for (const std::uint64_t p : {n, n + 1, std::uint64_t{1} << 40}) {
    try {
      (void)index.token(p);
      check(false);
    } catch (const std::out_of_range&) {
    }
  }
  try {
    (void)index.document_tokens(docs);
    check(false);
  } catch (const std::out_of_range&) {
  }
}

void raw(std::span<const std::uint8_t> data) {
  std::string bytes(data.begin(), data.end());
  sg::testing::refresh_checksums(bytes);
  const auto file = sg::fuzz::scratch().write("raw.sgidx", bytes);
  try {
    (void)mem::CorpusIndex::open(file, {.verify_payload = false});
  } catch (const sg::InputError&) {
  }
  try {
    const auto index = mem::CorpusIndex::open(file);
    query_anything(index, data);
  } catch (const sg::InputError& e) {
    sg::fuzz::refused(e);  // a refusal is a correct answer to bad input
  }
}

void built(std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  // A small vocabulary, so that spans repeat; byte 0xFF ends a document.
  const std::uint32_t vocab = 2 + data[0] % 30;
  mem::TokenizedCorpus corpus;
  corpus.vocab_size = vocab;
  corpus.tokenizer_hash = std::string(64, 'f');
  corpus.documents.emplace_back();
  for (const auto b : data.subspan(1)) {
    if (b == 0xFF) {
      if (corpus.documents.size() == 8) break;
      corpus.documents.emplace_back();
    } else if (corpus.documents.back().size() < 64) {
      corpus.documents.back().push_back(static_cast<std::int32_t>(b % vocab));
    }
  }
  for (std::size_t d = 0; d < corpus.documents.size(); ++d)
    corpus.names.push_back("doc" + std::to_string(d));
  const auto file = sg::fuzz::scratch().path() / "built.sgidx";
  try {
    mem::build_index(corpus, file, {.threads = 1, .progress = false});
  } catch (const sg::InputError& e) {
    sg::fuzz::refused(e);  // e.g. a corpus of no tokens at all
    return;
  }
  // How the raw seeds were made: SG_FUZZ_INDEX_OUT=FILE copies the built index there.
  if (const char* out = std::getenv("SG_FUZZ_INDEX_OUT"))
    std::filesystem::copy_file(file, out, std::filesystem::copy_options::overwrite_existing);
  const auto index = mem::CorpusIndex::open(file);
  const auto& docs = corpus.documents;
  check(index.document_count() == docs.size() && index.vocab_size() == vocab);
  for (std::uint32_t d = 0; d < docs.size(); ++d) {
    check(index.document_tokens(d) == docs[d] && index.document_name(d) == corpus.names[d]);
    for (std::size_t i = 0; i < docs[d].size(); ++i) {
      for (std::size_t len = 1; len <= 4 && i + len <= docs[d].size(); ++len) {
        const Tokens span(docs[d].begin() + i, docs[d].begin() + i + len);
        const auto expected = sg::testing::naive_locate(corpus, span);
        check(index.count(span) == expected.size());
        check(index.locate(span, expected.size() + 1) == expected);
      }
    }
    // A text made of this document's tokens and the next one's crosses a document end
    // where the corpus has none: longest() must not match across it.
    Tokens text = docs[d];
    if (d + 1 < docs.size()) text.insert(text.end(), docs[d + 1].begin(), docs[d + 1].end());
    check(index.longest(text) == sg::testing::naive_longest(corpus, text));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span rest(data + 1, size - 1);
  if (data[0] % 2 == 0)
    raw(rest);
  else
    built(rest);
  return 0;
}
