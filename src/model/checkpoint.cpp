#include "model/checkpoint.hpp"

#include <map>
#include <set>

#include "common/errors.hpp"
#include "model/safetensors_reader.hpp"
#include "model/strict_json.hpp"
#include "model/weight_index.hpp"

namespace sg::model {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// attn.bias / attn.masked_bias are the causal-mask buffers old GPT-2 files carry, not
// weights (attn.c_attn.bias is a weight and does not match: '_' precedes "attn" there).
// BERT/RoBERTa files of some transformers versions carry the index buffers position_ids and
// token_type_ids the same way.
bool is_mask_buffer(const std::string& name) {
  return ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias") ||
         ends_with(name, "embeddings.position_ids") || ends_with(name, "embeddings.token_type_ids");
}

// The base model's prefix in a task model's file (GPT2ForSequenceClassification keeps its
// GPT-2 under "transformer.", as GPT2LMHeadModel does).
std::string base_prefix(Arch arch) {
  switch (arch) {
    case Arch::kBert:
      return "bert.";
    case Arch::kRoberta:
      return "roberta.";
    case Arch::kGpt2:
    case Arch::kOpenAiGpt:
      break;
  }
  return "transformer.";
}

std::string strip_prefix(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

struct Expected {
  std::string canonical;
  std::vector<std::string> names;  // accepted names in the file, prefix stripped
  std::vector<std::int64_t> shape;
};

// BertForSequenceClassification / RobertaForSequenceClassification, base prefix stripped.
// nn.Linear weights are [out, in]. Old files converted from TensorFlow name the LayerNorm
// parameters gamma/beta, which Hugging Face still accepts.
std::vector<Expected> encoder_tensors(const Config& c) {
  const std::int64_t e = c.n_embd, v = c.vocab_size, in = c.n_inner, labels = c.num_labels;
  const std::int64_t p = c.n_positions + c.position_offset;
  std::vector<Expected> out;
  auto norm = [&](const std::string& canonical, const std::string& name) {
    out.push_back({canonical + ".weight", {name + ".weight", name + ".gamma"}, {e}});
    out.push_back({canonical + ".bias", {name + ".bias", name + ".beta"}, {e}});
  };
  auto linear = [&](const std::string& canonical, const std::string& name, std::int64_t rows,
                    std::int64_t cols) {
    out.push_back({canonical + ".weight", {name + ".weight"}, {rows, cols}});
    out.push_back({canonical + ".bias", {name + ".bias"}, {rows}});
  };
  out.push_back({"tok_embed", {"embeddings.word_embeddings.weight"}, {v, e}});
  out.push_back({"pos_embed", {"embeddings.position_embeddings.weight"}, {p, e}});
  out.push_back(
      {"type_embed", {"embeddings.token_type_embeddings.weight"}, {c.type_vocab_size, e}});
  norm("embed_ln", "embeddings.LayerNorm");
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string h = "h." + std::to_string(i) + ".";
    const std::string l = "encoder.layer." + std::to_string(i) + ".";
    linear(h + "attn.q", l + "attention.self.query", e, e);
    linear(h + "attn.k", l + "attention.self.key", e, e);
    linear(h + "attn.v", l + "attention.self.value", e, e);
    linear(h + "attn.c_proj", l + "attention.output.dense", e, e);
    norm(h + "ln_1", l + "attention.output.LayerNorm");
    linear(h + "mlp.c_fc", l + "intermediate.dense", in, e);
    linear(h + "mlp.c_proj", l + "output.dense", e, in);
    norm(h + "ln_2", l + "output.LayerNorm");
  }
  if (c.arch == Arch::kBert) {
    linear("pooler", "pooler.dense", e, e);
    linear("classifier", "classifier", labels, e);
  } else {
    linear("pooler", "classifier.dense", e, e);
    linear("classifier", "classifier.out_proj", labels, e);
  }
  return out;
}

std::vector<Expected> expected_tensors(const Config& c) {
  if (c.bidirectional()) return encoder_tensors(c);
  const std::int64_t e = c.n_embd, v = c.vocab_size, p = c.n_positions, in = c.n_inner;
  std::vector<Expected> out;
  if (c.arch == Arch::kGpt2) {
    out.push_back({"tok_embed", {"wte.weight"}, {v, e}});
    out.push_back({"pos_embed", {"wpe.weight"}, {p, e}});
  } else {
    out.push_back({"tok_embed", {"tokens_embed.weight"}, {v, e}});
    out.push_back({"pos_embed", {"positions_embed.weight"}, {p, e}});
  }
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string h = "h." + std::to_string(i) + ".";
    auto add = [&](const std::string& n, std::vector<std::int64_t> shape) {
      out.push_back({h + n, {h + n}, std::move(shape)});
    };
    add("ln_1.weight", {e});
    add("ln_1.bias", {e});
    add("attn.c_attn.weight", {e, 3 * e});
    add("attn.c_attn.bias", {3 * e});
    add("attn.c_proj.weight", {e, e});
    add("attn.c_proj.bias", {e});
    add("ln_2.weight", {e});
    add("ln_2.bias", {e});
    add("mlp.c_fc.weight", {e, in});
    add("mlp.c_fc.bias", {in});
    add("mlp.c_proj.weight", {in, e});
    add("mlp.c_proj.bias", {e});
  }
  if (c.arch == Arch::kGpt2) {
    out.push_back({"ln_f.weight", {"ln_f.weight"}, {e}});
    out.push_back({"ln_f.bias", {"ln_f.bias"}, {e}});
  }
  // GPT2ForSequenceClassification's head has no bias.
  if (c.classifier()) out.push_back({"classifier.weight", {"score.weight"}, {c.num_labels, e}});
  return out;
}

