// Opening checkpoints: the good layouts Hugging Face writes, and every kind of bad input,
// each with a message naming the file and the field or tensor at fault.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "checkpoint_builder.hpp"
#include "common/errors.hpp"
#include "expect_refused.hpp"
#include "model/checkpoint.hpp"
#include "model/identity.hpp"

namespace sg::model {
namespace {

namespace fs = std::filesystem;
using testing::CheckpointBuilder;
using testing::expect_refused;

TEST(Checkpoint, OpensGpt2WithAndWithoutPrefix) {
  for (bool prefix : {false, true}) {
    CheckpointBuilder b("gpt2", prefix);
    auto ckpt = Checkpoint::open(b.write());
    EXPECT_EQ(ckpt.config().arch, Arch::kGpt2);
    EXPECT_EQ(ckpt.tensor("h.0.attn.c_attn.weight").shape, (std::vector<std::int64_t>{8, 24}));
    EXPECT_TRUE(ckpt.lm_head_tied());
    EXPECT_EQ(&ckpt.tensor("lm_head"), &ckpt.tensor("tok_embed"));
    EXPECT_TRUE(ckpt.warnings().empty());
  }
}

TEST(Checkpoint, OpensGpt1WithAndWithoutPrefix) {
  for (bool prefix : {false, true}) {
    CheckpointBuilder b("openai-gpt", prefix);
    auto ckpt = Checkpoint::open(b.write());
    EXPECT_EQ(ckpt.config().arch, Arch::kOpenAiGpt);
    EXPECT_EQ(ckpt.config().activation, Activation::kGeluTanh);  // modeling_openai's "gelu"
    EXPECT_FALSE(ckpt.config().eos_token_id);
    EXPECT_EQ(ckpt.config().norm_placement(), NormPlacement::kPost);
    EXPECT_EQ(ckpt.tensor("tok_embed").name,
              (prefix ? "transformer." : "") + std::string("tokens_embed.weight"));
    EXPECT_TRUE(ckpt.lm_head_tied());
    EXPECT_TRUE(ckpt.warnings().empty());
    EXPECT_THROW(ckpt.tensor("ln_f.weight"), RuntimeError);  // GPT-1 has no final norm
  }
}

TEST(Checkpoint, SkipsMaskBuffersButNotAttentionBias) {
  CheckpointBuilder b;
  auto mask = CheckpointBuilder::f32({1, 1, 8, 8}, 1.0f);
  mask.dtype = "U8";
  mask.bytes.resize(64);
  b.tensors()["h.0.attn.bias"] = mask;
  b.tensors()["h.0.attn.masked_bias"] = CheckpointBuilder::f32({}, -1e4f);
  auto ckpt = Checkpoint::open(b.write(), {.strict = true});
  EXPECT_EQ(ckpt.tensor("h.0.attn.c_attn.bias").shape, (std::vector<std::int64_t>{24}));
}

TEST(Checkpoint, UntiedLmHead) {
  CheckpointBuilder b;
  b.tensors()["lm_head.weight"] = CheckpointBuilder::f32({16, 8}, 2.0f);
  auto ckpt = Checkpoint::open(b.write());
  EXPECT_FALSE(ckpt.lm_head_tied());
  EXPECT_NE(&ckpt.tensor("lm_head"), &ckpt.tensor("tok_embed"));
  EXPECT_EQ(ckpt.parameter_count(),
            16u * 8 * 2 + 8 * 8 + 2 * 8 + 4 * 8 + 8 * 24 + 24 + 64 + 8 + 8 * 32 + 32 + 32 * 8 + 8);
}

// Embeddings in a second shard, the blocks in the first (as Hugging Face splits by size).
std::string two_shards(const std::string& name) {
  return name.find("wte") != std::string::npos || name.find("wpe") != std::string::npos
             ? "model-00002-of-00002.safetensors"
             : "model-00001-of-00002.safetensors";
}

TEST(Checkpoint, ShardedIndex) {
  CheckpointBuilder b;
  auto dir = b.write_sharded(two_shards);
  ASSERT_FALSE(fs::exists(b.weights()));
  auto ckpt = Checkpoint::open(dir);
  ASSERT_EQ(ckpt.weight_files().size(), 2u);
  EXPECT_EQ(ckpt.weight_files()[0].filename(), "model-00001-of-00002.safetensors");
  EXPECT_EQ(ckpt.tensor("tok_embed").shape, (std::vector<std::int64_t>{16, 8}));
  EXPECT_EQ(ckpt.tensor("tok_embed").file, (dir / "model-00002-of-00002.safetensors").string());
  EXPECT_EQ(ckpt.weight_bytes(),
            fs::file_size(ckpt.weight_files()[0]) + fs::file_size(ckpt.weight_files()[1]));
  // Identity of a sharded checkpoint covers every shard.
  auto before = checkpoint_sha256(ckpt.weight_files());
  std::ofstream(dir / "model-00002-of-00002.safetensors", std::ios::app) << "x";
  EXPECT_NE(checkpoint_sha256(ckpt.weight_files()), before);
}

TEST(Checkpoint, ShardMissing) {
  CheckpointBuilder b;
  auto dir = b.write_sharded(two_shards);
  fs::remove(dir / "model-00002-of-00002.safetensors");
  expect_refused(dir,
                 {"model.safetensors.index.json", "model-00002-of-00002.safetensors", "missing"});
}

TEST(Checkpoint, IndexNamesTheWrongShard) {
  CheckpointBuilder b;
  auto dir = b.write_sharded(two_shards);
  auto index = nlohmann::json::parse(std::ifstream(dir / "model.safetensors.index.json"));
  index["weight_map"]["wte.weight"] = "model-00001-of-00002.safetensors";
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  expect_refused(dir, {"model.safetensors.index.json", "wte.weight",
                       "model-00001-of-00002.safetensors", "does not hold it"});
}

TEST(Checkpoint, MissingTensorInAShardedCheckpoint) {
  CheckpointBuilder b;
  b.tensors().erase("wpe.weight");
  expect_refused(b.write_sharded(two_shards),
                 {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                  "wpe.weight", "missing"});
}

TEST(Checkpoint, IndexCannotPointOutsideTheDirectory) {
  CheckpointBuilder b;
  auto dir = b.write();
  fs::remove(b.weights());
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"weight_map": {"wte.weight": "../../etc/passwd"}})";
  expect_refused(dir, {"model.safetensors.index.json", "wte.weight"});
}

