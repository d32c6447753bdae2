#include "memorization/index_format.hpp"

#include <bit>
#include <cstring>

namespace sg::detectors::memorization {

namespace {

constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;

std::uint64_t load64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t round(std::uint64_t lane, std::uint64_t word) {
  return std::rotl(lane + word * kPrime2, 31) * kPrime1;
}

}  // namespace

void Checksum::mix_block(const std::byte* block) {
  for (std::size_t i = 0; i < 4; ++i) lanes_[i] = round(lanes_[i], load64(block + 8 * i));
}

void Checksum::update(std::span<const std::byte> bytes) {
  total_ += bytes.size();
  std::size_t at = 0;
  if (pending_size_ > 0) {
    const std::size_t take = std::min(bytes.size(), pending_.size() - pending_size_);
    std::memcpy(pending_.data() + pending_size_, bytes.data(), take);
    pending_size_ += take;
    at = take;
    if (pending_size_ < pending_.size()) return;
    mix_block(pending_.data());
    pending_size_ = 0;
  }
  for (; at + 32 <= bytes.size(); at += 32) mix_block(bytes.data() + at);
  std::memcpy(pending_.data(), bytes.data() + at, bytes.size() - at);
  pending_size_ = bytes.size() - at;
}

std::uint64_t Checksum::value() const {
  std::uint64_t h = total_ * kPrime1;
  for (std::uint64_t lane : lanes_) h = round(h ^ lane, lane) + kPrime2;
  std::array<std::byte, 32> tail{};
  std::memcpy(tail.data(), pending_.data(), pending_size_);
  for (std::size_t i = 0; i < 4; ++i) h = round(h, load64(tail.data() + 8 * i));
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  return h;
}

std::uint64_t header_checksum(IndexHeader h) {
  h.header_checksum = 0;
  Checksum sum;
  sum.update(std::as_bytes(std::span(&h, 1)));
  return sum.value();
}

}  // namespace sg::detectors::memorization
