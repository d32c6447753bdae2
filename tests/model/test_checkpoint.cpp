// Opening checkpoints: the good layouts Hugging Face writes, and every kind of bad input,
// each with a message naming the file and the field or tensor at fault.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoint_builder.hpp"
#include "common/errors.hpp"
#include "model/checkpoint.hpp"
#include "model/identity.hpp"

namespace sg::model {
namespace {

namespace fs = std::filesystem;
using testing::CheckpointBuilder;

// Expects Checkpoint::open to fail with InputError whose message holds every fragment.
void expect_refused(const fs::path& dir, std::vector<std::string> fragments,
                    OpenOptions options = {}) {
  try {
    Checkpoint::open(dir, options);
    ADD_FAILURE() << "opened without error";
  } catch (const InputError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message lacks '" << f << "': " << e.what();
  }
}

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

TEST(Checkpoint, OpensGpt1) {
  CheckpointBuilder b("openai-gpt", true);
  auto ckpt = Checkpoint::open(b.write());
  EXPECT_EQ(ckpt.config().arch, Arch::kOpenAiGpt);
  EXPECT_EQ(ckpt.config().activation, Activation::kGeluTanh);  // modeling_openai's "gelu"
  EXPECT_FALSE(ckpt.config().eos_token_id);
  EXPECT_EQ(ckpt.config().norm_placement(), NormPlacement::kPost);
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

TEST(Checkpoint, ShardedIndex) {
  CheckpointBuilder b;
  auto dir = b.write();
  // Split into two shards by moving the embeddings to a second file.
  auto all = b.tensors();
  std::map<std::string, testing::FakeTensor> first, second;
  for (auto& [n, t] : all)
    (n.find("embed") != std::string::npos || n[0] == 'w' ? second : first)[n] = t;
  fs::remove(b.weights());
  auto write = [&](const std::string& file, const std::map<std::string, testing::FakeTensor>& ts) {
    nlohmann::json header = nlohmann::json::object();
    std::vector<std::uint8_t> data;
    for (const auto& [n, t] : ts) {
      header[n] = {{"dtype", t.dtype},
                   {"shape", t.shape},
                   {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
      data.insert(data.end(), t.bytes.begin(), t.bytes.end());
    }
    CheckpointBuilder::write_raw(dir / file, header.dump(), data);
  };
  write("model-00001-of-00002.safetensors", first);
  write("model-00002-of-00002.safetensors", second);
  nlohmann::json index = {{"metadata", {{"total_size", 0}}},
                          {"weight_map", nlohmann::json::object()}};
  for (const auto& [n, t] : first) index["weight_map"][n] = "model-00001-of-00002.safetensors";
  for (const auto& [n, t] : second) index["weight_map"][n] = "model-00002-of-00002.safetensors";
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  auto ckpt = Checkpoint::open(dir);
  EXPECT_EQ(ckpt.weight_files().size(), 2u);
  EXPECT_EQ(ckpt.tensor("tok_embed").shape, (std::vector<std::int64_t>{16, 8}));
  // Identity of a sharded checkpoint covers every shard.
  auto before = checkpoint_sha256(ckpt.weight_files());
  std::ofstream(dir / "model-00002-of-00002.safetensors", std::ios::app) << "x";
  EXPECT_NE(checkpoint_sha256(ckpt.weight_files()), before);
}

TEST(Checkpoint, IndexCannotPointOutsideTheDirectory) {
  CheckpointBuilder b;
  auto dir = b.write();
  fs::remove(b.weights());
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"weight_map": {"wte.weight": "../../etc/passwd"}})";
  expect_refused(dir, {"model.safetensors.index.json", "wte.weight"});
}

TEST(Checkpoint, TruncatedWeightFile) {
  CheckpointBuilder b;
  b.write();
  fs::resize_file(b.weights(), fs::file_size(b.weights()) - 10);
  expect_refused(b.dir(), {"model.safetensors", "past the", "truncated"});
}

TEST(Checkpoint, TinyFile) {
  CheckpointBuilder b;
  b.write();
  fs::resize_file(b.weights(), 5);
  expect_refused(b.dir(), {"model.safetensors", "8-byte header length"});
}

TEST(Checkpoint, HeaderLengthPastTheEnd) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(), "{}", {});
  std::fstream f(b.weights(), std::ios::in | std::ios::out | std::ios::binary);
  f.put(static_cast<char>(0xff));  // header length now 255 + ...
  f.close();
  expect_refused(b.dir(), {"model.safetensors", "header length", "past the end"});
}

TEST(Checkpoint, HeaderNotJson) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(), "{not json", {});
  expect_refused(b.dir(), {"model.safetensors", "not valid JSON"});
}

