// config.json and generation_config.json: every key stagegate honours is read or refused by
// name, never silently ignored; keys it does not use (Hugging Face writes many) are fine.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "checkpoint_builder.hpp"
#include "expect_refused.hpp"
#include "model/config.hpp"

namespace sg::model {
namespace {

using nlohmann::json;
using testing::CheckpointBuilder;
using testing::expect_message;
using testing::expect_refused;

// The config.json Hugging Face writes for the 124M GPT-2, extra keys included.
json hf_gpt2() {
  return json::parse(R"({
    "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
    "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
    "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
    "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_inner": null, "n_layer": 12,
    "n_positions": 1024, "reorder_and_upcast_attn": false, "resid_pdrop": 0.1,
    "scale_attn_by_inverse_layer_idx": false, "scale_attn_weights": true,
    "summary_activation": null, "summary_first_dropout": 0.1, "summary_proj_to_labels": true,
    "summary_type": "cls_index", "summary_use_proj": true,
    "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
    "torch_dtype": "float32", "transformers_version": "4.26.0", "use_cache": true,
    "vocab_size": 50257})");
}

json hf_openai_gpt() {
  return json::parse(R"({
    "afn": "gelu", "architectures": ["OpenAIGPTLMHeadModel"], "attn_pdrop": 0.1,
    "embd_pdrop": 0.1, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05,
    "model_type": "openai-gpt", "n_ctx": 512, "n_embd": 768, "n_head": 12, "n_layer": 12,
    "n_positions": 512, "n_special": 0, "predict_special_tokens": true, "resid_pdrop": 0.1,
    "summary_activation": null, "summary_first_dropout": 0.1, "summary_proj_to_labels": true,
    "summary_type": "cls_index", "summary_use_proj": true, "vocab_size": 40478})");
}

Config parse(const json& j) {
  return parse_config(j.dump(), "ckpt/config.json");
}

void expect_config_refused(const json& j, const std::vector<std::string>& fragments) {
  try {
    parse(j);
    ADD_FAILURE() << "accepted " << j.dump();
  } catch (const InputError& e) {
    expect_message(e.what(), fragments);
  }
}

TEST(Config, ReadsHuggingFaceGpt2) {
  auto c = parse(hf_gpt2());
  EXPECT_EQ(c.arch, Arch::kGpt2);
  EXPECT_EQ(c.n_layer, 12);
  EXPECT_EQ(c.n_positions, 1024);
  EXPECT_EQ(c.vocab_size, 50257);
  EXPECT_EQ(c.n_inner, 4 * 768);  // null means 4 * n_embd
  EXPECT_EQ(c.head_dim(), 64);
  EXPECT_EQ(c.activation, Activation::kGeluTanh);
  EXPECT_FLOAT_EQ(c.layer_norm_epsilon, 1e-5f);
  EXPECT_TRUE(c.scale_attn_weights);
  EXPECT_EQ(c.eos_token_id, 50256);
  EXPECT_EQ(c.bos_token_id, 50256);
  EXPECT_EQ(c.norm_placement(), NormPlacement::kPre);
}

TEST(Config, ReadsHuggingFaceOpenAiGpt) {
  auto c = parse(hf_openai_gpt());
  EXPECT_EQ(c.arch, Arch::kOpenAiGpt);
  EXPECT_EQ(c.n_positions, 512);
  EXPECT_EQ(c.vocab_size, 40478);
  EXPECT_EQ(c.n_inner, 4 * 768);
  EXPECT_EQ(c.activation, Activation::kGeluTanh);  // modeling_openai.py: "gelu" is tanh
  EXPECT_FALSE(c.eos_token_id);                    // GPT-1 has no end-of-text token
  EXPECT_EQ(c.norm_placement(), NormPlacement::kPost);
}

TEST(Config, Gpt2Activations) {
  const std::pair<const char*, Activation> cases[] = {{"gelu_new", Activation::kGeluTanh},
                                                      {"gelu_pytorch_tanh", Activation::kGeluTanh},
                                                      {"gelu", Activation::kGeluErf},
                                                      {"relu", Activation::kRelu}};
  for (const auto& [name, act] : cases) {
    auto j = hf_gpt2();
    j["activation_function"] = name;
    EXPECT_EQ(parse(j).activation, act) << name;
  }
}

TEST(Config, OpenAiGptRelu) {
  auto j = hf_openai_gpt();
  j["afn"] = "relu";
  EXPECT_EQ(parse(j).activation, Activation::kRelu);
}

TEST(Config, ExplicitInnerSizeAndFlags) {
  auto j = hf_gpt2();
  j["n_inner"] = 1000;
  j["scale_attn_by_inverse_layer_idx"] = true;
  j["scale_attn_weights"] = false;
  auto c = parse(j);
  EXPECT_EQ(c.n_inner, 1000);
  EXPECT_TRUE(c.scale_attn_by_inverse_layer_idx);
  EXPECT_FALSE(c.scale_attn_weights);
}

