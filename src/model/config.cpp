#include "model/config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/errors.hpp"

namespace sg::model {

namespace {

using nlohmann::json;

// Sizes and ids beyond this are nonsense for these models, and keep every product of two
// config sizes inside int64.
constexpr std::int64_t kMaxInt = 1 << 30;

class Reader {
 public:
  Reader(const json& j, std::string file) : j_(j), file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw InputError(file_ + ": '" + key + "' " + what);
  }

  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }

  int positive_int(const std::string& key) const {
    if (!j_.contains(key)) fail(key, "is missing");
    const auto& v = j_[key];
    if (!v.is_number_integer()) fail(key, "must be an integer, not " + v.dump());
    auto n = v.get<std::int64_t>();
    if (n <= 0 || n > kMaxInt) fail(key, "must be a positive integer, not " + v.dump());
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
    return v.get<float>();
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

json parse_json(const std::string& text, const std::string& file) {
  try {
    auto j = json::parse(text);
    if (!j.is_object()) throw InputError(file + ": not a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    throw InputError(file + ": not valid JSON (" + e.what() + ")");
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string to_string(Arch arch) {
  return arch == Arch::kGpt2 ? "gpt2" : "openai-gpt";
}

Config parse_config(const std::string& json_text, const std::string& file) {
  auto j = parse_json(json_text, file);
  Reader r(j, file);
  Config c;
  std::string type = r.string("model_type", "");
  if (type == "gpt2") {
    c.arch = Arch::kGpt2;
  } else if (type == "openai-gpt") {
    c.arch = Arch::kOpenAiGpt;
  } else if (type.empty()) {
    r.fail("model_type", "is missing (expected \"gpt2\" or \"openai-gpt\")");
  } else {
    r.fail("model_type", "is \"" + type + "\"; stagegate runs \"gpt2\" and \"openai-gpt\"");
  }
  c.n_layer = r.positive_int("n_layer");
  c.n_embd = r.positive_int("n_embd");
  c.n_head = r.positive_int("n_head");
  if (r.has("n_positions")) {
    c.n_positions = r.positive_int("n_positions");
  } else if (r.has("n_ctx")) {
    c.n_positions = r.positive_int("n_ctx");  // older configs name the context n_ctx
  } else {
    r.fail("n_positions", "is missing");
  }
  c.vocab_size = r.positive_int("vocab_size");
  if (c.n_embd % c.n_head != 0)
    r.fail("n_embd", "(" + std::to_string(c.n_embd) + ") is not divisible by n_head (" +
                         std::to_string(c.n_head) + ")");
  c.layer_norm_epsilon = r.number("layer_norm_epsilon", 1e-5f);
  if (!(c.layer_norm_epsilon > 0)) r.fail("layer_norm_epsilon", "must be positive");

  if (c.arch == Arch::kGpt2) {
    c.n_inner = r.has("n_inner") ? r.positive_int("n_inner") : 4 * c.n_embd;
    std::string act = r.string("activation_function", "gelu_new");
    if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") {
      c.activation = Activation::kGeluTanh;
    } else if (act == "gelu") {
      c.activation = Activation::kGeluErf;  // Hugging Face's ACT2FN["gelu"] is the exact erf
    } else if (act == "relu") {
      c.activation = Activation::kRelu;
    } else {
      r.fail("activation_function", "is \"" + act +
                                        "\"; supported: gelu_new, gelu_pytorch_tanh, gelu_fast "
                                        "(tanh approximation), gelu (exact erf), relu");
    }
    c.scale_attn_weights = r.boolean("scale_attn_weights", true);
    c.scale_attn_by_inverse_layer_idx = r.boolean("scale_attn_by_inverse_layer_idx", false);
    c.reorder_and_upcast_attn = r.boolean("reorder_and_upcast_attn", false);
    c.eos_token_id = r.optional_id("eos_token_id");
    c.bos_token_id = r.optional_id("bos_token_id");
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
  if (c.eos_token_id && *c.eos_token_id >= c.vocab_size)
    r.fail("eos_token_id", "(" + std::to_string(*c.eos_token_id) +
                               ") is outside the vocabulary of vocab_size " +
                               std::to_string(c.vocab_size));
  if (c.bos_token_id && *c.bos_token_id >= c.vocab_size)
    r.fail("bos_token_id", "(" + std::to_string(*c.bos_token_id) +
                               ") is outside the vocabulary of vocab_size " +
                               std::to_string(c.vocab_size));
  return c;
}

Config load_config(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw InputError(dir.string() + ": not a checkpoint directory (it does not exist)");
  auto path = dir / "config.json";
  if (!std::filesystem::exists(path)) throw InputError(path.string() + ": missing");
  return parse_config(read_file(path), path.string());
}

GenerationDefaults load_generation_defaults(const std::filesystem::path& dir) {
  GenerationDefaults d;
  auto path = dir / "generation_config.json";
  if (!std::filesystem::exists(path)) return d;
  auto j = parse_json(read_file(path), path.string());
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
