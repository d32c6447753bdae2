// Store: opening, integrity and checkpoints. Runs, samples and release records are in
// store_runs.cpp, store_samples.cpp and store_records.cpp.
#include "db/store.hpp"

#include "db/open.hpp"
#include "db/store_impl.hpp"

namespace sg::db {

Store::Store(const std::filesystem::path& file) : Store(file, Options{}) {}

Store::Store(const std::filesystem::path& file, const Options& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->me = current_process();
  impl_->db = open_store(file, options.busy_timeout, options.max_size_bytes);
}

Store::~Store() {
  // A process that unwinds (an error, Ctrl-C) without finishing its runs leaves them
  // resumable at once rather than waiting to be recognised as abandoned.
  while (impl_ && !impl_->leases.empty()) {
    const auto run_id = impl_->leases.begin()->first;
    try {
      finish_run(run_id, RunStatus::kInterrupted, "the process stopped before finishing the run");
    } catch (...) {
      impl_->leases.erase(run_id);  // the next claim recognises the process as gone
    }
  }
}

const std::filesystem::path& Store::file() const {
  return impl_->db->file();
}

int Store::latest_schema_version() {
  return latest_version();
}

std::vector<std::string> Store::integrity_check() {
  std::vector<std::string> problems;
  sqlite::Query q(*impl_->db, "PRAGMA integrity_check", "checking integrity");
  while (q.next())
    if (auto line = q.text(0); line != "ok") problems.push_back(line);
  sqlite::Query fk(*impl_->db, "PRAGMA foreign_key_check", "checking foreign keys");
  while (fk.next())
    problems.push_back("foreign key: row " + fk.text(1) + " of " + fk.text(0) +
                       " refers to a missing row of " + fk.text(2));
  return problems;
}

std::int64_t Store::upsert_checkpoint(const CheckpointRecord& c) {
  auto& db = *impl_->db;
  constexpr std::string_view doing = "recording a checkpoint";
  sqlite::Transaction tx(db, doing);
  sqlite::Query(db,
                "INSERT INTO checkpoints (sha256, path, family, stage, architecture, parameters, "
                "config_json, first_seen_at, last_seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, " SG_SQL_NOW ", " SG_SQL_NOW
                ") "
                "ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, "
                "family = excluded.family, stage = excluded.stage, "
                "architecture = excluded.architecture, parameters = excluded.parameters, "
                "config_json = excluded.config_json, last_seen_at = excluded.last_seen_at",
                doing)
      .bind_all(c.sha256, c.path, c.family, c.stage, c.architecture, c.parameters, c.config_json)
      .run();
  sqlite::Query q(db, "SELECT id FROM checkpoints WHERE sha256 = ?", doing);
  q.bind(c.sha256);
  q.next();
  const auto id = q.integer(0);
  tx.commit();
  return id;
}

namespace {

constexpr const char* kCheckpointColumns =
    "SELECT id, sha256, path, family, stage, architecture, parameters, config_json, "
    "first_seen_at, last_seen_at FROM checkpoints ";

std::optional<CheckpointRecord> read_checkpoint(sqlite::Query& q) {
  if (!q.next()) return std::nullopt;
  CheckpointRecord c;
  c.id = q.integer(0);
  c.sha256 = q.text(1);
  c.path = q.text(2);
  c.family = q.text(3);
  c.stage = q.text(4);
  c.architecture = q.text(5);
  c.parameters = q.integer(6);
  c.config_json = q.text(7);
  c.first_seen_at = q.text(8);
  c.last_seen_at = q.text(9);
  return c;
}

}  // namespace

std::optional<CheckpointRecord> Store::checkpoint(std::int64_t id) {
  sqlite::Query q(*impl_->db, std::string(kCheckpointColumns) + "WHERE id = ?",
                  "reading a checkpoint");
  q.bind(id);
  return read_checkpoint(q);
}

std::optional<CheckpointRecord> Store::checkpoint_by_sha256(std::string_view sha256) {
  sqlite::Query q(*impl_->db, std::string(kCheckpointColumns) + "WHERE sha256 = ?",
                  "reading a checkpoint");
  q.bind(sha256);
  return read_checkpoint(q);
}

}  // namespace sg::db
