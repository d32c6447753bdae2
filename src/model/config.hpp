// config.json of a Hugging Face checkpoint: GPT-2 (`gpt2`) and GPT-1 (`openai-gpt`) language
// models, and the sequence classifiers of the toxicity scorer (BertForSequenceClassification,
// RobertaForSequenceClassification, GPT2ForSequenceClassification).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sg::model {

// The tensor layout and block structure (model_type).
enum class Arch { kGpt2, kOpenAiGpt, kBert, kRoberta };
// What the last hidden states feed: the tied or separate LM head, or a classification head
// (BERT: pooler on [CLS] + classifier; RoBERTa: dense + tanh + out_proj on <s>; GPT-2: score
// on the last non-pad token).
enum class Head { kLanguageModel, kSequenceClassifier };
// Hugging Face's problem_type: how a classifier's logits become probabilities (null in the
// config: single-label, softmax, unless num_labels is 1).
enum class ProblemType { kUnspecified, kSingleLabel, kMultiLabel, kRegression };
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
  std::optional<int> pad_token_id;  // classifiers: GPT-2's score reads the last non-pad token

  // Sequence classifiers.
  Head head = Head::kLanguageModel;
  int num_labels = 0;               // classifiers: the rows of the classification head
  std::vector<std::string> labels;  // id2label, by index
  ProblemType problem_type = ProblemType::kUnspecified;
  // BERT/RoBERTa: rows of token_type_embeddings (type 0 is what a single segment uses).
  int type_vocab_size = 0;
  // RoBERTa numbers positions from padding_idx + 1: position i of a sequence reads row
  // i + position_offset of position_embeddings, whose max_position_embeddings rows are
  // n_positions + position_offset.
  int position_offset = 0;

  NormPlacement norm_placement() const {
    return arch == Arch::kGpt2 ? NormPlacement::kPre : NormPlacement::kPost;
  }
  // Encoders attend to the whole sequence; GPT-1/GPT-2 (their classifiers too) causally.
  bool bidirectional() const { return arch == Arch::kBert || arch == Arch::kRoberta; }
  bool classifier() const { return head == Head::kSequenceClassifier; }
  // Hugging Face nn.Linear weights are [out, in]; GPT's Conv1D ones are [in, out].
  bool linear_weights() const { return bidirectional(); }
  // Width of a logits row: the vocabulary, or the labels of a classifier.
  int output_width() const { return classifier() ? num_labels : vocab_size; }
  int head_dim() const { return n_embd / n_head; }
};

// What a config.json may describe (README "Checkpoints"): GPT-2 XL (48 layers, n_embd 1600,
// 1.6e9 parameters) and the classifiers with ample headroom. Every size is checked against
// these before anything is sized from it, so that a hostile config is refused before it makes
// stagegate allocate or loop; within them, every product of sizes fits in int64.
namespace config_limits {
inline constexpr std::int64_t kLayers = 512;
inline constexpr std::int64_t kEmbd = 16384;       // n_embd / hidden_size; n_head divides it
inline constexpr std::int64_t kInner = 65536;      // n_inner / intermediate_size
inline constexpr std::int64_t kPositions = 65536;  // context, + RoBERTa's offset
inline constexpr std::int64_t kVocab = 1 << 20;    // vocab_size, type_vocab_size
inline constexpr std::int64_t kLabels = 65536;     // num_labels / id2label
inline constexpr std::int64_t kParameters = 10'000'000'000;  // declared_parameters()
}  // namespace config_limits

// The weights a config implies (embeddings, blocks, final norm, classifier head; a tied or
// untied LM head is not counted), in int64 without overflow for any accepted config.
std::int64_t declared_parameters(const Config& c);

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
std::string to_string(ProblemType type);  // Hugging Face's spelling; "" when unspecified

}  // namespace sg::model
