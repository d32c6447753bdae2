// config.json of a Hugging Face GPT-2 (`gpt2`) or GPT-1 (`openai-gpt`) checkpoint.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace sg::model {

enum class Arch { kGpt2, kOpenAiGpt };
enum class Activation { kGeluTanh, kGeluErf, kRelu };

// Where the layer norms sit: GPT-2 normalizes a block's input (pre-LN, plus a final
// ln_f); GPT-1 normalizes after each residual add (post-LN, no final norm).
enum class NormPlacement { kPre, kPost };

struct Config {
  Arch arch = Arch::kGpt2;
  int n_layer = 0;
  int n_embd = 0;
  int n_head = 0;
  int n_positions = 0;
  int vocab_size = 0;
  int n_inner = 0;  // 4 * n_embd when the config leaves it null/absent
  Activation activation = Activation::kGeluTanh;
  float layer_norm_epsilon = 1e-5f;
  bool scale_attn_weights = true;
  bool scale_attn_by_inverse_layer_idx = false;
  bool reorder_and_upcast_attn = false;  // numerically a no-op here: we always upcast
  std::optional<int> eos_token_id;       // GPT-1 has none
  std::optional<int> bos_token_id;

  NormPlacement norm_placement() const {
    return arch == Arch::kGpt2 ? NormPlacement::kPre : NormPlacement::kPost;
  }
  int head_dim() const { return n_embd / n_head; }
};

// Reads and validates `dir/config.json`. Throws sg::InputError naming the file and key
// for a missing field, a wrong type, or a value stagegate does not implement (never
// silently ignored).
Config load_config(const std::filesystem::path& dir);
Config parse_config(const std::string& json_text, const std::string& file_name);

// Defaults for generation from `generation_config.json`, when present.
struct GenerationDefaults {
  std::optional<float> temperature;
  std::optional<int> top_k;
  std::optional<float> top_p;
  std::optional<float> repetition_penalty;
  std::optional<int> max_new_tokens;
  std::optional<bool> do_sample;
  std::optional<int> eos_token_id;
};
GenerationDefaults load_generation_defaults(const std::filesystem::path& dir);

std::string to_string(Arch arch);

}  // namespace sg::model
