// Checkpoint identity: SHA-256 of the weight file(s), and the stat-keyed cache that spares a
// re-hash only while the file is provably unchanged.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "checkpoint_builder.hpp"
#include "common/errors.hpp"
#include "model/identity.hpp"

namespace sg::model {
namespace {

namespace fs = std::filesystem;
using testing::CheckpointBuilder;

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(Identity, Sha256OfKnownBytes) {
  CheckpointBuilder b;
  const auto abc = b.dir() / "abc";
  std::ofstream(abc, std::ios::binary) << "abc";
  EXPECT_EQ(sha256_file(abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const auto empty = b.dir() / "empty";
  std::ofstream(empty, std::ios::binary).flush();
  EXPECT_EQ(sha256_file(empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Identity, Sha256AcrossTheReadBuffer) {
  // 3 MiB of 'a' spans several reads of the streaming hasher (digest from Python hashlib).
  CheckpointBuilder b;
  const auto big = b.dir() / "big";
  std::ofstream(big, std::ios::binary) << std::string(3u << 20, 'a');
  EXPECT_EQ(sha256_file(big), "6f850bc94ae6f7de14297c01616c36d712d22864497b28a63b81d776b035e656");
}

TEST(Identity, ShardedIdentityIsOrderIndependentAndCoversEveryShard) {
  CheckpointBuilder b;
  const auto a = b.dir() / "model-00001-of-00002.safetensors";
  const auto c = b.dir() / "model-00002-of-00002.safetensors";
  std::ofstream(a, std::ios::binary) << "first";
  std::ofstream(c, std::ios::binary) << "second";
  const auto id = checkpoint_sha256({a, c});
  EXPECT_EQ(checkpoint_sha256({c, a}), id);
  EXPECT_NE(id, sha256_file(a));
  std::ofstream(c, std::ios::binary | std::ios::app) << "!";
  EXPECT_NE(checkpoint_sha256({a, c}), id);
}

TEST(Identity, UnreadableFileIsAnInputError) {
  EXPECT_THROW(sha256_file("/nonexistent/model.safetensors"), InputError);
}

TEST(Identity, CacheReusedOnlyWhileTheFileIsUnchanged) {
  CheckpointBuilder b;
  b.write();
  auto cache = b.dir() / "cache";
  auto first = cached_checkpoint_sha256({b.weights()}, cache, false);
  EXPECT_EQ(first, sha256_file(b.weights()));
  EXPECT_EQ(entries(cache), 1u);  // one JSON entry, no temporary left behind

  // The entry is what is reused: poison its digest, and an unchanged file returns it.
  auto entry = fs::directory_iterator(cache)->path();
  auto j = nlohmann::json::parse(std::ifstream(entry));
  j["sha256"] = "cached";
  std::ofstream(entry) << j.dump();
  EXPECT_EQ(cached_checkpoint_sha256({b.weights()}, cache, false), "cached");
  // ...unless the caller needs certainty.
  EXPECT_EQ(cached_checkpoint_sha256({b.weights()}, cache, true), first);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(entry))["sha256"], first);

  // Same size, new content and mtime: the stamp no longer matches, so it is re-hashed.
  {
    std::fstream f(b.weights(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('Z');
  }
  fs::last_write_time(b.weights(), fs::last_write_time(b.weights()) + std::chrono::seconds(5));
  auto second = cached_checkpoint_sha256({b.weights()}, cache, false);
  EXPECT_NE(second, first);
  EXPECT_EQ(second, sha256_file(b.weights()));
  EXPECT_EQ(entries(cache), 1u);
}

TEST(Identity, DamagedCacheEntryIsRecomputed) {
  CheckpointBuilder b;
  b.write();
  auto cache = b.dir() / "cache";
  auto first = cached_checkpoint_sha256({b.weights()}, cache, false);
  auto entry = fs::directory_iterator(cache)->path();
  std::ofstream(entry) << "{half an ent";
  EXPECT_EQ(cached_checkpoint_sha256({b.weights()}, cache, false), first);
}

}  // namespace
}  // namespace sg::model
