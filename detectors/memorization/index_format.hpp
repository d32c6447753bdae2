// The .sgidx file layout, shared by the builder and the reader (detectors/memorization/
// README.md describes it). All integers little-endian; sections start at multiples of 8.
//
//   header (256 bytes, IndexHeader)
//   tokens      stream_size × token_bytes   corpus tokens, each document followed by one
//                                           separator (= vocab_size, above every token)
//   suffixes    token_count × u32           suffix array of the stream's token positions
//   buckets     (vocab_size + 1) × u64      first suffix of each first token
//   documents   (document_count + 1) × u64  stream position of each document's first token
//   name_ends   document_count × u64        end of each name in the name bytes
//   names       document names, concatenated
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sg::detectors::memorization {

inline constexpr std::array<char, 8> kIndexMagic = {'S', 'G', 'I', 'D', 'X', '\r', '\n', '\x1a'};
inline constexpr std::uint32_t kIndexVersion = 1;
inline constexpr std::size_t kHeaderBytes = 256;
inline constexpr std::size_t kHashChars = 64;  // hex SHA-256

struct IndexHeader {
  std::array<char, 8> magic{};
  std::uint32_t version = 0;
  std::uint32_t token_bytes = 0;  // 2 or 4
  std::uint64_t token_count = 0;  // corpus tokens, separators not counted
  std::uint32_t document_count = 0;
  std::uint32_t vocab_size = 0;  // also the separator's value
  std::uint64_t file_size = 0;
  std::uint64_t tokens_offset = 0;
  std::uint64_t suffixes_offset = 0;
  std::uint64_t buckets_offset = 0;
  std::uint64_t documents_offset = 0;
  std::uint64_t name_ends_offset = 0;
  std::uint64_t names_offset = 0;
  std::uint64_t header_checksum = 0;   // of the header with this field zero
  std::uint64_t payload_checksum = 0;  // of bytes [kHeaderBytes, file_size)
  std::array<char, kHashChars> tokenizer_hash{};
  std::array<char, kHashChars> corpus_hash{};
  std::uint32_t normalization = 0;  // TextNormalization of the text before tokenizing
  std::array<char, 20> reserved{};  // zero
};
static_assert(sizeof(IndexHeader) == kHeaderBytes);

// A fast 64-bit checksum against truncation and bit rot, not against tampering: four
// multiply-rotate lanes over 8-byte words (several GB/s, so opening checks the whole file).
class Checksum {
 public:
  void update(std::span<const std::byte> bytes);
  std::uint64_t value() const;

 private:
  void mix_block(const std::byte* block);

  std::array<std::uint64_t, 4> lanes_ = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full,
                                         0x165667B19E3779F9ull, 0x27D4EB2F165667C5ull};
  std::array<std::byte, 32> pending_{};
  std::size_t pending_size_ = 0;
  std::uint64_t total_ = 0;
};

// The checksum of `h` with its header_checksum field taken as zero (what that field holds).
std::uint64_t header_checksum(IndexHeader h);

inline std::uint64_t align8(std::uint64_t offset) {
  return (offset + 7) & ~std::uint64_t{7};
}

}  // namespace sg::detectors::memorization
