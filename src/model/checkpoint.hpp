// A Hugging Face checkpoint directory: config.json + model.safetensors (or a sharded
// model.safetensors.index.json), memory-mapped. The engine asks for tensors by their
// canonical names; this class hides prefixes and the naming differences of GPT-1, GPT-2 and
// the BERT/RoBERTa sequence classifiers.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "model/tensor.hpp"

namespace sg::model {

struct OpenOptions {
  bool strict = false;  // unexpected extra tensors are an error instead of a warning
};

class Checkpoint {
 public:
  // Throws sg::InputError naming the file and the field or tensor at fault.
  static Checkpoint open(const std::filesystem::path& dir, const OpenOptions& options = {});

  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

  const std::filesystem::path& dir() const;
  const Config& config() const;

  // Canonical names (both architectures):
  //   "tok_embed"  [vocab, n_embd]        (GPT-2 wte, GPT-1 tokens_embed)
  //   "pos_embed"  [n_positions, n_embd]  (GPT-2 wpe, GPT-1 positions_embed)
  //   "h.{i}.ln_1.weight|bias", "h.{i}.ln_2.weight|bias"                [n_embd]
  //   "h.{i}.attn.c_attn.weight" [n_embd, 3*n_embd], ".bias" [3*n_embd]   (Conv1D: [in, out])
  //   "h.{i}.attn.c_proj.weight" [n_embd, n_embd],   ".bias" [n_embd]
  //   "h.{i}.mlp.c_fc.weight"    [n_embd, n_inner],  ".bias" [n_inner]
  //   "h.{i}.mlp.c_proj.weight"  [n_inner, n_embd],  ".bias" [n_embd]
  //   "ln_f.weight|bias" [n_embd]                (GPT-2 only)
  //   "lm_head"  [vocab, n_embd]: lm_head.weight when present, else tok_embed (tied);
  //              absent from classifiers
  //   "classifier.weight" [num_labels, n_embd]   classifiers (GPT-2: score.weight, no bias)
  // BERT/RoBERTa (config.linear_weights(): nn.Linear, [out, in], each with a .bias):
  //   "tok_embed" [vocab, n_embd]; "pos_embed" [n_positions + position_offset, n_embd];
  //   "type_embed" [type_vocab_size, n_embd]; "embed_ln.weight|bias" [n_embd]
  //   "h.{i}.attn.q|k|v.weight" [n_embd, n_embd]   (attention.self.query|key|value)
  //   "h.{i}.attn.c_proj.weight" [n_embd, n_embd]  (attention.output.dense)
  //   "h.{i}.ln_1.*" (attention.output.LayerNorm), "h.{i}.ln_2.*" (output.LayerNorm)
  //   "h.{i}.mlp.c_fc.weight" [n_inner, n_embd]    (intermediate.dense)
  //   "h.{i}.mlp.c_proj.weight" [n_embd, n_inner]  (output.dense)
  //   "pooler.weight|bias" [n_embd, n_embd]        (BERT pooler.dense, RoBERTa classifier.dense)
  //   "classifier.weight|bias"                     (RoBERTa: classifier.out_proj)
  // Shapes are checked against the config when the checkpoint is opened.
  const TensorView& tensor(const std::string& canonical_name) const;
  bool lm_head_tied() const;

  // Total bytes of all weight files, and the sizes the engine will upload.
  std::uint64_t weight_bytes() const;
  std::uint64_t parameter_count() const;

  // Warnings gathered while opening (extra tensors when not strict, ...).
  const std::vector<std::string>& warnings() const;

  // Weight files, in a stable order (for identity hashing).
  std::vector<std::filesystem::path> weight_files() const;

  // Tells the kernel the mapped pages are no longer needed (after upload), so that they
  // leave the resident set. The views stay valid: pages are re-read on access.
  void release_pages() const;
  // The same for one tensor, so that upload never holds the file and its copy at once.
  void release_pages(const TensorView& tensor) const;

 private:
  struct Impl;
  explicit Checkpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::model