struct WeightFiles {
  std::vector<fs::path> files;
  fs::path index;                                 // empty for a single model.safetensors
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
};

// The weight files of a checkpoint directory: model.safetensors, or the shards listed by
// model.safetensors.index.json. A pickle checkpoint is refused, never unpickled.
WeightFiles find_weight_files(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return {{dir / "model.safetensors"}, {}, {}};
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    auto parsed = parse_weight_index(read_metadata_file(index), index.string());
    WeightFiles out{{}, index, std::move(parsed.weight_map)};
    for (const auto& f : parsed.shards) out.files.push_back(dir / f);
    return out;
  }
  for (const char* pickle : {"pytorch_model.bin", "pytorch_model.bin.index.json"}) {
    if (fs::exists(dir / pickle))
      throw InputError((dir / pickle).string() +
                       ": PyTorch pickle checkpoints are not loaded (unpickling runs code). "
                       "Convert it once with: /usr/bin/python3 tools/convert_to_safetensors.py " +
                       dir.string());
  }
  throw InputError(dir.string() + ": no model.safetensors or model.safetensors.index.json");
}

}  // namespace

struct Checkpoint::Impl {
  fs::path dir;
  Config config;
  std::vector<std::unique_ptr<SafetensorsFile>> files;
  std::map<std::string, const TensorView*> canonical;
  bool tied = true;
  std::vector<std::string> warnings;
};

Checkpoint::Checkpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

