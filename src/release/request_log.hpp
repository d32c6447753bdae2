// What gated generation records of each request (`stagegate generate --policy`, and serve):
// one server_requests row, with the filter events the generation caused, written together
// by db::Store::log_request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/records.hpp"
#include "engine/generator.hpp"
#include "release/access.hpp"
#include "release/policy_filters.hpp"

namespace sg::release {

// Now, as the store writes times: "2026-11-27T22:55:13.123Z".
std::string utc_now();

// The request's row before its outcome is known: where it came from and what it asked.
// `prompt_sha256`: the SHA-256 of the prompt text, or of its ids as "[1,2,3]" when given as
// ids (the log keeps no prompt text).
db::ServerRequestRecord request_record(const std::string& endpoint, const std::string& stage,
                                       const std::string& audience,
                                       const std::string& prompt_sha256,
                                       std::int64_t prompt_tokens);

// A refusal: outcome "refused", status 403, settings {"policy", "policy_sha256", "refused"}.
void mark_refused(db::ServerRequestRecord& request, const Policy& policy, const std::string& why);

// A generation under `grant`: outcome "filtered" when a filter acted (an event, or the
// completion refused), else "ok"; status 200; settings {"policy", "policy_sha256",
// "decision_id", "filters": [{"name", "type"}], "decoding": the settings that differ from
// the defaults, "overrides": [{"filter", "key", "requested", "applied"}]}.
void mark_served(db::ServerRequestRecord& request, const Policy& policy, const Grant& grant,
                 const FilteredDecoding& decoding, const engine::GenerationResult& result);

// The generation's filter events as rows of the request (request_id set by log_request).
std::vector<db::FilterEventRecord> event_records(const engine::GenerationResult& result);

}  // namespace sg::release
