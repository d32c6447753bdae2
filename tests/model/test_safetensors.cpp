// The safetensors framing: every way a weight file can be short, inconsistent or hostile is
// refused at open with the file, the tensor and the bytes at fault, never read past its end.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "checkpoint_builder.hpp"
#include "expect_refused.hpp"
#include "model/checkpoint.hpp"
#include "model/safetensors_reader.hpp"

namespace sg::model {
namespace {

namespace fs = std::filesystem;
using testing::CheckpointBuilder;
using testing::expect_refused;

TEST(Safetensors, TruncatedWeightFile) {
  CheckpointBuilder b;
  b.write();
  fs::resize_file(b.weights(), fs::file_size(b.weights()) - 10);
  // The last tensor in the data is wte.weight: named, with its bytes in the file.
  expect_refused(b.dir(), {"model.safetensors", "wte.weight", "data_offsets", "past the",
                           "truncated", "-byte file"});
}

TEST(Safetensors, TinyFile) {
  CheckpointBuilder b;
  b.write();
  fs::resize_file(b.weights(), 5);
  expect_refused(b.dir(), {"model.safetensors", "8-byte header length"});
}

TEST(Safetensors, HeaderLengthPastTheEnd) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(), "{}", {});
  std::fstream f(b.weights(), std::ios::in | std::ios::out | std::ios::binary);
  f.put(static_cast<char>(0xff));  // header length now 255 + ...
  f.close();
  expect_refused(b.dir(), {"model.safetensors", "header length", "past the end"});
}

TEST(Safetensors, HeaderNotJson) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(), "{not json", {});
  expect_refused(b.dir(), {"model.safetensors", "not valid JSON"});
}

TEST(Safetensors, OffsetsOutsideTheData) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(
      b.weights(),
      R"({"wte.weight": {"dtype": "F32", "shape": [16, 8], "data_offsets": [0, 512]}})",
      std::vector<std::uint8_t>(100));
  expect_refused(b.dir(), {"model.safetensors", "wte.weight", "data_offsets"});
}

TEST(Safetensors, OverlappingTensors) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(),
                               R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
          "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
                               std::vector<std::uint8_t>(24));
  expect_refused(b.dir(), {"model.safetensors", "overlap", "'a'", "'b'"});
}

TEST(Safetensors, SizeDisagreesWithShape) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(),
                               R"({"x": {"dtype": "F16", "shape": [4], "data_offsets": [0, 16]}})",
                               std::vector<std::uint8_t>(16));
  expect_refused(b.dir(), {"model.safetensors", "'x'", "expected 8"});
}

TEST(Safetensors, UnknownDtype) {
  CheckpointBuilder b;
  auto t = CheckpointBuilder::f32({16, 8});
  t.dtype = "F64";
  t.bytes.resize(16 * 8 * 8);
  b.tensors()["wte.weight"] = t;
  expect_refused(b.write(), {"model.safetensors", "wte.weight", "F64"});
}

TEST(Safetensors, UnknownIntegerDtype) {
  CheckpointBuilder b;
  auto t = CheckpointBuilder::f32({8});
  t.dtype = "I64";
  t.bytes.resize(8 * 8);
  b.tensors()["h.0.ln_1.bias"] = t;
  expect_refused(b.write(), {"model.safetensors", "h.0.ln_1.bias", "I64", "F32, F16 and BF16"});
}

TEST(Safetensors, HeaderLengthAbsurd) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(), "{}", {});
  // A sparse 200 MB file whose header claims 150 MB: inside the file, but no real header is
  // (nor any beyond stagegate's 16 MiB, though the safetensors format allows 100 MB).
  fs::resize_file(b.weights(), 200ull << 20);
  std::fstream f(b.weights(), std::ios::in | std::ios::out | std::ios::binary);
  const std::uint64_t n = 150ull << 20;
  for (int i = 0; i < 8; ++i) f.put(static_cast<char>((n >> (8 * i)) & 0xff));
  f.close();
  expect_refused(b.dir(), {"model.safetensors", "header length 157286400", "16 MiB"});
}