Checkpoint Checkpoint::open(const fs::path& dir, const OpenOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->config = load_config(dir);
  const auto& cfg = impl->config;

  // All tensors of all files, by name with any "transformer." prefix removed.
  const WeightFiles weights = find_weight_files(dir);
  const std::string prefix = base_prefix(cfg.arch);
  std::map<std::string, const TensorView*> by_name;
  for (const auto& path : weights.files) {
    if (!fs::exists(path))
      throw InputError(weights.index.string() + ": lists " + path.filename().string() +
                       ", which is missing from " + dir.string());
    auto file = std::make_unique<SafetensorsFile>(
        path, [](const std::string& n) { return is_mask_buffer(n); });
    for (const auto& [name, view] : file->tensors()) {
      auto key = strip_prefix(name, prefix);
      if (!by_name.emplace(key, &view).second)
        throw InputError(path.string() + ": tensor '" + name +
                         "' appears twice (with and without the '" + prefix +
                         "' prefix, or in two shards)");
    }
    impl->files.push_back(std::move(file));
  }
  // An index that names the wrong shard for a tensor is a broken checkpoint, not a detail.
  for (const auto& [name, file] : weights.weight_map) {
    if (is_mask_buffer(name)) continue;
    auto it = by_name.find(strip_prefix(name, prefix));
    if (it == by_name.end() || fs::path(it->second->file).filename() != file)
      throw InputError(weights.index.string() + ": weight_map puts tensor '" + name + "' in " +
                       file + ", which does not hold it");
  }
  // Where a missing tensor was looked for: the file, or the directory and its shards.
  std::string searched = weights.files.front().string();
  if (weights.files.size() > 1) {
    searched = dir.string() + " (shards";
    for (const auto& path : weights.files) searched += " " + path.filename().string();
    searched += ")";
  }

  std::set<std::string> used;
  for (const auto& want : expected_tensors(cfg)) {
    const TensorView* found = nullptr;
    for (const auto& n : want.names) {
      if (auto it = by_name.find(n); it != by_name.end()) {
        found = it->second;
        used.insert(n);
        break;
      }
    }
    if (!found)
      throw InputError(searched + ": tensor '" + want.names.front() + "' (with or without the '" +
                       prefix + "' prefix) is missing; a " + to_string(cfg.arch) +
                       (cfg.classifier() ? " sequence classifier" : " model") + " with " +
                       std::to_string(cfg.n_layer) + " layers needs it");
    if (found->shape != want.shape)
      throw InputError(found->file + ": tensor '" + found->name + "' has shape " +
                       shape_string(found->shape) + " but config.json implies " +
                       shape_string(want.shape));
    impl->canonical[want.canonical] = found;
  }
  if (cfg.classifier()) {
    impl->tied = false;  // no LM head at all
  } else if (auto it = by_name.find("lm_head.weight"); it != by_name.end()) {
    const std::vector<std::int64_t> shape{cfg.vocab_size, cfg.n_embd};
    if (it->second->shape != shape)
      throw InputError(it->second->file + ": tensor 'lm_head.weight' has shape " +
                       shape_string(it->second->shape) + " but config.json implies " +
                       shape_string(shape));
    impl->canonical["lm_head"] = it->second;
    impl->tied = false;
    used.insert("lm_head.weight");
  } else {
    impl->canonical["lm_head"] = impl->canonical.at("tok_embed");
  }
  for (const auto& [name, view] : by_name) {
    if (used.count(name)) continue;
    std::string msg = view->file + ": unexpected tensor '" + view->name + "' " +
                      shape_string(view->shape) + " (not part of a " + to_string(cfg.arch) +
                      " model)";
    if (options.strict) throw InputError(msg + "; rejected by --strict");
    impl->warnings.push_back(msg + "; ignored");
  }
  return Checkpoint(std::move(impl));
}

const fs::path& Checkpoint::dir() const {
  return impl_->dir;
}
const Config& Checkpoint::config() const {
  return impl_->config;
}
bool Checkpoint::lm_head_tied() const {
  return impl_->tied;
}
const std::vector<std::string>& Checkpoint::warnings() const {
  return impl_->warnings;
}

const TensorView& Checkpoint::tensor(const std::string& canonical_name) const {
  auto it = impl_->canonical.find(canonical_name);
  if (it == impl_->canonical.end())
    throw RuntimeError("no tensor '" + canonical_name + "' in " + impl_->dir.string());
  return *it->second;
}

std::uint64_t Checkpoint::weight_bytes() const {
  std::uint64_t total = 0;
  for (const auto& f : impl_->files) total += f->file().bytes().size();
  return total;
}

std::uint64_t Checkpoint::parameter_count() const {
  std::uint64_t total = 0;
  for (const auto& [name, view] : impl_->canonical) {
    if (name == "lm_head" && impl_->tied) continue;
    total += static_cast<std::uint64_t>(view->numel());
  }
  return total;
}

std::vector<fs::path> Checkpoint::weight_files() const {
  std::vector<fs::path> out;
  for (const auto& f : impl_->files) out.push_back(f->file().path());
  return out;
}

void Checkpoint::release_pages(const TensorView& tensor) const {
  for (const auto& f : impl_->files) {
    auto all = f->file().bytes();
    if (tensor.data.data() >= all.data() && tensor.data.data() < all.data() + all.size())
      f->file().release_pages(tensor.data);
  }
}

void Checkpoint::release_pages() const {
  for (const auto& f : impl_->files) f->file().release_pages();
}

}  // namespace sg::model
