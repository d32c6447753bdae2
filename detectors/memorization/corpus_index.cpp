#include "memorization/corpus_index.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "common/errors.hpp"
#include "memorization/index_format.hpp"
#include "model/mapped_file.hpp"

namespace sg::detectors::memorization {

namespace {

namespace fs = std::filesystem;

bool is_hex_hash(const std::array<char, kHashChars>& h) {
  return std::all_of(h.begin(), h.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The suffix array and the token stream, typed by how tokens are stored. Stream positions
// count the separator after each document; public positions do not.
template <typename Sym>
struct Text {
  const Sym* tokens;
  const std::uint32_t* sa;
  std::uint64_t stream_size;

  // The token at `depth` into suffix i; past the stream it reads as a separator would.
  std::uint32_t at(std::uint64_t i, std::uint64_t depth, std::uint32_t separator) const {
    const std::uint64_t p = sa[i] + depth;
    return p < stream_size ? tokens[p] : separator;
  }

  // Compares suffix i with `pattern` from offset `from`: <0, 0 when the suffix starts with
  // the pattern, >0. `lcp` receives the length of the common prefix.
  int compare(std::uint64_t i, std::span<const std::int32_t> pattern, std::size_t from,
              std::size_t& lcp) const {
    const std::uint64_t p = sa[i];
    std::size_t k = from;
    const std::uint64_t limit = stream_size - p;
    for (; k < pattern.size(); ++k) {
      if (k >= limit) {
        lcp = k;
        return -1;
      }
      const auto a = static_cast<std::uint32_t>(tokens[p + k]);
      const auto b = static_cast<std::uint32_t>(pattern[k]);
      if (a != b) {
        lcp = k;
        return a < b ? -1 : 1;
      }
    }
    lcp = k;
    return 0;
  }

  // The first i in [lo, hi) for which right(i) is false; right(i) must be true for a
  // prefix of the range and false after it. A step of a plain binary search waits for two
  // memory accesses in a row (the suffix-array entry, then its token); this one prefetches
  // the entries two levels down and the tokens one level down, so that a step waits for
  // about one.
  template <typename Right>
  std::uint64_t partition(std::uint64_t lo, std::uint64_t hi, std::uint64_t offset,
                          Right right) const {
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (hi - lo > 16) {
        const std::uint64_t l = lo + (mid - lo) / 2, r = mid + 1 + (hi - mid - 1) / 2;
        __builtin_prefetch(sa + lo + (l - lo) / 2);
        __builtin_prefetch(sa + l + 1 + (mid - l - 1) / 2);
        __builtin_prefetch(sa + mid + 1 + (r - mid - 1) / 2);
        __builtin_prefetch(sa + r + 1 + (hi - r - 1) / 2);
        __builtin_prefetch(tokens + std::min<std::uint64_t>(sa[l] + offset, stream_size - 1));
        __builtin_prefetch(tokens + std::min<std::uint64_t>(sa[r] + offset, stream_size - 1));
      }
      if (right(mid))
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

  // The end of the run [first, end) of i for which in(i) holds, given that in(first) does:
  // by galloping, so that a run of k costs O(log k) rather than O(log (hi - first)).
  template <typename In>
  std::uint64_t run_end(std::uint64_t first, std::uint64_t hi, std::uint64_t offset, In in) const {
    std::uint64_t known = first, step = 1;
    while (first + step < hi && in(first + step)) {
      known = first + step;
      step *= 2;
    }
    return partition(known + 1, std::min(first + step, hi), offset, in);
  }

  // The range of suffixes in [lo, hi) starting with `pattern`; all of them share its first
  // `from` tokens.
  std::pair<std::uint64_t, std::uint64_t> equal_range(std::uint64_t lo, std::uint64_t hi,
                                                      std::span<const std::int32_t> pattern,
                                                      std::size_t from) const {
    std::size_t lcp = 0;
    const std::uint64_t first = partition(
        lo, hi, from, [&](std::uint64_t i) { return compare(i, pattern, from, lcp) < 0; });
    if (first == hi || compare(first, pattern, from, lcp) != 0) return {first, first};
    return {first, run_end(first, hi, from,
                           [&](std::uint64_t i) { return compare(i, pattern, from, lcp) == 0; })};
  }

  // The first i in [lo, hi) whose suffix is not smaller than the pattern.
  std::uint64_t lower_bound(std::uint64_t lo, std::uint64_t hi,
                            std::span<const std::int32_t> pattern, std::size_t from) const {
    std::size_t lcp = 0;
    return partition(lo, hi, from,
                     [&](std::uint64_t i) { return compare(i, pattern, from, lcp) < 0; });
  }
};

}  // namespace

struct CorpusIndex::Impl {
  model::MappedFile file;
  IndexHeader header;
  std::string tokenizer_hash;
  std::string corpus_hash;
  std::uint64_t stream_size = 0;
  const std::byte* tokens = nullptr;
  const std::uint32_t* sa = nullptr;
  const std::uint64_t* buckets = nullptr;
  const std::uint64_t* doc_begins = nullptr;  // stream positions, document_count + 1
  const std::uint64_t* name_ends = nullptr;
  const char* names = nullptr;

  explicit Impl(const fs::path& path) : file(path) {}

  template <typename F>
  decltype(auto) with_text(F&& f) const {
    if (header.token_bytes == 2)
      return f(
          Text<std::uint16_t>{reinterpret_cast<const std::uint16_t*>(tokens), sa, stream_size});
    return f(Text<std::uint32_t>{reinterpret_cast<const std::uint32_t*>(tokens), sa, stream_size});
  }

  std::uint32_t stream_token(std::uint64_t p) const {
    if (header.token_bytes == 2) return reinterpret_cast<const std::uint16_t*>(tokens)[p];
    return reinterpret_cast<const std::uint32_t*>(tokens)[p];
  }

  // The document holding stream position p: the last one beginning at or before it.
  std::uint32_t document_of_stream(std::uint64_t p) const {
    const std::uint64_t* end = doc_begins + header.document_count + 1;
    return static_cast<std::uint32_t>(std::upper_bound(doc_begins, end, p) - doc_begins - 1);
  }

  std::uint64_t public_begin(std::uint32_t doc) const { return doc_begins[doc] - doc; }

  void check_checksum() const;
  void check_tables() const;
  void check_bounds() const;
};

namespace {

[[noreturn]] void bad(const fs::path& file, const std::string& what) {
  throw InputError(file.string() + ": " + what);
}

void check_layout(const fs::path& path, const IndexHeader& h, std::uint64_t actual_size) {
  if (h.file_size != actual_size)
    bad(path, actual_size < h.file_size
                  ? "truncated: the header says " + std::to_string(h.file_size) +
                        " bytes, the file has " + std::to_string(actual_size)
                  : "the header says " + std::to_string(h.file_size) + " bytes, the file has " +
                        std::to_string(actual_size) + " (trailing bytes)");
  if (h.token_bytes != 2 && h.token_bytes != 4)
    bad(path, "token width " + std::to_string(h.token_bytes) + " (expected 2 or 4)");
  if (h.vocab_size == 0 || (h.token_bytes == 2 && h.vocab_size > 0xFFFF))
    bad(path, "vocabulary of " + std::to_string(h.vocab_size) + " does not fit " +
                  std::to_string(h.token_bytes) + "-byte tokens");
  const std::uint64_t stream = h.token_count + h.document_count;
  if (stream >= UINT32_MAX) bad(path, "more positions than a 32-bit suffix array holds");
  // Every offset follows from the counts; a header that disagrees is corrupt.
  std::uint64_t expect = kHeaderBytes;
  auto section = [&](std::uint64_t offset, const char* name, std::uint64_t bytes) {
    if (offset != expect) bad(path, std::string("the ") + name + " section is misplaced");
    expect = offset + bytes;
  };
  section(h.tokens_offset, "tokens", stream * h.token_bytes);
  expect = align8(expect);
  section(h.suffixes_offset, "suffix array", h.token_count * 4);
  expect = align8(expect);
  section(h.buckets_offset, "first-token", (std::uint64_t{h.vocab_size} + 1) * 8);
  section(h.documents_offset, "documents", (std::uint64_t{h.document_count} + 1) * 8);
  section(h.name_ends_offset, "name ends", std::uint64_t{h.document_count} * 8);
  section(h.names_offset, "names", 0);
  if (h.names_offset > h.file_size) bad(path, "the names section is past the end of the file");
  if (!is_hex_hash(h.tokenizer_hash) || !is_hex_hash(h.corpus_hash))
    bad(path, "the tokenizer or corpus hash is not a hex SHA-256");
}

}  // namespace

void CorpusIndex::Impl::check_tables() const {
  const Impl& x = *this;
  const auto& h = x.header;
  const auto& path = x.file.path();
  if (x.doc_begins[0] != 0 || x.doc_begins[h.document_count] != x.stream_size)
    bad(path, "the document table does not span the token stream");
  for (std::uint32_t d = 0; d < h.document_count; ++d) {
    if (x.doc_begins[d + 1] <= x.doc_begins[d])
      bad(path, "the document table is out of order at document " + std::to_string(d));
  }
  const std::uint64_t name_bytes = h.file_size - h.names_offset;
  for (std::uint32_t d = 0; d < h.document_count; ++d) {
    if (x.name_ends[d] > name_bytes || (d > 0 && x.name_ends[d] < x.name_ends[d - 1]))
      bad(path, "the name table is corrupt at document " + std::to_string(d));
  }
  if (h.document_count > 0 && x.name_ends[h.document_count - 1] != name_bytes)
    bad(path, "the name table does not end with the file");
  if (x.buckets[0] != 0 || x.buckets[h.vocab_size] != h.token_count)
    bad(path, "the first-token table does not span the suffix array");
  for (std::uint32_t c = 0; c < h.vocab_size; ++c) {
    if (x.buckets[c + 1] < x.buckets[c]) bad(path, "the first-token table is out of order");
  }
}

void CorpusIndex::Impl::check_checksum() const {
  Checksum sum;
  sum.update(file.bytes().subspan(kHeaderBytes));
  if (sum.value() != header.payload_checksum)
    bad(file.path(), "corrupted: the checksum of the data does not match the header's");
}

// The checksum guards against accident; this keeps a crafted file from reading outside it.
void CorpusIndex::Impl::check_bounds() const {
  std::uint32_t largest = 0;
  for (std::uint64_t i = 0; i < header.token_count; ++i) largest = std::max(largest, sa[i]);
  if (header.token_count > 0 && largest >= stream_size)
    bad(file.path(), "the suffix array points past the token stream");
  // Matches stop at separators and callers decode what they read: a document holds tokens of
  // the vocabulary and ends with exactly one separator.
  for (std::uint32_t d = 0; d < header.document_count; ++d) {
    const std::uint64_t last = doc_begins[d + 1] - 1;
    if (stream_token(last) != header.vocab_size)
      bad(file.path(), "document " + std::to_string(d) + " does not end with a separator");
    for (std::uint64_t p = doc_begins[d]; p < last; ++p)
      if (stream_token(p) >= header.vocab_size)
        bad(file.path(), "document " + std::to_string(d) + " holds token " +
                             std::to_string(stream_token(p)) + ", outside the vocabulary of " +
                             std::to_string(header.vocab_size));
  }
}

CorpusIndex CorpusIndex::open(const fs::path& file) {
  return open(file, OpenOptions{});
}

CorpusIndex CorpusIndex::open(const fs::path& file, const OpenOptions& options) {
  auto impl = std::make_unique<Impl>(file);
  const auto bytes = impl->file.bytes();
  if (bytes.size() < kHeaderBytes ||
      std::memcmp(bytes.data(), kIndexMagic.data(), kIndexMagic.size()) != 0) {
    if (bytes.size() >= kIndexMagic.size() &&
        std::memcmp(bytes.data(), kIndexMagic.data(), kIndexMagic.size()) == 0)
      bad(file, "truncated: " + std::to_string(bytes.size()) + " bytes, shorter than the header");
    bad(file,
        "not a stagegate corpus index (no SGIDX magic; build one with stagegate index build)");
  }
  IndexHeader& h = impl->header;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.version != kIndexVersion)
    bad(file, "index format version " + std::to_string(h.version) + "; this stagegate reads " +
                  std::to_string(kIndexVersion) + " (rebuild the index)");
  if (header_checksum(h) != h.header_checksum)
    bad(file, "corrupted: the header's checksum does not match");
  check_layout(file, h, bytes.size());
  if (h.normalization > static_cast<std::uint32_t>(TextNormalization::kLowerSpace))
    bad(file, "unknown text normalization " + std::to_string(h.normalization) +
                  " (a newer stagegate wrote it?)");

  impl->stream_size = h.token_count + h.document_count;
  impl->tokenizer_hash.assign(h.tokenizer_hash.begin(), h.tokenizer_hash.end());
  impl->corpus_hash.assign(h.corpus_hash.begin(), h.corpus_hash.end());
  const std::byte* base = bytes.data();
  impl->tokens = base + h.tokens_offset;
  impl->sa = reinterpret_cast<const std::uint32_t*>(base + h.suffixes_offset);
  impl->buckets = reinterpret_cast<const std::uint64_t*>(base + h.buckets_offset);
  impl->doc_begins = reinterpret_cast<const std::uint64_t*>(base + h.documents_offset);
  impl->name_ends = reinterpret_cast<const std::uint64_t*>(base + h.name_ends_offset);
  impl->names = reinterpret_cast<const char*>(base + h.names_offset);
  if (options.verify_payload) impl->check_checksum();
  impl->check_tables();
  if (options.verify_payload) impl->check_bounds();
  return CorpusIndex(std::move(impl));
}

CorpusIndex::CorpusIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CorpusIndex::CorpusIndex(CorpusIndex&&) noexcept = default;
CorpusIndex& CorpusIndex::operator=(CorpusIndex&&) noexcept = default;
CorpusIndex::~CorpusIndex() = default;

const fs::path& CorpusIndex::path() const {
  return impl_->file.path();
}
std::uint64_t CorpusIndex::token_count() const {
  return impl_->header.token_count;
}
std::uint32_t CorpusIndex::document_count() const {
  return impl_->header.document_count;
}
std::uint32_t CorpusIndex::vocab_size() const {
  return impl_->header.vocab_size;
}
std::uint32_t CorpusIndex::token_bytes() const {
  return impl_->header.token_bytes;
}
TextNormalization CorpusIndex::normalization() const {
  return static_cast<TextNormalization>(impl_->header.normalization);
}
const std::string& CorpusIndex::tokenizer_hash() const {
  return impl_->tokenizer_hash;
}
const std::string& CorpusIndex::corpus_hash() const {
  return impl_->corpus_hash;
}

std::uint32_t CorpusIndex::document_of(std::uint64_t position) const {
  if (position >= token_count())
    throw std::out_of_range("corpus position " + std::to_string(position) + " of " +
                            std::to_string(token_count()));
  // The last document whose public begin (stream begin minus the separators before it) is
  // at or before the position; empty documents share a begin with the next one.
  std::uint32_t lo = 0, hi = document_count();
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    if (impl_->public_begin(mid + 1) <= position)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

std::int32_t CorpusIndex::token(std::uint64_t position) const {
  const std::uint32_t doc = document_of(position);
  return static_cast<std::int32_t>(impl_->stream_token(position + doc));
}

std::uint64_t CorpusIndex::document_begin(std::uint32_t doc) const {
  if (doc >= document_count()) throw std::out_of_range("document " + std::to_string(doc));
  return impl_->public_begin(doc);
}

std::uint64_t CorpusIndex::document_length(std::uint32_t doc) const {
  if (doc >= document_count()) throw std::out_of_range("document " + std::to_string(doc));
  return impl_->doc_begins[doc + 1] - impl_->doc_begins[doc] - 1;
}

std::string_view CorpusIndex::document_name(std::uint32_t doc) const {
  if (doc >= document_count()) throw std::out_of_range("document " + std::to_string(doc));
  const std::uint64_t begin = doc == 0 ? 0 : impl_->name_ends[doc - 1];
  return {impl_->names + begin, impl_->name_ends[doc] - begin};
}

std::vector<std::int32_t> CorpusIndex::document_tokens(std::uint32_t doc, std::uint64_t offset,
                                                       std::uint64_t n) const {
  const std::uint64_t length = document_length(doc);
  std::vector<std::int32_t> out;
  if (offset >= length) return out;
  n = std::min(n, length - offset);
  out.reserve(n);
  const std::uint64_t start = impl_->doc_begins[doc] + offset;
  for (std::uint64_t i = 0; i < n; ++i)
    out.push_back(static_cast<std::int32_t>(impl_->stream_token(start + i)));
  return out;
}

CorpusIndex::Range CorpusIndex::all() const {
  return {0, token_count(), 0};
}

CorpusIndex::Range CorpusIndex::extend(Range r, std::int32_t token) const {
  if (r.end > token_count() || r.begin > r.end)
    throw std::out_of_range("extend: a range outside this index");
  const std::uint32_t depth = r.depth + 1;
  if (r.empty() || token < 0 || static_cast<std::uint32_t>(token) >= vocab_size())
    return {r.begin, r.begin, depth};
  const auto c = static_cast<std::uint32_t>(token);
  if (r.depth == 0 && r.begin == 0 && r.end == token_count())
    return {impl_->buckets[c], impl_->buckets[c + 1], depth};
  const std::uint32_t sep = vocab_size();
  return impl_->with_text([&](const auto& text) -> Range {
    const std::uint64_t first = text.partition(
        r.begin, r.end, r.depth, [&](std::uint64_t i) { return text.at(i, r.depth, sep) < c; });
    if (first == r.end || text.at(first, r.depth, sep) != c) return {first, first, depth};
    const std::uint64_t end = text.run_end(
        first, r.end, r.depth, [&](std::uint64_t i) { return text.at(i, r.depth, sep) == c; });
    return {first, end, depth};
  });
}

CorpusIndex::Range CorpusIndex::find(std::span<const std::int32_t> tokens) const {
  if (tokens.empty()) return all();
  const auto depth = static_cast<std::uint32_t>(tokens.size());
  for (std::int32_t t : tokens) {
    if (t < 0 || static_cast<std::uint32_t>(t) >= vocab_size()) return {0, 0, depth};
  }
  const Range first = extend(all(), tokens[0]);
  if (tokens.size() == 1 || first.empty()) return {first.begin, first.end, depth};
  return impl_->with_text([&](const auto& text) -> Range {
    const auto [lo, hi] = text.equal_range(first.begin, first.end, tokens, 1);
    return {lo, hi, depth};
  });
}

std::uint64_t CorpusIndex::count(std::span<const std::int32_t> tokens) const {
  return find(tokens).size();
}

std::vector<std::uint32_t> CorpusIndex::longest(std::span<const std::int32_t> tokens) const {
  std::vector<std::uint32_t> out(tokens.size(), 0);
  impl_->with_text([&](const auto& text) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const Range first = extend(all(), tokens[i]);
      if (first.empty()) continue;
      // The suffixes sharing most with the pattern sit on either side of where it would
      // be inserted.
      const auto pattern = tokens.subspan(i);
      const std::uint64_t at = text.lower_bound(first.begin, first.end, pattern, 1);
      std::size_t best = 1, lcp = 0;
      if (at < first.end) {
        text.compare(at, pattern, 1, lcp);
        best = std::max(best, lcp);
      }
      if (at > first.begin) {
        text.compare(at - 1, pattern, 1, lcp);
        best = std::max(best, lcp);
      }
      out[i] = static_cast<std::uint32_t>(best);
    }
  });
  return out;
}

std::vector<CorpusIndex::Occurrence> CorpusIndex::locate(std::span<const std::int32_t> tokens,
                                                         std::size_t limit) const {
  return locate(find(tokens), limit);
}

std::vector<CorpusIndex::Occurrence> CorpusIndex::locate(Range r, std::size_t limit) const {
  if (r.end > token_count() || r.begin > r.end)
    throw std::out_of_range("locate: a range outside this index");
  std::vector<Occurrence> out;
  const std::uint64_t n = std::min<std::uint64_t>(r.size(), limit);
  out.reserve(n);
  for (std::uint64_t i = r.begin; i < r.begin + n; ++i) {
    const std::uint64_t p = impl_->sa[i];
    const std::uint32_t doc = impl_->document_of_stream(p);
    out.push_back({doc, p - impl_->doc_begins[doc]});
  }
  std::sort(out.begin(), out.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.document != b.document ? a.document < b.document : a.offset < b.offset;
  });
  return out;
}

}  // namespace sg::detectors::memorization
