#include "checkpoint_builder.hpp"

#include <cstring>
#include <fstream>

namespace sg::testing {

namespace fs = std::filesystem;

FakeTensor CheckpointBuilder::f32(std::vector<std::int64_t> shape, float value) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  FakeTensor t{"F32", shape, std::vector<std::uint8_t>(static_cast<std::size_t>(n) * 4)};
  for (std::int64_t i = 0; i < n; ++i) std::memcpy(t.bytes.data() + i * 4, &value, 4);
  return t;
}

FakeTensor CheckpointBuilder::bits16(const std::string& dtype, std::vector<std::int64_t> shape,
                                     const std::vector<std::uint16_t>& values) {
  FakeTensor t{dtype, std::move(shape), {}};
  for (auto v : values) {
    t.bytes.push_back(static_cast<std::uint8_t>(v & 0xff));
    t.bytes.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  return t;
}

CheckpointBuilder::CheckpointBuilder(const std::string& arch, bool prefix) {
  char tmpl[] = "/tmp/stagegate-ckpt-XXXXXX";
  dir_ = mkdtemp(tmpl);
  const int e = 8, v = 16, p = 8, inner = 32;
  const std::string pre = prefix ? "transformer." : "";
  if (arch == "gpt2") {
    config_ = {{"model_type", "gpt2"},
               {"n_layer", 1},
               {"n_embd", e},
               {"n_head", 2},
               {"n_positions", p},
               {"vocab_size", v},
               {"n_inner", nullptr},
               {"activation_function", "gelu_new"},
               {"layer_norm_epsilon", 1e-5},
               {"eos_token_id", 15},
               {"bos_token_id", 15}};
    tensors_[pre + "wte.weight"] = f32({v, e});
    tensors_[pre + "wpe.weight"] = f32({p, e});
    tensors_[pre + "ln_f.weight"] = f32({e});
    tensors_[pre + "ln_f.bias"] = f32({e});
  } else {
    config_ = {{"model_type", "openai-gpt"}, {"n_layer", 1},    {"n_embd", e},  {"n_head", 2},
               {"n_positions", p},           {"vocab_size", v}, {"afn", "gelu"}};
    tensors_[pre + "tokens_embed.weight"] = f32({v, e});
    tensors_[pre + "positions_embed.weight"] = f32({p, e});
  }
  const std::string h = pre + "h.0.";
  tensors_[h + "ln_1.weight"] = f32({e});
  tensors_[h + "ln_1.bias"] = f32({e});
  tensors_[h + "ln_2.weight"] = f32({e});
  tensors_[h + "ln_2.bias"] = f32({e});
  tensors_[h + "attn.c_attn.weight"] = f32({e, 3 * e});
  tensors_[h + "attn.c_attn.bias"] = f32({3 * e});
  tensors_[h + "attn.c_proj.weight"] = f32({e, e});
  tensors_[h + "attn.c_proj.bias"] = f32({e});
  tensors_[h + "mlp.c_fc.weight"] = f32({e, inner});
  tensors_[h + "mlp.c_fc.bias"] = f32({inner});
  tensors_[h + "mlp.c_proj.weight"] = f32({inner, e});
  tensors_[h + "mlp.c_proj.bias"] = f32({e});
}

CheckpointBuilder::~CheckpointBuilder() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void CheckpointBuilder::write_raw(const fs::path& path, const std::string& header,
                                  const std::vector<std::uint8_t>& data) {
  std::ofstream out(path, std::ios::binary);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

namespace {

void write_tensors(const fs::path& path, const std::map<std::string, FakeTensor>& tensors) {
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  std::vector<std::uint8_t> data;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", t.dtype},
                    {"shape", t.shape},
                    {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  }
  CheckpointBuilder::write_raw(path, header.dump(), data);
}

}  // namespace

fs::path CheckpointBuilder::write() {
  std::ofstream(dir_ / "config.json") << config_.dump(2);
  write_tensors(weights(), tensors_);
  return dir_;
}

fs::path CheckpointBuilder::write_sharded(
    const std::function<std::string(const std::string&)>& shard_of) {
  std::ofstream(dir_ / "config.json") << config_.dump(2);
  std::map<std::string, std::map<std::string, FakeTensor>> shards;
  nlohmann::json index = {{"metadata", {{"total_size", 0}}},
                          {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, t] : tensors_) {
    shards[shard_of(name)][name] = t;
    index["weight_map"][name] = shard_of(name);
  }
  for (const auto& [file, tensors] : shards) write_tensors(dir_ / file, tensors);
  std::ofstream(dir_ / "model.safetensors.index.json") << index.dump(2);
  return dir_;
}

}  // namespace sg::testing