TEST(Checkpoint, ShapeDisagreesWithConfig) {
  CheckpointBuilder b;
  b.tensors()["h.0.mlp.c_fc.weight"] = CheckpointBuilder::f32({8, 16});
  expect_refused(b.write(), {"model.safetensors", "h.0.mlp.c_fc.weight", "[8, 16]", "[8, 32]"});
}

TEST(Checkpoint, MissingTensor) {
  CheckpointBuilder b;
  b.tensors().erase("h.0.ln_2.bias");
  expect_refused(b.write(), {"model.safetensors", "h.0.ln_2.bias", "missing"});
}

TEST(Checkpoint, ExtraTensorWarnsOrFailsWhenStrict) {
  CheckpointBuilder b;
  b.tensors()["h.0.attn.rotary.weight"] = CheckpointBuilder::f32({2});
  auto dir = b.write();
  auto ckpt = Checkpoint::open(dir);
  ASSERT_EQ(ckpt.warnings().size(), 1u);
  EXPECT_NE(ckpt.warnings()[0].find("h.0.attn.rotary.weight"), std::string::npos);
  expect_refused(dir, {"h.0.attn.rotary.weight", "--strict"}, {.strict = true});
}

TEST(Checkpoint, ValuesRoundTripInEachDtype) {
  CheckpointBuilder b;
  // F16 bits of 1, -2, 2^-24 (smallest subnormal), 65504 (largest half).
  b.tensors()["wpe.weight"] =
      CheckpointBuilder::bits16("F16", {8, 8}, std::vector<std::uint16_t>(64, 0x3c00));
  b.tensors()["wpe.weight"].bytes[2] = 0x00;  // element 1: 0xc000 = -2
  b.tensors()["wpe.weight"].bytes[3] = 0xc0;
  b.tensors()["h.0.ln_1.bias"] =
      CheckpointBuilder::bits16("F16", {8}, {0x3c00, 0xc000, 0x0001, 0x7bff, 0, 0, 0, 0x8000});
  // BF16 bits of 1, -2, 3e38 (beyond F16's range), 1/3 (truncated mantissa).
  b.tensors()["h.0.ln_2.bias"] =
      CheckpointBuilder::bits16("BF16", {8}, {0x3f80, 0xc000, 0x7f62, 0x3eaa, 0, 0, 0, 0});
  b.tensors()["h.0.ln_1.weight"] = CheckpointBuilder::f32({8}, 0.1f);
  auto ckpt = Checkpoint::open(b.write());

  const auto& f16 = ckpt.tensor("h.0.ln_1.bias");
  EXPECT_EQ(f16.dtype, DType::kF16);
  auto v = to_f32(f16);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ(v[2], 0x1.0p-24f);
  EXPECT_EQ(v[3], 65504.0f);
  EXPECT_TRUE(std::signbit(v[7]));
  EXPECT_EQ(to_f16(f16),
            (std::vector<std::uint16_t>{0x3c00, 0xc000, 0x0001, 0x7bff, 0, 0, 0, 0x8000}));
  EXPECT_EQ(to_f32(ckpt.tensor("pos_embed"))[1], -2.0f);

  const auto& bf16 = ckpt.tensor("h.0.ln_2.bias");
  EXPECT_EQ(bf16.dtype, DType::kBF16);
  auto w = to_f32(bf16);
  EXPECT_EQ(w[0], 1.0f);
  EXPECT_EQ(w[1], -2.0f);
  EXPECT_GT(w[2], 2.9e38f);
  EXPECT_EQ(w[3], 0x1.54p-2f);
  EXPECT_FALSE(fits_f16(bf16));
  EXPECT_TRUE(fits_f16(ckpt.tensor("h.0.ln_1.weight")));

  const auto& f32 = ckpt.tensor("h.0.ln_1.weight");
  EXPECT_EQ(to_f32(f32), std::vector<float>(8, 0.1f));
  EXPECT_EQ(to_f16(f32), std::vector<std::uint16_t>(8, 0x2e66));  // 0.1 rounds to 0x2e66
}

