// The body of POST /v1/completions (src/serve/completion_request.cpp): every field the OpenAI
// API defines is read with its type and range checked, unknown fields are ignored, and each
// refusal is a 400 naming the field in the OpenAI error shape.
#include <gtest/gtest.h>

#include <string>

#include "serve/api_error.hpp"
#include "serve/completion_request.hpp"

namespace sg::serve {
namespace {

// The refusal of `body`; fails the test when it is accepted.
ApiError refusal(const std::string& body) {
  try {
    parse_completion_request(body);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << body;
  return ApiError(0, "", "");
}

TEST(CompletionRequest, ReadsEveryField) {
  const auto r = parse_completion_request(R"({
    "model": "stage2", "prompt": ["Hello", "World"], "max_tokens": 32, "temperature": 0.7,
    "top_p": 0.9, "n": 3, "stop": ["\n", "END"], "seed": -1, "presence_penalty": 0.5,
    "frequency_penalty": -0.5, "logprobs": 2, "echo": false, "user": "alice",
    "stream": true, "stream_options": {"include_usage": true}, "best_of": 3,
    "some_future_field": {"ignored": [1, 2]}})");
  EXPECT_EQ(r.model, "stage2");
  EXPECT_EQ(r.prompt_texts, (std::vector<std::string>{"Hello", "World"}));
  EXPECT_FALSE(r.prompt_is_ids);
  EXPECT_EQ(r.max_tokens, 32);
  EXPECT_DOUBLE_EQ(*r.temperature, 0.7);
  EXPECT_DOUBLE_EQ(*r.top_p, 0.9);
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_EQ(*r.seed, ~std::uint64_t{0});
  EXPECT_DOUBLE_EQ(*r.presence_penalty, 0.5);
  EXPECT_DOUBLE_EQ(*r.frequency_penalty, -0.5);
  EXPECT_EQ(*r.logprobs, 2);
  EXPECT_EQ(r.user, "alice");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.stream_include_usage);
  EXPECT_EQ(r.prompt_count(), 2u);
}

TEST(CompletionRequest, DefaultsAreTheOpenAiApis) {
  const auto r = parse_completion_request(R"({"model": "m", "prompt": "x", "top_p": null})");
  EXPECT_EQ(r.max_tokens, 16);
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.temperature);
  EXPECT_FALSE(r.top_p) << "null is the same as absent";
  EXPECT_FALSE(r.seed);
  EXPECT_FALSE(r.logprobs);
  EXPECT_FALSE(r.stream);
  EXPECT_TRUE(r.stop.empty());
}

TEST(CompletionRequest, PromptsMayBeTokenIds) {
  auto one = parse_completion_request(R"({"model": "m", "prompt": [464, 3290]})");
  ASSERT_TRUE(one.prompt_is_ids);
  EXPECT_EQ(one.prompt_ids, (std::vector<std::vector<std::int32_t>>{{464, 3290}}));
  auto two = parse_completion_request(R"({"model": "m", "prompt": [[1], [2, 3]]})");
  ASSERT_TRUE(two.prompt_is_ids);
  EXPECT_EQ(two.prompt_ids.size(), 2u);
  EXPECT_EQ(refusal(R"({"model": "m", "prompt": [1, -2]})").param(), "prompt[1]");
  EXPECT_EQ(refusal(R"({"model": "m", "prompt": [[1], "a"]})").param(), "prompt[1]");
  EXPECT_EQ(refusal(R"({"model": "m", "prompt": ["a", [1]]})").param(), "prompt[1]");
  EXPECT_EQ(refusal(R"({"model": "m", "prompt": [4294967296]})").param(), "prompt[0]");
  EXPECT_EQ(refusal(R"({"model": "m", "prompt": []})").param(), "prompt");
}

