#include "memorization/suffix_array.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

namespace sg::detectors::memorization {

namespace {

constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();

// One bit per position: S-type (the suffix is smaller than the next one) or L-type.
class TypeBits {
 public:
  explicit TypeBits(std::uint32_t n) : words_((static_cast<std::size_t>(n) + 63) / 64, 0) {}
  bool s(std::uint32_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  void set_s(std::uint32_t i) { words_[i >> 6] |= std::uint64_t{1} << (i & 63); }
  void prefetch(std::uint32_t i) const { __builtin_prefetch(&words_[i >> 6]); }
  // A leftmost S-type position: S-type with an L-type left neighbour.
  bool lms(std::uint32_t i) const { return i > 0 && s(i) && !s(i - 1); }

 private:
  std::vector<std::uint64_t> words_;
};

// Bucket boundaries per symbol. The symbol counts are kept when the alphabet is small next
// to the text, and recounted on each reset otherwise, so that a recursion level over
// mostly-distinct names costs 4 bytes per name rather than 8.
template <typename Sym>
class Buckets {
 public:
  Buckets(const Sym* text, std::uint32_t n, std::uint32_t alphabet)
      : text_(text), n_(n), bounds_(alphabet) {
    if (alphabet <= n / 8) {
      counts_.assign(alphabet, 0);
      count_into(counts_);
    }
  }
  std::uint32_t* heads() { return reset(false); }
  std::uint32_t* tails() { return reset(true); }

 private:
  void count_into(std::vector<std::uint32_t>& out) const {
    std::fill(out.begin(), out.end(), 0);
    for (std::uint32_t i = 0; i < n_; ++i) ++out[text_[i]];
  }
  std::uint32_t* reset(bool tails) {
    if (counts_.empty()) count_into(bounds_);
    const std::vector<std::uint32_t>& counts = counts_.empty() ? bounds_ : counts_;
    std::uint32_t sum = 0;
    for (std::size_t c = 0; c < bounds_.size(); ++c) {
      const std::uint32_t count = counts[c];
      bounds_[c] = tails ? sum + count : sum;
      sum += count;
    }
    return bounds_.data();
  }

