#include "serve/completion_request.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "model/strict_json.hpp"
#include "serve/api_error.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::serve {

namespace {

using nlohmann::json;

// The largest max_tokens read before the model's context bounds it; keeps every later sum
// far from overflow.
constexpr std::int64_t kMaxTokensCap = 1 << 20;

// A value as an error message shows it: ASCII JSON, cut short (a client may send megabytes).
std::string shown(const json& v) {
  auto text = v.dump(-1, ' ', true);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

ApiError wrong_type(const std::string& param, const char* wanted, const json& v) {
  return invalid_request(param, std::string("must be ") + wanted + ", not " + v.type_name());
}

// The field, or null when absent or JSON null (the OpenAI API treats the two alike).
const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

double number(const json& body, const char* name, double lo, double hi) {
  const json& v = *field(body, name);
  if (!v.is_number()) throw wrong_type(name, "a number", v);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw invalid_request(name, "must be between " + json(lo).dump() + " and " + json(hi).dump() +
                                    ", not " + shown(v));
  return x;
}

std::int64_t integer(const json& body, const char* name, std::int64_t lo, std::int64_t hi) {
  const json& v = *field(body, name);
  auto out_of_range = [&] {
    return invalid_request(name, "must be between " + std::to_string(lo) + " and " +
                                     std::to_string(hi) + ", not " + shown(v));
  };
  std::int64_t x = 0;
  if (v.is_number_unsigned()) {
    if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) throw out_of_range();
    x = static_cast<std::int64_t>(v.get<std::uint64_t>());
  } else if (v.is_number_integer()) {
    x = v.get<std::int64_t>();
  } else if (v.is_number_float()) {
    // 16.0 is an integer as JSON numbers go; 16.5 is not.
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) throw wrong_type(name, "an integer", v);
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) throw out_of_range();
    x = static_cast<std::int64_t>(d);
  } else {
    throw wrong_type(name, "an integer", v);
  }
  if (x < lo || x > hi) throw out_of_range();
  return x;
}

bool boolean(const json& body, const char* name) {
  const json& v = *field(body, name);
  if (!v.is_boolean()) throw wrong_type(name, "a boolean", v);
  return v.get<bool>();
}

std::string string(const json& body, const char* name) {
  const json& v = *field(body, name);
  if (!v.is_string()) throw wrong_type(name, "a string", v);
  return v.get<std::string>();
}

std::vector<std::int32_t> token_ids(const json& array, const std::string& param) {
  std::vector<std::int32_t> ids;
  ids.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const json& t = array[i];
    const std::string at = param + "[" + std::to_string(i) + "]";
    if (!t.is_number_integer()) throw wrong_type(at, "a token id", t);
    if (t.is_number_unsigned()
            ? t.get<std::uint64_t>() > std::numeric_limits<std::int32_t>::max()
            : t.get<std::int64_t>() < 0 ||
                  t.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max())
      throw invalid_request(at, "is not a token id: " + shown(t));
    ids.push_back(static_cast<std::int32_t>(t.get<std::int64_t>()));
  }
  return ids;
}

// A string, an array of strings, an array of token ids, or an array of such arrays.
void read_prompt(const json& body, CompletionRequest& r) {
  const json* p = field(body, "prompt");
  if (!p) throw invalid_request("prompt", "is required");
  if (p->is_string()) {
    r.prompt_texts.push_back(p->get<std::string>());
    return;
  }
  if (!p->is_array() || p->empty())
    throw invalid_request("prompt",
                          "must be a string, an array of strings, an array of token ids or an "
                          "array of such arrays, and not empty");
  const json& first = p->front();
  if (first.is_number()) {
    r.prompt_is_ids = true;
    r.prompt_ids.push_back(token_ids(*p, "prompt"));
    return;
  }
  r.prompt_is_ids = first.is_array();
  for (std::size_t i = 0; i < p->size(); ++i) {
    const json& item = (*p)[i];
    const std::string at = "prompt[" + std::to_string(i) + "]";
    if (r.prompt_is_ids) {
      if (!item.is_array()) throw wrong_type(at, "an array of token ids, as prompt[0] is", item);
      r.prompt_ids.push_back(token_ids(item, at));
    } else {
      if (!item.is_string()) throw wrong_type(at, "a string, as prompt[0] is", item);
      r.prompt_texts.push_back(item.get<std::string>());
    }
  }
}

