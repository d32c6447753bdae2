#include <gtest/gtest.h>

#include "common/sha256.hpp"

namespace sg {
namespace {

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 h;
  h.update("a").update("b").update(std::string_view("c\0d", 3));
  EXPECT_EQ(h.hex(), sha256_hex(std::string_view("abc\0d", 5)));
}

TEST(Sha256, ADigestEndsTheHash) {
  Sha256 h;
  h.digest();
  EXPECT_THROW(h.update("x"), std::logic_error);
}

}  // namespace
}  // namespace sg
