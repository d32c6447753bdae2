#include "model/config.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "model/strict_json.hpp"

namespace sg::model {

namespace {

using nlohmann::json;

namespace limits = config_limits;

// Ids and counts beyond this are nonsense for these models, and keep every product of two
// of them inside int64.
constexpr std::int64_t kMaxInt = 1 << 30;

class Reader {
 public:
  Reader(const json& j, std::string file) : j_(j), file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw InputError(file_ + ": '" + key + "' " + what);
  }

  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }
  const json& at(const std::string& key) const { return j_[key]; }

  // `limit` is one of config_limits (README "Checkpoints"), or kMaxInt for counts that size
  // nothing.
  int positive_int(const std::string& key, std::int64_t limit = kMaxInt) const {
    if (!j_.contains(key)) fail(key, "is missing");
    const auto& v = j_[key];
    if (!v.is_number_integer()) fail(key, "must be an integer, not " + v.dump());
    if (v.is_number_unsigned() ? v.get<std::uint64_t>() > static_cast<std::uint64_t>(limit)
                               : v.get<std::int64_t>() > limit)
      fail(key, "(" + v.dump() + ") exceeds stagegate's limit of " + std::to_string(limit));
    auto n = v.get<std::int64_t>();
    if (n <= 0) fail(key, "must be a positive integer, not " + v.dump());
    return static_cast<int>(n);
  }

  int non_negative_int(const std::string& key) const {
    if (!j_.contains(key)) fail(key, "is missing");
    const auto& v = j_[key];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > kMaxInt)
      fail(key, "must be a whole number >= 0, not " + v.dump());
    return v.get<int>();
  }

  std::optional<int> optional_id(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const auto& v = j_[key];
    if (v.is_array() && v.size() == 1) return checked_id(key, v[0]);
    return checked_id(key, v);
  }

  float number(const std::string& key, float fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j_[key];
    if (!v.is_number()) fail(key, "must be a number, not " + v.dump());
    // Converting a double beyond float's range is undefined behaviour, not infinity.
    const auto d = v.get<double>();
    if (!(std::abs(d) <= std::numeric_limits<float>::max()))
      fail(key, "(" + v.dump() + ") is beyond the range of a 32-bit float");
    return static_cast<float>(d);
  }

  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j_[key];
    if (!v.is_boolean()) fail(key, "must be true or false, not " + v.dump());
    return v.get<bool>();
  }

  std::string string(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j_[key];
    if (!v.is_string()) fail(key, "must be a string, not " + v.dump());
    return v.get<std::string>();
  }

 private:
  int checked_id(const std::string& key, const json& v) const {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > kMaxInt)
      fail(key, "must be a token id, not " + v.dump());
    return v.get<int>();
  }

  const json& j_;
  std::string file_;
};

// n_head must divide the width; with n_head > n_embd the remainder is n_embd itself.
void check_heads(const Reader& r, const Config& c, const std::string& key) {
  if (c.n_embd % c.n_head != 0)
    r.fail(key, "(" + std::to_string(c.n_embd) + ") is not divisible by n_head (" +
                    std::to_string(c.n_head) + ")");
}

// The product of sizes each within its limit can still describe a model far beyond any that
// stagegate runs (and beyond any file that could hold it).
void check_parameters(const Reader& r, const Config& c) {
  const auto n = declared_parameters(c);
  if (n > limits::kParameters)
    r.fail(c.bidirectional() ? "num_hidden_layers" : "n_layer",
           "(" + std::to_string(c.n_layer) + ") with width " + std::to_string(c.n_embd) +
               " describes " + std::to_string(n) + " parameters, beyond stagegate's limit of " +
               std::to_string(limits::kParameters));
}

void check_token_ids(const Reader& r, const Config& c) {
  const std::array<std::pair<const char*, std::optional<int>>, 3> ids{
      {{"eos_token_id", c.eos_token_id},
       {"bos_token_id", c.bos_token_id},
       {"pad_token_id", c.pad_token_id}}};
  for (const auto& [key, id] : ids)
    if (id && *id >= c.vocab_size)
      r.fail(key, "(" + std::to_string(*id) + ") is outside the vocabulary of vocab_size " +
                      std::to_string(c.vocab_size));
}