TEST(Checkpoint, OffsetsOutsideTheData) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(
      b.weights(),
      R"({"wte.weight": {"dtype": "F32", "shape": [16, 8], "data_offsets": [0, 512]}})",
      std::vector<std::uint8_t>(100));
  expect_refused(b.dir(), {"model.safetensors", "wte.weight", "data_offsets"});
}

TEST(Checkpoint, OverlappingTensors) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(),
                               R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
          "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
                               std::vector<std::uint8_t>(24));
  expect_refused(b.dir(), {"model.safetensors", "overlap", "'a'", "'b'"});
}

TEST(Checkpoint, SizeDisagreesWithShape) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(),
                               R"({"x": {"dtype": "F16", "shape": [4], "data_offsets": [0, 16]}})",
                               std::vector<std::uint8_t>(16));
  expect_refused(b.dir(), {"model.safetensors", "'x'", "expected 8"});
}

TEST(Checkpoint, ShapeDisagreesWithConfig) {
  CheckpointBuilder b;
  b.tensors()["h.0.mlp.c_fc.weight"] = CheckpointBuilder::f32({8, 16});
  expect_refused(b.write(), {"model.safetensors", "h.0.mlp.c_fc.weight", "[8, 16]", "[8, 32]"});
}

TEST(Checkpoint, MissingTensor) {
  CheckpointBuilder b;
  b.tensors().erase("h.0.ln_2.bias");
  expect_refused(b.write(), {"h.0.ln_2.bias", "missing"});
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

TEST(Checkpoint, UnknownDtype) {
  CheckpointBuilder b;
  auto t = CheckpointBuilder::f32({16, 8});
  t.dtype = "F64";
  t.bytes.resize(16 * 8 * 8);
  b.tensors()["wte.weight"] = t;
  expect_refused(b.write(), {"model.safetensors", "wte.weight", "F64"});
}

TEST(Checkpoint, ConfigMissingField) {
  CheckpointBuilder b;
  b.config().erase("n_head");
  expect_refused(b.write(), {"config.json", "n_head", "missing"});
}

TEST(Checkpoint, ConfigUnsupportedValues) {
  {
    CheckpointBuilder b;
    b.config()["activation_function"] = "swish";
    expect_refused(b.write(), {"config.json", "activation_function", "swish"});
  }
  {
    CheckpointBuilder b;
    b.config()["model_type"] = "llama";
    expect_refused(b.write(), {"config.json", "model_type", "llama"});
  }
  {
    CheckpointBuilder b("openai-gpt");
    b.config()["afn"] = "silu";
    expect_refused(b.write(), {"config.json", "afn", "silu"});
  }
  {
    CheckpointBuilder b;
    b.config()["n_layer"] = "twelve";
    expect_refused(b.write(), {"config.json", "n_layer", "integer"});
  }
}

TEST(Checkpoint, ConfigEmbeddingNotDivisibleByHeads) {
  CheckpointBuilder b;
  b.config()["n_head"] = 3;
  expect_refused(b.write(), {"config.json", "n_embd", "not divisible by n_head"});
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

TEST(Identity, Sha256OfKnownBytes) {
  auto path = fs::temp_directory_path() / "stagegate-sha-test";
  std::ofstream(path, std::ios::binary) << "abc";
  EXPECT_EQ(sha256_file(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  fs::remove(path);
}

TEST(Identity, CacheReusedOnlyWhileTheFileIsUnchanged) {
  CheckpointBuilder b;
  b.write();
  auto cache = b.dir() / "cache";
  auto first = cached_checkpoint_sha256({b.weights()}, cache, false);
  EXPECT_EQ(first, sha256_file(b.weights()));
  EXPECT_EQ(cached_checkpoint_sha256({b.weights()}, cache, false), first);
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
}

}  // namespace
}  // namespace sg::model