void read_stop(const json& body, CompletionRequest& r) {
  const json* s = field(body, "stop");
  if (!s) return;
  if (s->is_string()) {
    r.stop.push_back(s->get<std::string>());
  } else if (s->is_array()) {
    if (s->size() > kMaxStops)
      throw invalid_request("stop", "at most " + std::to_string(kMaxStops) + " sequences, not " +
                                        std::to_string(s->size()));
    for (std::size_t i = 0; i < s->size(); ++i) {
      if (!(*s)[i].is_string())
        throw wrong_type("stop[" + std::to_string(i) + "]", "a string", (*s)[i]);
      r.stop.push_back((*s)[i].get<std::string>());
    }
  } else {
    throw wrong_type("stop", "a string or an array of strings", *s);
  }
  for (const auto& x : r.stop)
    if (x.empty() || x.size() > kMaxStopBytes)
      throw invalid_request(
          "stop", "each sequence must be 1 to " + std::to_string(kMaxStopBytes) + " bytes long");
}

}  // namespace

CompletionRequest parse_completion_request(std::string_view body) {
  json j;
  try {
    j = model::parse_strict_json_object(body, "request body");
  } catch (const InputError& e) {
    // The parser quotes what it last read: maybe megabytes of one token, maybe invalid UTF-8.
    std::string why = e.what();
    if (why.size() > 200) why = why.substr(0, 197) + "...";
    why = tokenizer::utf8::replace_invalid(why);
    throw ApiError(400, "invalid_request_error", "the body is not a valid JSON object: " + why);
  }
  CompletionRequest r;
  if (!field(j, "model")) throw invalid_request("model", "is required");
  r.model = string(j, "model");
  read_prompt(j, r);
  if (field(j, "max_tokens")) r.max_tokens = integer(j, "max_tokens", 0, kMaxTokensCap);
  if (field(j, "temperature")) r.temperature = number(j, "temperature", 0, 2);
  if (field(j, "top_p")) r.top_p = number(j, "top_p", 0, 1);
  if (field(j, "presence_penalty")) r.presence_penalty = number(j, "presence_penalty", -2, 2);
  if (field(j, "frequency_penalty")) r.frequency_penalty = number(j, "frequency_penalty", -2, 2);
  if (field(j, "n")) r.n = integer(j, "n", 1, kMaxN);
  if (field(j, "best_of") && integer(j, "best_of", 1, kMaxN) != r.n)
    throw invalid_request("best_of", "is not supported other than equal to n");
  read_stop(j, r);
  if (const json* s = field(j, "seed")) {
    if (!s->is_number_integer()) throw wrong_type("seed", "an integer", *s);
    r.seed = s->is_number_unsigned() ? s->get<std::uint64_t>()
                                     : static_cast<std::uint64_t>(s->get<std::int64_t>());
  }
  if (field(j, "logprobs")) r.logprobs = static_cast<int>(integer(j, "logprobs", 0, kMaxLogprobs));
  if (field(j, "echo")) r.echo = boolean(j, "echo");
  if (field(j, "user")) r.user = string(j, "user");
  if (field(j, "stream")) r.stream = boolean(j, "stream");
  if (const json* o = field(j, "stream_options")) {
    if (!o->is_object()) throw wrong_type("stream_options", "an object", *o);
    if (!r.stream) throw invalid_request("stream_options", "needs stream: true");
    if (field(*o, "include_usage")) r.stream_include_usage = boolean(*o, "include_usage");
  }
  if (const json* s = field(j, "suffix"); s && !(s->is_string() && s->get<std::string>().empty()))
    throw invalid_request("suffix", "is not supported: GPT-1 and GPT-2 cannot insert text");
  if (const json* b = field(j, "logit_bias"); b && !(b->is_object() && b->empty()))
    throw invalid_request("logit_bias", "is not supported");
  if (r.prompt_count() * static_cast<std::size_t>(r.n) > kMaxChoices)
    throw invalid_request(
        "n", "prompts x n is " + std::to_string(r.prompt_count() * static_cast<std::size_t>(r.n)) +
                 "; at most " + std::to_string(kMaxChoices) + " per request");
  return r;
}

}  // namespace sg::serve