TEST(Config, LegacyContextName) {
  auto j = hf_gpt2();
  j.erase("n_positions");
  j["n_ctx"] = 256;
  EXPECT_EQ(parse(j).n_positions, 256);
}

TEST(Config, MissingField) {
  CheckpointBuilder b;
  b.config().erase("n_head");
  expect_refused(b.write(), {"config.json", "n_head", "missing"});
}

TEST(Config, MissingContext) {
  auto j = hf_gpt2();
  j.erase("n_positions");
  j.erase("n_ctx");
  expect_config_refused(j, {"ckpt/config.json", "n_positions", "missing"});
}

TEST(Config, WrongType) {
  auto j = hf_gpt2();
  j["n_layer"] = "twelve";
  expect_config_refused(j, {"config.json", "n_layer", "integer", "\"twelve\""});
  j = hf_gpt2();
  j["scale_attn_weights"] = "yes";
  expect_config_refused(j, {"config.json", "scale_attn_weights", "true or false"});
  j = hf_gpt2();
  j["layer_norm_epsilon"] = "small";
  expect_config_refused(j, {"config.json", "layer_norm_epsilon", "number"});
}

TEST(Config, NonPositiveSize) {
  for (const char* key : {"n_layer", "n_embd", "n_head", "n_positions", "vocab_size", "n_inner"}) {
    auto j = hf_gpt2();
    j[key] = 0;
    expect_config_refused(j, {"config.json", key, "positive"});
    j[key] = -4;
    expect_config_refused(j, {"config.json", key, "positive"});
  }
}

TEST(Config, UnsupportedActivation) {
  CheckpointBuilder b;
  b.config()["activation_function"] = "swish";
  expect_refused(b.write(), {"config.json", "activation_function", "swish", "supported"});
}

TEST(Config, UnsupportedModelType) {
  CheckpointBuilder b;
  b.config()["model_type"] = "llama";
  expect_refused(b.write(), {"config.json", "model_type", "llama", "gpt2", "openai-gpt"});
}

TEST(Config, MissingModelType) {
  auto j = hf_gpt2();
  j.erase("model_type");
  expect_config_refused(j, {"config.json", "model_type", "missing"});
}

TEST(Config, OpenAiGptSiluIsRefused) {
  for (const char* afn : {"silu", "swish"}) {
    auto j = hf_openai_gpt();
    j["afn"] = afn;
    expect_config_refused(j, {"config.json", "afn", afn, "SiLU"});
  }
  auto j = hf_openai_gpt();
  j["afn"] = "gelu_new";  // not a key of modeling_openai.py's table
  expect_config_refused(j, {"config.json", "afn", "gelu_new"});
}

TEST(Config, EmbeddingNotDivisibleByHeads) {
  CheckpointBuilder b;
  b.config()["n_head"] = 3;
  expect_refused(b.write(), {"config.json", "n_embd", "not divisible by n_head"});
}

TEST(Config, TokenIdsInsideTheVocabulary) {
  auto j = hf_gpt2();
  j["eos_token_id"] = 50257;
  expect_config_refused(j, {"config.json", "eos_token_id", "50257", "vocab_size"});
  j = hf_gpt2();
  j["bos_token_id"] = -1;
  expect_config_refused(j, {"config.json", "bos_token_id", "token id"});
}

TEST(Config, NotJson) {
  expect_config_refused(json("just a string"), {"ckpt/config.json", "not a JSON object"});
  try {
    parse_config("{\"model_type\": ", "ckpt/config.json");
    ADD_FAILURE();
  } catch (const InputError& e) {
    expect_message(e.what(), {"ckpt/config.json", "not valid JSON"});
  }
}

// Hugging Face's own parameter counts (lm_head tied, so not counted).
TEST(Config, DeclaredParametersMatchHuggingFace) {
  EXPECT_EQ(declared_parameters(parse(hf_gpt2())), 124439808);
  auto xl = hf_gpt2();
  xl["n_layer"] = 48;
  xl["n_embd"] = 1600;
  xl["n_head"] = 25;
  EXPECT_EQ(declared_parameters(parse(xl)), 1557611200);
  EXPECT_EQ(declared_parameters(parse(hf_openai_gpt())), 116534784);
}

// 4 * n_embd overflowed int for n_embd above 2^29, when sizes were only capped at 2^30.
TEST(Config, HostileWidthIsRefusedBeforeItOverflows) {
  for (const auto& arch : {hf_gpt2(), hf_openai_gpt()}) {
    auto j = arch;
    j["n_embd"] = (1 << 29) + 1;
    j["n_head"] = 1;
    expect_config_refused(j, {"ckpt/config.json", "'n_embd'", "536870913", "limit of 16384"});
  }
  auto j = hf_gpt2();
  j["n_embd"] = 16384;  // the largest width accepted: its default n_inner is in limits
  j["n_head"] = 16;
  j["n_layer"] = 1;
  EXPECT_EQ(parse(j).n_inner, 65536);
}

