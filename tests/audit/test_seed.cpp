#include <gtest/gtest.h>

#include "audit/seed.hpp"

namespace sg::audit {
namespace {

TEST(SampleSeed, IsTheFirstEightBytesOfTheDocumentedHash) {
  // Python: int.from_bytes(hashlib.sha256(b"abc\0greedy\0p1\0" b"3").digest()[:8], "big")
  EXPECT_EQ(sample_seed("abc", "greedy", "p1", 3), 11702117607883945676ull);
}

TEST(SampleSeed, EveryPartMatters) {
  const auto s = sample_seed("h", "greedy", "p1", 0);
  EXPECT_EQ(sample_seed("h", "greedy", "p1", 0), s);
  EXPECT_NE(sample_seed("g", "greedy", "p1", 0), s);
  EXPECT_NE(sample_seed("h", "top_k", "p1", 0), s);
  EXPECT_NE(sample_seed("h", "greedy", "p2", 0), s);
  EXPECT_NE(sample_seed("h", "greedy", "p1", 1), s);
  EXPECT_NE(sample_seed("h", "ab", "c", 0), sample_seed("h", "a", "bc", 0));
}

}  // namespace
}  // namespace sg::audit
