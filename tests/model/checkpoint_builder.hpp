// Writes small checkpoints (config.json + model.safetensors) into a temporary directory,
// with hooks to damage them, so each bad-input case is built by its own test.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sg::testing {

struct FakeTensor {
  std::string dtype = "F32";
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  // raw data
};

class CheckpointBuilder {
 public:
  // A valid tiny GPT-2 (or GPT-1) checkpoint: 1 layer, n_embd 8, 2 heads, vocab 16, ctx 8.
  explicit CheckpointBuilder(const std::string& arch = "gpt2", bool prefix = false);
  ~CheckpointBuilder();

  nlohmann::json& config() { return config_; }
  std::map<std::string, FakeTensor>& tensors() { return tensors_; }

  // Writes config.json and model.safetensors; returns the directory.
  std::filesystem::path write();
  // Writes config.json, one shard per distinct `shard_of(name)` and the
  // model.safetensors.index.json mapping each tensor to its shard; returns the directory.
  std::filesystem::path write_sharded(
      const std::function<std::string(const std::string&)>& shard_of);
  // Raw header bytes after writing (to corrupt) and the weight file path.
  std::filesystem::path weights() const { return dir_ / "model.safetensors"; }
  std::filesystem::path dir() const { return dir_; }

  static FakeTensor f32(std::vector<std::int64_t> shape, float value = 0.5f);
  // A 16-bit tensor ("F16" or "BF16") from raw bit patterns, written little-endian.
  static FakeTensor bits16(const std::string& dtype, std::vector<std::int64_t> shape,
                           const std::vector<std::uint16_t>& values);
  // Writes a safetensors file from an explicit header and data (for malformed files).
  static void write_raw(const std::filesystem::path& path, const std::string& header,
                        const std::vector<std::uint8_t>& data);

 private:
  std::filesystem::path dir_;
  nlohmann::json config_;
  std::map<std::string, FakeTensor> tensors_;
};

}  // namespace sg::testing