TEST(Config, SizesBeyondTheLimitsAreRefusedByKey) {
  const std::pair<const char*, std::int64_t> cases[] = {
      {"n_layer", 513},        {"n_head", 16385},         {"n_positions", 65537},
      {"vocab_size", 1048577}, {"n_inner", 65537},        {"n_layer", 1ll << 40},
      {"n_embd", 1ll << 62},   {"vocab_size", 1ll << 31}, {"n_ctx", 1ll << 33}};
  for (const auto& [key, value] : cases) {
    auto j = hf_gpt2();
    if (std::string(key) == "n_ctx") j.erase("n_positions");
    j[key] = value;
    expect_config_refused(
        j, {"config.json", std::string("'") + key + "'", std::to_string(value), "limit"});
  }
  auto j = hf_gpt2();
  j["n_layer"] = 18446744073709551615ull;  // would be -1 as int64
  expect_config_refused(j, {"config.json", "'n_layer'", "limit"});
}

TEST(Config, ModelBeyondTheParameterLimitIsRefused) {
  auto j = hf_gpt2();
  j["n_layer"] = 512;
  j["n_embd"] = 16384;
  j["n_head"] = 128;
  expect_config_refused(j, {"config.json", "'n_layer'", "512", "parameters", "10000000000"});
}

TEST(Config, MoreHeadsThanWidthIsRefused) {
  auto j = hf_gpt2();
  j["n_head"] = 1536;
  expect_config_refused(j, {"config.json", "n_embd", "not divisible by n_head (1536)"});
}

TEST(Config, EpsilonBeyondFloatIsRefused) {
  for (double eps : {1e300, -1e300}) {
    auto j = hf_gpt2();
    j["layer_norm_epsilon"] = eps;
    expect_config_refused(j, {"config.json", "layer_norm_epsilon", "32-bit float"});
  }
}

TEST(Config, RepeatedKeyIsRefused) {
  // Python's json keeps the last n_embd, other readers the first.
  try {
    parse_config(R"({"model_type": "gpt2", "n_embd": 768, "n_embd": 1024})", "ckpt/config.json");
    ADD_FAILURE();
  } catch (const InputError& e) {
    expect_message(e.what(), {"ckpt/config.json", "\"n_embd\"", "twice"});
  }
}

// Found by fuzz_config: nlohmann reports a number beyond double's range as out_of_range, not
// parse_error, and that escaped as an uncaught exception.
TEST(Config, NumberBeyondDoubleIsInvalidJson) {
  try {
    parse_config(R"({"model_type": "gpt2", "layer_norm_epsilon": 1e+994})", "ckpt/config.json");
    ADD_FAILURE();
  } catch (const InputError& e) {
    expect_message(e.what(), {"ckpt/config.json", "not valid JSON", "1e+994"});
  }
}

TEST(Config, DeepNestingIsRefused) {
  auto j = hf_gpt2();
  json deep = 1;
  for (int i = 0; i < 70; ++i) deep = json::array({deep});
  j["task_specific_params"] = deep;
  expect_config_refused(j, {"ckpt/config.json", "nested deeper than 64"});
  json shallow = 1;
  for (int i = 0; i < 60; ++i) shallow = json::array({shallow});
  j["task_specific_params"] = shallow;
  EXPECT_NO_THROW(parse(j));
}

TEST(Config, OversizedFileIsRefusedUnread) {
  CheckpointBuilder b;
  auto dir = b.write();
  std::filesystem::resize_file(dir / "config.json", (16u << 20) + 1);  // sparse
  try {
    load_config(dir);
    ADD_FAILURE();
  } catch (const InputError& e) {
    expect_message(e.what(), {"config.json", "16777217 bytes", "limit"});
  }
}

TEST(GenerationDefaults, ReadWhenPresent) {
  CheckpointBuilder b;
  auto dir = b.write();
  EXPECT_FALSE(load_generation_defaults(dir).temperature);
  std::ofstream(dir / "generation_config.json")
      << R"({"do_sample": true, "temperature": 0.7, "top_k": 40, "top_p": 0.9,
            "repetition_penalty": 1.2, "max_new_tokens": 64, "eos_token_id": 15,
            "transformers_version": "4.26.0"})";
  auto d = load_generation_defaults(dir);
  EXPECT_EQ(d.do_sample, true);
  EXPECT_FLOAT_EQ(d.temperature.value(), 0.7f);
  EXPECT_EQ(d.top_k, 40);
  EXPECT_FLOAT_EQ(d.top_p.value(), 0.9f);
  EXPECT_FLOAT_EQ(d.repetition_penalty.value(), 1.2f);
  EXPECT_EQ(d.max_new_tokens, 64);
  EXPECT_EQ(d.eos_token_id, 15);
}

TEST(GenerationDefaults, BadValueNamesTheKey) {
  CheckpointBuilder b;
  auto dir = b.write();
  std::ofstream(dir / "generation_config.json") << R"({"top_k": "forty"})";
  try {
    load_generation_defaults(dir);
    ADD_FAILURE();
  } catch (const InputError& e) {
    expect_message(e.what(), {"generation_config.json", "top_k"});
  }
}

}  // namespace
}  // namespace sg::model