  const Sym* text_;
  std::uint32_t n_;
  std::vector<std::uint32_t> bounds_;
  std::vector<std::uint32_t> counts_;
};

// The induction scans are random accesses into arrays far larger than the caches: the
// symbol and type left of each suffix met, and the bucket slot it is written to. They are
// prefetched in two stages: the symbol and type 2D entries ahead, then, D entries ahead
// (the symbol now cached), the slot the write will go to.
constexpr std::uint32_t kPrefetchDistance = 32;

template <typename Sym>
void prefetch_left_neighbour(const Sym* text, const TypeBits& types, std::uint32_t j) {
  if (j != kEmpty && j > 0) {
    __builtin_prefetch(text + j - 1);
    types.prefetch(j - 1);
  }
}

template <typename Sym>
void prefetch_slot(const Sym* text, const std::uint32_t* sa, const std::uint32_t* bucket,
                   std::uint32_t j) {
  if (j != kEmpty && j > 0) __builtin_prefetch(sa + bucket[text[j - 1]], 1);
}

// The suffix past the end (a virtual sentinel smaller than every symbol) comes first; its
// left neighbour n-1 is always L-type, so it starts the L-type induction. Entries ahead may
// still be empty (filled later by the same scan); then nothing is prefetched.
template <typename Sym>
void induce(const Sym* text, std::uint32_t* sa, std::uint32_t n, const TypeBits& types,
            Buckets<Sym>& buckets) {
  constexpr std::uint32_t d = kPrefetchDistance;
  std::uint32_t* bucket = buckets.heads();
  sa[bucket[text[n - 1]]++] = n - 1;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (i + 2 * d < n) prefetch_left_neighbour(text, types, sa[i + 2 * d]);
    if (i + d < n) prefetch_slot(text, sa, bucket, sa[i + d]);
    const std::uint32_t j = sa[i];
    if (j != kEmpty && j > 0 && !types.s(j - 1)) sa[bucket[text[j - 1]]++] = j - 1;
  }
  bucket = buckets.tails();
  for (std::uint32_t i = n; i-- > 0;) {
    if (i >= 2 * d) prefetch_left_neighbour(text, types, sa[i - 2 * d]);
    if (i >= d) prefetch_slot(text, sa, bucket, sa[i - d]);
    const std::uint32_t j = sa[i];
    if (j != kEmpty && j > 0 && types.s(j - 1)) sa[--bucket[text[j - 1]]] = j - 1;
  }
}

// Whether the LMS substrings (from an LMS position up to and including the next one)
// starting at a and b differ; the substring that reaches the end of the text is unique.
template <typename Sym>
bool lms_substrings_differ(const Sym* text, std::uint32_t n, const TypeBits& types, std::uint32_t a,
                           std::uint32_t b) {
  for (std::uint32_t d = 0;; ++d) {
    if (a + d == n || b + d == n) return true;
    if (text[a + d] != text[b + d] || types.s(a + d) != types.s(b + d)) return true;
    if (d > 0 && (types.lms(a + d) || types.lms(b + d)))
      return !(types.lms(a + d) && types.lms(b + d));
  }
}

template <typename Sym>
void sais(const Sym* text, std::uint32_t* sa, std::uint32_t n, std::uint32_t alphabet) {
  if (n == 0) return;
  if (n == 1) {
    sa[0] = 0;
    return;
  }
  TypeBits types(n);
  for (std::uint32_t i = n - 1; i-- > 0;) {
    if (text[i] < text[i + 1] || (text[i] == text[i + 1] && types.s(i + 1))) types.set_s(i);
  }
  Buckets<Sym> buckets(text, n, alphabet);

  // Stage 1: sort the LMS substrings by inducing from LMS positions in arbitrary order.
  std::fill(sa, sa + n, kEmpty);
  std::uint32_t* bucket = buckets.tails();
  for (std::uint32_t i = 1; i < n; ++i) {
    if (types.lms(i)) sa[--bucket[text[i]]] = i;
  }
  induce(text, sa, n, types, buckets);

  // Name the sorted LMS substrings; equal substrings share a name.
  std::uint32_t n1 = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (sa[i] != kEmpty && types.lms(sa[i])) sa[n1++] = sa[i];
  }
  std::fill(sa + n1, sa + n, kEmpty);
  std::uint32_t names = 0;
  std::uint32_t previous = kEmpty;
  for (std::uint32_t i = 0; i < n1; ++i) {
    const std::uint32_t pos = sa[i];
    if (previous == kEmpty || lms_substrings_differ(text, n, types, pos, previous)) {
      ++names;
      previous = pos;
    }
    sa[n1 + pos / 2] = names - 1;
  }
  for (std::uint32_t i = n, j = n; i-- > n1;) {
    if (sa[i] != kEmpty) sa[--j] = sa[i];
  }

  // Stage 2: sort the reduced string (recursively when names repeat).
  std::uint32_t* reduced = sa + n - n1;
  if (names < n1) {
    sais<std::uint32_t>(reduced, sa, n1, names);
  } else {
    for (std::uint32_t i = 0; i < n1; ++i) sa[reduced[i]] = i;
  }

  // Stage 3: place the LMS suffixes in their true order and induce the rest.
  for (std::uint32_t i = 1, j = 0; i < n; ++i) {
    if (types.lms(i)) reduced[j++] = i;
  }
  for (std::uint32_t i = 0; i < n1; ++i) sa[i] = reduced[sa[i]];
  std::fill(sa + n1, sa + n, kEmpty);
  bucket = buckets.tails();
  for (std::uint32_t i = n1; i-- > 0;) {
    const std::uint32_t j = sa[i];
    sa[i] = kEmpty;
    sa[--bucket[text[j]]] = j;
  }
  induce(text, sa, n, types, buckets);
}

template <typename Sym>
void sort_checked(std::span<const Sym> text, std::span<std::uint32_t> sa,
                  std::uint32_t alphabet_size) {
  if (sa.size() != text.size()) throw std::invalid_argument("suffix_sort: sa size != text size");
  if (text.size() >= kEmpty) throw std::invalid_argument("suffix_sort: text of 2^32-1 or more");
  sais<Sym>(text.data(), sa.data(), static_cast<std::uint32_t>(text.size()), alphabet_size);
}

}  // namespace

void suffix_sort(std::span<const std::uint16_t> text, std::span<std::uint32_t> sa,
                 std::uint32_t alphabet_size) {
  sort_checked(text, sa, alphabet_size);
}

void suffix_sort(std::span<const std::uint32_t> text, std::span<std::uint32_t> sa,
                 std::uint32_t alphabet_size) {
  sort_checked(text, sa, alphabet_size);
}

}  // namespace sg::detectors::memorization
