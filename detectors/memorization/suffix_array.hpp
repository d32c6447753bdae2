// Suffix sorting over an integer alphabet by induced sorting (SA-IS, Nong, Zhang & Chan
// 2009). Token streams have alphabets of 8k-200k symbols, which byte-oriented sorters such
// as libdivsufsort cannot take directly (bench/README.md compares the two).
#pragma once

#include <cstdint>
#include <span>

namespace sg::detectors::memorization {

// Fills `sa` (same length as `text`) with the start positions of the suffixes of `text` in
// lexicographic order, a suffix that is a prefix of another sorting first. Every symbol
// must be < alphabet_size. Needs text.size() < 2^32 - 1; besides `sa` it allocates one bit
// per symbol plus, in the recursion, at most 2 bytes per symbol.
void suffix_sort(std::span<const std::uint16_t> text, std::span<std::uint32_t> sa,
                 std::uint32_t alphabet_size);
void suffix_sort(std::span<const std::uint32_t> text, std::span<std::uint32_t> sa,
                 std::uint32_t alphabet_size);

}  // namespace sg::detectors::memorization