TEST(Checkpoint, UntiedLmHeadWithTheWrongShape) {
  CheckpointBuilder b;
  b.tensors()["lm_head.weight"] = CheckpointBuilder::f32({15, 8});
  expect_refused(b.write(), {"model.safetensors", "lm_head.weight", "[15, 8]", "[16, 8]"});
}

TEST(Checkpoint, TiedParametersCountedOnce) {
  CheckpointBuilder b;
  auto ckpt = Checkpoint::open(b.write());
  EXPECT_TRUE(ckpt.lm_head_tied());
  EXPECT_EQ(ckpt.parameter_count(),
            16u * 8 + 8 * 8 + 2 * 8 + 4 * 8 + 8 * 24 + 24 + 64 + 8 + 8 * 32 + 32 + 32 * 8 + 8);
  EXPECT_EQ(ckpt.weight_bytes(), fs::file_size(b.weights()));
  EXPECT_EQ(ckpt.weight_files(), std::vector<fs::path>{b.weights()});
}

TEST(Checkpoint, SameTensorWithAndWithoutPrefix) {
  CheckpointBuilder b;
  b.tensors()["transformer.wte.weight"] = CheckpointBuilder::f32({16, 8});
  expect_refused(b.write(), {"model.safetensors", "wte.weight", "twice"});
}

TEST(Checkpoint, Gpt1EmbeddingRowsMatchTheVocabulary) {
  CheckpointBuilder b("openai-gpt");
  b.config()["vocab_size"] = 17;
  expect_refused(b.write(), {"model.safetensors", "tokens_embed.weight", "[16, 8]", "[17, 8]"});
}

TEST(Checkpoint, ReleasedPagesAreReadAgain) {
  CheckpointBuilder b;
  b.tensors()["wte.weight"] = CheckpointBuilder::f32({16, 8}, 0.25f);
  auto ckpt = Checkpoint::open(b.write());
  const auto& wte = ckpt.tensor("tok_embed");
  EXPECT_EQ(to_f32(wte)[5], 0.25f);
  ckpt.release_pages(wte);
  EXPECT_EQ(to_f32(wte)[5], 0.25f);
  ckpt.release_pages();
  EXPECT_EQ(to_f32(wte), std::vector<float>(16 * 8, 0.25f));
}

TEST(Checkpoint, PickleIsRefusedWithAConverter) {
  CheckpointBuilder b;
  b.write();
  fs::remove(b.weights());
  std::ofstream(b.dir() / "pytorch_model.bin") << "\x80\x02}q\x00.";
  expect_refused(b.dir(), {"pytorch_model.bin", "tools/convert_to_safetensors.py"});
}

TEST(Checkpoint, MissingDirectory) {
  expect_refused("/nonexistent/checkpoint", {"/nonexistent/checkpoint"});
}

}  // namespace
}  // namespace sg::model
