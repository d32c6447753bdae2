// The body of POST /v1/completions (src/serve/completion_request.cpp), as any client on the
// network may send it: it is read or refused with a 400 whose OpenAI-shaped error prints as
// JSON, and a request that is read holds only values the server can act on.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "scratch_file.hpp"
#include "serve/api_error.hpp"
#include "serve/completion_request.hpp"

namespace {

using sg::fuzz::check;

bool in(const std::optional<double>& x, double lo, double hi) {
  return !x || (std::isfinite(*x) && *x >= lo && *x <= hi);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace serve = sg::serve;
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const auto r = serve::parse_completion_request(body);
    check(r.prompt_count() >= 1);
    check(r.prompt_is_ids ? r.prompt_texts.empty() : r.prompt_ids.empty());
    for (const auto& ids : r.prompt_ids)
      for (auto id : ids) check(id >= 0);
    check(r.n >= 1 && r.n <= serve::kMaxN);
    check(r.prompt_count() * static_cast<std::size_t>(r.n) <= serve::kMaxChoices);
    check(r.max_tokens >= 0 && r.max_tokens <= (1 << 20));
    check(in(r.temperature, 0, 2) && in(r.top_p, 0, 1));
    check(in(r.presence_penalty, -2, 2) && in(r.frequency_penalty, -2, 2));
    check(!r.logprobs || (*r.logprobs >= 0 && *r.logprobs <= serve::kMaxLogprobs));
    check(r.stop.size() <= serve::kMaxStops);
    for (const auto& s : r.stop) check(!s.empty() && s.size() <= serve::kMaxStopBytes);
    check(!r.stream_include_usage || r.stream);
    // Every text field is valid UTF-8: it prints as JSON without a repair.
    nlohmann::json texts{r.model, r.user, r.prompt_texts, r.stop};
    (void)texts.dump();
  } catch (const serve::ApiError& e) {
    check(e.status() == 400);
    check(e.body()["error"]["type"] == "invalid_request_error");
    check(e.body().dump().size() < 1000);  // a message never echoes a whole body
  }
  return 0;
}