// Hugging Face's ACT2FN names of the activations the engine has.
Activation hf_activation(const Reader& r, const std::string& key, const std::string& fallback) {
  std::string act = r.string(key, fallback);
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast")
    return Activation::kGeluTanh;
  if (act == "gelu") return Activation::kGeluErf;  // Hugging Face's ACT2FN["gelu"] is the exact erf
  if (act == "relu") return Activation::kRelu;
  r.fail(key, "is \"" + act +
                  "\"; supported: gelu_new, gelu_pytorch_tanh, gelu_fast (tanh approximation), "
                  "gelu (exact erf), relu");
}

std::vector<std::string> architectures(const Reader& r) {
  std::vector<std::string> out;
  if (!r.has("architectures")) return out;
  const auto& v = r.at("architectures");
  if (!v.is_array()) r.fail("architectures", "must be a list of class names, not " + v.dump());
  for (const auto& a : v) {
    if (!a.is_string()) r.fail("architectures", "must be a list of class names, not " + v.dump());
    out.push_back(a.get<std::string>());
  }
  return out;
}

bool names(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// id2label (authoritative, as in Hugging Face's pipelines; label2id is not consulted), else
// num_labels with Hugging Face's default names, else Hugging Face's default of two labels.
void read_labels(const Reader& r, Config& c) {
  std::optional<int> num_labels;
  if (r.has("num_labels")) num_labels = r.positive_int("num_labels", limits::kLabels);
  if (r.has("id2label")) {
    const auto& m = r.at("id2label");
    if (!m.is_object() || m.empty())
      r.fail("id2label", "must be an object of label names by index, not " + m.dump());
    if (static_cast<std::int64_t>(m.size()) > limits::kLabels)
      r.fail("id2label", "has " + std::to_string(m.size()) +
                             " labels, beyond stagegate's limit of " +
                             std::to_string(limits::kLabels));
    c.labels.assign(m.size(), std::string());
    std::vector<bool> seen(m.size(), false);
    for (const auto& [key, value] : m.items()) {
      std::size_t used = 0;
      long index = -1;
      try {
        index = std::stol(key, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != key.size() || index < 0 || static_cast<std::size_t>(index) >= m.size() ||
          seen[static_cast<std::size_t>(index)])
        r.fail("id2label", "must map each index 0.." + std::to_string(m.size() - 1) +
                               " once; key \"" + key + "\" is not one of them");
      if (!value.is_string())
        r.fail("id2label", "[\"" + key + "\"] must be a label name, not " + value.dump());
      seen[static_cast<std::size_t>(index)] = true;
      c.labels[static_cast<std::size_t>(index)] = value.get<std::string>();
    }
    if (num_labels && *num_labels != static_cast<int>(c.labels.size()))
      r.fail("num_labels", "(" + std::to_string(*num_labels) + ") disagrees with id2label's " +
                               std::to_string(c.labels.size()) + " labels");
  } else {
    for (int i = 0; i < num_labels.value_or(2); ++i)
      c.labels.push_back("LABEL_" + std::to_string(i));
  }
  c.num_labels = static_cast<int>(c.labels.size());
  std::string problem = r.string("problem_type", "");
  if (problem.empty()) {
    c.problem_type = ProblemType::kUnspecified;
  } else if (problem == "single_label_classification") {
    c.problem_type = ProblemType::kSingleLabel;
  } else if (problem == "multi_label_classification") {
    c.problem_type = ProblemType::kMultiLabel;
  } else if (problem == "regression") {
    c.problem_type = ProblemType::kRegression;
  } else {
    r.fail("problem_type", "is \"" + problem +
                               "\"; expected single_label_classification, "
                               "multi_label_classification or regression");
  }
}

// BertForSequenceClassification / RobertaForSequenceClassification (BertConfig's keys).
void parse_encoder(const Reader& r, Config& c) {
  const std::string cls =
      c.arch == Arch::kBert ? "BertForSequenceClassification" : "RobertaForSequenceClassification";
  const auto archs = architectures(r);
  if (!archs.empty() && !names(archs, cls))
    r.fail("architectures", "names " + r.at("architectures").dump() + "; stagegate runs " +
                                to_string(c.arch) + " checkpoints as " + cls + " only");
  c.head = Head::kSequenceClassifier;
  c.n_layer = r.positive_int("num_hidden_layers", limits::kLayers);
  c.n_embd = r.positive_int("hidden_size", limits::kEmbd);
  c.n_head = r.positive_int("num_attention_heads", limits::kEmbd);
  check_heads(r, c, "hidden_size");
  c.n_inner = r.positive_int("intermediate_size", limits::kInner);
  c.vocab_size = r.positive_int("vocab_size", limits::kVocab);
  const int max_positions = r.positive_int("max_position_embeddings", limits::kPositions);
  c.type_vocab_size =
      r.has("type_vocab_size") ? r.positive_int("type_vocab_size", limits::kVocab) : 2;
  c.layer_norm_epsilon = r.number("layer_norm_eps", 1e-12f);
  if (!(c.layer_norm_epsilon > 0)) r.fail("layer_norm_eps", "must be positive");
  c.activation = hf_activation(r, "hidden_act", "gelu");
  if (r.string("position_embedding_type", "absolute") != "absolute")
    r.fail("position_embedding_type", "is \"" + r.string("position_embedding_type", "") +
                                          "\"; stagegate implements absolute positions only");
  if (r.boolean("is_decoder", false))
    r.fail("is_decoder",
           "is true (causal attention); a sequence classifier's encoder is "
           "bidirectional");
  c.pad_token_id = r.has("pad_token_id") ? r.optional_id("pad_token_id")
                                         : std::optional<int>(c.arch == Arch::kBert ? 0 : 1);
  if (c.arch == Arch::kRoberta) {
    if (!c.pad_token_id) r.fail("pad_token_id", "is missing: RoBERTa numbers positions after it");
    c.position_offset = *c.pad_token_id + 1;
    if (max_positions <= c.position_offset)
      r.fail("max_position_embeddings", "(" + std::to_string(max_positions) +
                                            ") leaves no positions after padding_idx + 1 (" +
                                            std::to_string(c.position_offset) + ")");
  }
  c.n_positions = max_positions - c.position_offset;
  c.bos_token_id = r.optional_id("bos_token_id");
  c.eos_token_id = r.optional_id("eos_token_id");
  read_labels(r, c);
}

}  // namespace

std::string to_string(Arch arch) {
  switch (arch) {
    case Arch::kGpt2:
      return "gpt2";
    case Arch::kOpenAiGpt:
      return "openai-gpt";
    case Arch::kBert:
      return "bert";
    case Arch::kRoberta:
      return "roberta";
  }
  return "unknown";
}

std::string to_string(ProblemType type) {
  switch (type) {
    case ProblemType::kSingleLabel:
      return "single_label_classification";
    case ProblemType::kMultiLabel:
      return "multi_label_classification";
    case ProblemType::kRegression:
      return "regression";
    case ProblemType::kUnspecified:
      break;
  }
  return "";
}

static_assert(4 * limits::kEmbd <= limits::kInner, "GPT's default n_inner must be in limits");

std::int64_t declared_parameters(const Config& c) {
  const std::int64_t e = c.n_embd, in = c.n_inner, layers = c.n_layer;
  const std::int64_t norm = 2 * e;
  const auto linear = [](std::int64_t rows, std::int64_t cols) { return rows * cols + rows; };
  const std::int64_t embeddings =
      (std::int64_t{c.vocab_size} + c.n_positions + c.position_offset + c.type_vocab_size) * e;
  std::int64_t block = 0, top = 0;
  if (c.bidirectional()) {
    block = 4 * linear(e, e) + linear(in, e) + linear(e, in) + 2 * norm;
    top = norm + linear(e, e);  // embedding LayerNorm, pooler
  } else {
    block = linear(3 * e, e) + linear(e, e) + linear(in, e) + linear(e, in) + 2 * norm;
    top = c.arch == Arch::kGpt2 ? norm : 0;  // ln_f
  }
  // GPT2ForSequenceClassification's score has no bias.
  const std::int64_t head = !c.classifier()     ? 0
                            : c.bidirectional() ? linear(c.num_labels, e)
                                                : c.num_labels * e;
  return embeddings + layers * block + top + head;
}

Config parse_config(const std::string& json_text, const std::string& file) {
  auto j = parse_strict_json_object(json_text, file);
  Reader r(j, file);
  Config c;
  std::string type = r.string("model_type", "");
  if (type == "gpt2") {
    c.arch = Arch::kGpt2;
  } else if (type == "openai-gpt") {
    c.arch = Arch::kOpenAiGpt;
  } else if (type == "bert" || type == "roberta") {
    c.arch = type == "bert" ? Arch::kBert : Arch::kRoberta;
    parse_encoder(r, c);
    check_token_ids(r, c);
    check_parameters(r, c);
    return c;
  } else if (type.empty()) {
    r.fail("model_type", "is missing (expected \"gpt2\", \"openai-gpt\", \"bert\" or \"roberta\")");
  } else {
    r.fail("model_type", "is \"" + type +
                             "\"; stagegate runs \"gpt2\", \"openai-gpt\" and, as sequence "
                             "classifiers, \"bert\" and \"roberta\"");
  }
  c.n_layer = r.positive_int("n_layer", limits::kLayers);
  c.n_embd = r.positive_int("n_embd", limits::kEmbd);
  c.n_head = r.positive_int("n_head", limits::kEmbd);
  if (r.has("n_positions")) {
    c.n_positions = r.positive_int("n_positions", limits::kPositions);
  } else if (r.has("n_ctx")) {
    // older configs name the context n_ctx
    c.n_positions = r.positive_int("n_ctx", limits::kPositions);
  } else {
    r.fail("n_positions", "is missing");
  }
  c.vocab_size = r.positive_int("vocab_size", limits::kVocab);
  check_heads(r, c, "n_embd");
  c.layer_norm_epsilon = r.number("layer_norm_epsilon", 1e-5f);
  if (!(c.layer_norm_epsilon > 0)) r.fail("layer_norm_epsilon", "must be positive");

  if (c.arch == Arch::kGpt2) {
    // 4 * n_embd is within kInner because n_embd is within kEmbd (it overflowed int when
    // n_embd was only limited to 2^30).
    c.n_inner = r.has("n_inner") ? r.positive_int("n_inner", limits::kInner) : 4 * c.n_embd;
    c.activation = hf_activation(r, "activation_function", "gelu_new");
    c.scale_attn_weights = r.boolean("scale_attn_weights", true);
    c.scale_attn_by_inverse_layer_idx = r.boolean("scale_attn_by_inverse_layer_idx", false);
    c.reorder_and_upcast_attn = r.boolean("reorder_and_upcast_attn", false);
    c.eos_token_id = r.optional_id("eos_token_id");
    c.bos_token_id = r.optional_id("bos_token_id");
    // The same file layout serves the LM and the classifier; only the class tells them apart.
    if (names(architectures(r), "GPT2ForSequenceClassification")) {
      c.head = Head::kSequenceClassifier;
      c.pad_token_id = r.optional_id("pad_token_id");
      read_labels(r, c);
    }
  } else {
    c.n_inner = 4 * c.n_embd;  // GPT-1's MLP is always 4x
    std::string afn = r.string("afn", "gelu");
    // modeling_openai.py's own table (ACT_FNS: relu, silu, gelu, swish) maps "gelu" to the
    // tanh approximation, unlike Hugging Face's generic ACT2FN["gelu"] (exact erf). Other
    // names do not load in Hugging Face either, so they are refused rather than guessed.
    if (afn == "gelu") {
      c.activation = Activation::kGeluTanh;
    } else if (afn == "relu") {
      c.activation = Activation::kRelu;
    } else if (afn == "silu" || afn == "swish") {
      r.fail("afn", "is \"" + afn +
                        "\": SiLU is not implemented by stagegate's engine; supported: gelu "
                        "(tanh approximation), relu");
    } else {
      r.fail("afn", "is \"" + afn + "\"; supported: gelu (tanh approximation), relu");
    }
    // GPT-1 has no end-of-text token: generation runs to --max-tokens.
  }
  check_token_ids(r, c);
  check_parameters(r, c);
  return c;
}

Config load_config(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw InputError(dir.string() + ": not a checkpoint directory (it does not exist)");
  auto path = dir / "config.json";
  if (!std::filesystem::exists(path)) throw InputError(path.string() + ": missing");
  return parse_config(read_metadata_file(path), path.string());
}

GenerationDefaults load_generation_defaults(const std::filesystem::path& dir) {
  GenerationDefaults d;
  auto path = dir / "generation_config.json";
  if (!std::filesystem::exists(path)) return d;
  auto j = parse_strict_json_object(read_metadata_file(path), path.string());
  Reader r(j, path.string());
  if (r.has("temperature")) d.temperature = r.number("temperature", 1.0f);
  if (r.has("top_k")) d.top_k = r.non_negative_int("top_k");
  if (r.has("top_p")) d.top_p = r.number("top_p", 1.0f);
  if (r.has("repetition_penalty")) d.repetition_penalty = r.number("repetition_penalty", 1.0f);
  if (r.has("max_new_tokens")) d.max_new_tokens = r.positive_int("max_new_tokens");
  if (r.has("do_sample")) d.do_sample = r.boolean("do_sample", false);
  d.eos_token_id = r.optional_id("eos_token_id");
  return d;
}

}  // namespace sg::model
