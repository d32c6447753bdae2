// Store: a generation request logged with its filter events (gated generation, serve).
#include <stdexcept>

#include "db/store_impl.hpp"

namespace sg::db {

std::int64_t Store::log_request(const ServerRequestRecord& r,
                                const std::vector<FilterEventRecord>& events) {
  for (const auto& e : events)
    if (e.run_id || e.sample_id)
      throw std::invalid_argument("log_request: filter event '" + e.filter +
                                  "' belongs to an audit run, not to a request");
  auto& db = *impl_->db;
  constexpr std::string_view doing = "logging a request with its filter events";
  sqlite::Transaction tx(db, doing);
  sqlite::Query(db,
                "INSERT INTO server_requests (received_at, finished_at, checkpoint_id, stage, "
                "client, endpoint, prompt_sha256, prompt_tokens, completion_tokens, "
                "status_code, outcome, settings_json, key_id, finish_reasons_json, latency_ms, "
                "completion_sha256, prompt_text, completion_text) "
                "VALUES (coalesce(nullif(?, ''), " SG_SQL_NOW
                "), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                doing)
      .bind_all(r.received_at, r.finished_at, r.checkpoint_id, r.stage, r.client, r.endpoint,
                r.prompt_sha256, r.prompt_tokens, r.completion_tokens, r.status_code, r.outcome,
                r.settings_json, r.key_id, r.finish_reasons_json, r.latency_ms, r.completion_sha256,
                r.prompt_text, r.completion_text)
      .run();
  const std::int64_t id = sqlite3_last_insert_rowid(db.handle());
  for (auto e : events) {
    e.request_id = id;
    store_filter_event(db, e, doing);
  }
  tx.commit();
  return id;
}

}  // namespace sg::db
