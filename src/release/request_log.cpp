#include "release/request_log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "audit/decoding.hpp"

namespace sg::release {

std::string utc_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t seconds = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), buf, static_cast<int>(ms));
  return out;
}

db::ServerRequestRecord request_record(const std::string& endpoint, const std::string& stage,
                                       const std::string& audience,
                                       const std::string& prompt_sha256,
                                       std::int64_t prompt_tokens) {
  db::ServerRequestRecord r;
  r.received_at = utc_now();
  r.endpoint = endpoint;
  r.stage = stage;
  r.client = audience;
  r.prompt_sha256 = prompt_sha256;
  r.prompt_tokens = prompt_tokens;
  return r;
}

void mark_refused(db::ServerRequestRecord& request, const Policy& policy, const std::string& why) {
  request.finished_at = utc_now();
  request.status_code = 403;
  request.outcome = "refused";
  request.settings_json = nlohmann::json{
      {"policy", policy.file.string()},
      {"policy_sha256", policy.sha256},
      {"refused", why}}.dump();
}

void mark_served(db::ServerRequestRecord& request, const Policy& policy, const Grant& grant,
                 const FilteredDecoding& decoding, const engine::GenerationResult& result) {
  request.finished_at = utc_now();
  request.status_code = 200;
  request.completion_tokens = static_cast<std::int64_t>(result.tokens.size());
  request.finish_reasons_json = nlohmann::json::array({result.finish_reason}).dump();
  const bool acted = !result.events.empty() || result.finish_reason == "content_filter";
  request.outcome = acted ? "filtered" : "ok";
  auto filters = nlohmann::json::array();
  for (const auto* f : grant.filters)
    filters.push_back({{"name", f->name}, {"type", std::string(to_string(f->type))}});
  auto overrides = nlohmann::json::array();
  for (const auto& o : decoding.overrides)
    overrides.push_back(
        {{"filter", o.filter}, {"key", o.key}, {"requested", o.requested}, {"applied", o.applied}});
  // As a sample stores its settings: the six columns, and the others not at their defaults.
  const auto stored = audit::stored_decoding(decoding.decoding);
  auto settings = nlohmann::json::parse(stored.decoding_json);
  settings["temperature"] = stored.temperature;
  settings["top_k"] = stored.top_k;
  settings["top_p"] = stored.top_p;
  settings["repetition_penalty"] = stored.repetition_penalty;
  settings["no_repeat_ngram_size"] = stored.no_repeat_ngram_size;
  settings["max_tokens"] = stored.max_tokens;
  request.settings_json = nlohmann::json{
      {"policy", policy.file.string()},
      {"policy_sha256", policy.sha256},
      {"decision_id", grant.decision ? nlohmann::json(grant.decision->id) : nullptr},
      {"filters", filters},
      {"decoding", settings},
      {"overrides",
       overrides}}.dump();
}

std::vector<db::FilterEventRecord> event_records(const engine::GenerationResult& result) {
  std::vector<db::FilterEventRecord> out;
  for (const auto& e : result.events) {
    db::FilterEventRecord r;
    r.filter = e.filter;
    r.action = e.action;
    r.token_position = e.position;
    r.detail_json = e.detail_json;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sg::release
