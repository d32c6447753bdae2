// Store: release decisions, server requests and filter events.
#include "common/errors.hpp"
#include "db/store_impl.hpp"

namespace sg::db {

DecisionRecord Store::append_decision(DecisionRecord d, const DecisionSeal& seal) {
  auto& db = *impl_->db;
  constexpr std::string_view doing = "recording a decision";
  sqlite::Transaction tx(db, doing);
  ChainLink link;
  {
    sqlite::Query q(db, "SELECT sha256 FROM checkpoints WHERE id = ?", doing);
    q.bind(d.checkpoint_id);
    if (!q.next())
      throw InputError(impl_->where() + ": " + std::string(doing) + ": no checkpoint with id " +
                       std::to_string(d.checkpoint_id));
    link.checkpoint_sha256 = q.text(0);
  }
  {
    sqlite::Query q(db,
                    "SELECT id, hash, (SELECT count(*) FROM decisions) FROM decisions "
                    "ORDER BY id DESC LIMIT 1",
                    doing);
    if (q.next()) {
      if (q.is_null(1))
        throw InputError(impl_->where() + ": " + std::string(doing) + ": the last decision (id " +
                         std::to_string(q.integer(0)) +
                         ") has no hash, so a new one cannot be chained to it; "
                         "`stagegate verify` reports it");
      link.head_hash = q.text(1);
      link.sequence = q.integer(2);
    }
    ++link.sequence;
  }
  if (d.decided_at.empty()) {
    sqlite::Query q(db, "SELECT " SG_SQL_NOW, doing);
    q.next();
    d.decided_at = q.text(0);
  }
  seal(d, link);
  sqlite::Query(db,
                "INSERT INTO decisions (stage, checkpoint_id, decision, reason, policy_path, "
                "policy_hash, evidence_json, decided_by, decided_at, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                doing)
      .bind_all(d.stage, d.checkpoint_id, d.decision, d.reason, d.policy_path, d.policy_hash,
                d.evidence_json, d.decided_by, d.decided_at, d.prev_hash, d.hash)
      .run();
  d.id = sqlite3_last_insert_rowid(db.handle());
  tx.commit();
  return d;
}

std::vector<DecisionRecord> Store::decisions() {
  sqlite::Query q(*impl_->db,
                  "SELECT id, stage, checkpoint_id, decision, reason, policy_path, policy_hash, "
                  "evidence_json, decided_by, decided_at, prev_hash, hash FROM decisions "
                  "ORDER BY id",
                  "reading decisions");
  std::vector<DecisionRecord> out;
  while (q.next()) {
    DecisionRecord d;
    d.id = q.integer(0);
    d.stage = q.text(1);
    d.checkpoint_id = q.integer(2);
    d.decision = q.text(3);
    d.reason = q.text(4);
    d.policy_path = q.text(5);
    d.policy_hash = q.text(6);
    d.evidence_json = q.text(7);
    d.decided_by = q.text(8);
    d.decided_at = q.text(9);
    d.prev_hash = q.optional_text(10);
    d.hash = q.optional_text(11);
    out.push_back(std::move(d));
  }
  return out;
}

std::int64_t Store::add_server_request(const ServerRequestRecord& r) {
  return log_request(r, {});
}

std::int64_t Store::add_filter_event(const FilterEventRecord& e) {
  auto& db = *impl_->db;
  constexpr std::string_view doing = "recording a filter event";
  sqlite::Transaction tx(db, doing);
  // An audit's events are written with their sample (add_sample); a lone event of a run
  // still belongs to the process that works the run.
  if (e.run_id) impl_->require_lease(*e.run_id, doing);
  store_filter_event(db, e, doing);
  const std::int64_t id = sqlite3_last_insert_rowid(db.handle());
  tx.commit();
  return id;
}

std::vector<FilterEventRecord> Store::filter_events(std::int64_t run_id) {
  sqlite::Query q(*impl_->db,
                  "SELECT id, occurred_at, filter, action, run_id, sample_id, request_id, "
                  "token_position, detail_json FROM filter_events WHERE run_id = ? ORDER BY id",
                  "reading filter events");
  q.bind(run_id);
  std::vector<FilterEventRecord> out;
  while (q.next()) {
    FilterEventRecord e;
    e.id = q.integer(0);
    e.occurred_at = q.text(1);
    e.filter = q.text(2);
    e.action = q.text(3);
    e.run_id = q.optional_integer(4);
    e.sample_id = q.optional_integer(5);
    e.request_id = q.optional_integer(6);
    e.token_position = q.optional_integer(7);
    e.detail_json = q.text(8);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace sg::db