// A reader keeping the first of two entries would see other weights than one keeping the last.
TEST(Safetensors, RepeatedTensorNameIsRefused) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(
      b.weights(),
      R"({"wpe.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
          "wpe.weight": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
      std::vector<std::uint8_t>(8));
  expect_refused(b.dir(), {"model.safetensors", "\"wpe.weight\"", "twice"});
}

TEST(Safetensors, ParsesFromMemory) {
  const std::string header = R"({"x": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}})";
  std::vector<std::byte> bytes(8 + header.size() + 6);
  bytes[0] = static_cast<std::byte>(header.size());
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  auto tensors = parse_safetensors(bytes, "mem.safetensors");
  ASSERT_EQ(tensors.size(), 1u);
  EXPECT_EQ(tensors.at("x").data.data(), bytes.data() + 8 + header.size());
  EXPECT_EQ(tensors.at("x").data.size(), 6u);
  EXPECT_EQ(tensors.at("x").file, "mem.safetensors");
  bytes.pop_back();
  EXPECT_THROW(parse_safetensors(bytes, "mem.safetensors"), InputError);
}

TEST(Safetensors, HeaderNotAnObject) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(), "[1, 2]", {});
  expect_refused(b.dir(), {"model.safetensors", "not a JSON object"});
}

TEST(Safetensors, OffsetsBeginAfterEnd) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(
      b.weights(), R"({"wpe.weight": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})",
      std::vector<std::uint8_t>(8));
  expect_refused(b.dir(), {"model.safetensors", "wpe.weight", "begin > end"});
}

TEST(Safetensors, OffsetsNotAPair) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(
      b.weights(), R"({"wpe.weight": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}})",
      std::vector<std::uint8_t>(8));
  expect_refused(b.dir(), {"model.safetensors", "wpe.weight", "not [begin, end]"});
}

TEST(Safetensors, NegativeShape) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(
      b.weights(), R"({"wpe.weight": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})",
      std::vector<std::uint8_t>(8));
  expect_refused(b.dir(), {"model.safetensors", "wpe.weight", "[-2]", ">= 0"});
}

TEST(Safetensors, MaskBuffersMayHaveAnyDtype) {
  // Old GPT-2 files store the causal mask as U8, BOOL or worse; it is skipped, not read.
  const std::pair<const char*, std::size_t> dtypes[] = {
      {"U8", 1}, {"BOOL", 1}, {"I64", 8}, {"Q4_WEIRD", 3}};
  for (const auto& [dtype, size] : dtypes) {
    CheckpointBuilder b;
    auto mask = CheckpointBuilder::f32({1, 1, 8, 8});
    mask.dtype = dtype;
    mask.bytes.resize(64 * size);
    b.tensors()["h.0.attn.bias"] = mask;
    EXPECT_NO_THROW(Checkpoint::open(b.write())) << dtype;
  }
}

TEST(Safetensors, MaskBuffersAreStillBoundsChecked) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(
      b.weights(),
      R"({"h.0.attn.bias": {"dtype": "BOOL", "shape": [64], "data_offsets": [0, 64]}})",
      std::vector<std::uint8_t>(10));
  expect_refused(b.dir(), {"model.safetensors", "h.0.attn.bias", "data_offsets"});
}

TEST(Safetensors, EmptyTensorsOverlapNothing) {
  CheckpointBuilder b;
  b.write();
  CheckpointBuilder::write_raw(b.weights(),
                               R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
          "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "c": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})",
                               std::vector<std::uint8_t>(8));
  SafetensorsFile file(b.weights());
  EXPECT_EQ(file.tensors().size(), 3u);
  EXPECT_EQ(file.tensors().at("b").data.size(), 8u);
}

TEST(Safetensors, ViewsPointAtTheirBytes) {
  CheckpointBuilder b;
  b.write();
  std::vector<std::uint8_t> data{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0x00, 0x3c};
  CheckpointBuilder::write_raw(
      b.weights(),
      R"({"one_two": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "half_one": {"dtype": "F16", "shape": [1], "data_offsets": [8, 10]}})",
      data);
  SafetensorsFile file(b.weights());
  EXPECT_EQ(to_f32(file.tensors().at("one_two")), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(to_f32(file.tensors().at("half_one")), (std::vector<float>{1.0f}));
  EXPECT_EQ(file.tensors().at("half_one").file, b.weights().string());
}

}  // namespace
}  // namespace sg::model