TEST(CompletionRequest, EachBadFieldIsA400NamingIt) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"prompt": "x"})", "model"},
      {R"({"model": 3, "prompt": "x"})", "model"},
      {R"({"model": "m"})", "prompt"},
      {R"({"model": "m", "prompt": 5})", "prompt"},
      {R"({"model": "m", "prompt": "x", "max_tokens": -1})", "max_tokens"},
      {R"({"model": "m", "prompt": "x", "max_tokens": "16"})", "max_tokens"},
      {R"({"model": "m", "prompt": "x", "max_tokens": 1.5})", "max_tokens"},
      {R"({"model": "m", "prompt": "x", "max_tokens": 1e300})", "max_tokens"},
      {R"({"model": "m", "prompt": "x", "max_tokens": 18446744073709551615})", "max_tokens"},
      {R"({"model": "m", "prompt": "x", "temperature": 2.5})", "temperature"},
      {R"({"model": "m", "prompt": "x", "temperature": -0.1})", "temperature"},
      {R"({"model": "m", "prompt": "x", "top_p": 1.01})", "top_p"},
      {R"({"model": "m", "prompt": "x", "top_p": true})", "top_p"},
      {R"({"model": "m", "prompt": "x", "n": 0})", "n"},
      {R"({"model": "m", "prompt": "x", "n": 1000000})", "n"},
      {R"({"model": "m", "prompt": "x", "presence_penalty": 3})", "presence_penalty"},
      {R"({"model": "m", "prompt": "x", "frequency_penalty": -2.5})", "frequency_penalty"},
      {R"({"model": "m", "prompt": "x", "stop": ["a", "b", "c", "d", "e"]})", "stop"},
      {R"({"model": "m", "prompt": "x", "stop": [""]})", "stop"},
      {R"({"model": "m", "prompt": "x", "stop": [1]})", "stop[0]"},
      {R"({"model": "m", "prompt": "x", "seed": 1.5})", "seed"},
      {R"({"model": "m", "prompt": "x", "logprobs": 6})", "logprobs"},
      {R"({"model": "m", "prompt": "x", "echo": 1})", "echo"},
      {R"({"model": "m", "prompt": "x", "stream": "yes"})", "stream"},
      {R"({"model": "m", "prompt": "x", "stream_options": {"include_usage": true}})",
       "stream_options"},
      {R"({"model": "m", "prompt": "x", "user": ["a"]})", "user"},
      {R"({"model": "m", "prompt": "x", "best_of": 2})", "best_of"},
      {R"({"model": "m", "prompt": "x", "suffix": "tail"})", "suffix"},
      {R"({"model": "m", "prompt": "x", "logit_bias": {"50256": -100}})", "logit_bias"},
      {R"({"model": "m", "prompt": ["a", "b", "c", "d", "e"], "n": 16})", "n"},
  };
  for (const auto& [body, param] : cases) {
    const auto e = refusal(body);
    EXPECT_EQ(e.status(), 400) << body;
    EXPECT_EQ(e.param(), param) << body;
    EXPECT_NE(std::string(e.what()).find(param), std::string::npos) << e.what();
    const auto json = e.body();
    EXPECT_EQ(json["error"]["type"], "invalid_request_error");
    EXPECT_EQ(json["error"]["param"], param);
    EXPECT_TRUE(json["error"]["code"].is_null());
  }
}

TEST(CompletionRequest, BodiesThatAreNotAJsonObjectAreRefused) {
  const std::vector<std::string> bodies = {
      "",
      "{",
      "[]",
      "\"x\"",
      "{\"model\": \"m\", \"model\": \"n\", \"prompt\": \"x\"}",
      "{\"model\": \"m\", \"prompt\": \"\xff\"}",
      std::string(200, '[')};
  for (const auto& body : bodies) {
    const auto e = refusal(body);
    EXPECT_EQ(e.status(), 400) << body;
    EXPECT_TRUE(e.param().empty() || e.param() == "prompt") << body;
    EXPECT_NO_THROW(e.body().dump()) << "the message must be valid UTF-8: " << body;
  }
}

TEST(CompletionRequest, HugeValuesAreShownShort) {
  const std::string big(100000, '7');
  const auto e = refusal(R"({"model": "m", "prompt": "x", "n": )" + big + "}");
  EXPECT_LT(std::string(e.what()).size(), 300u);
}

}  // namespace
}  // namespace sg::serve
