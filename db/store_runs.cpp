// Store: audit runs and who works them (leases). See process_identity.hpp for why a lease
// is judged by its holder's process identity rather than by a timeout.
#include "db/errors.hpp"
#include "db/store_impl.hpp"

namespace sg::db {

namespace {

constexpr std::string_view kRunSelect =
    "SELECT r.id, r.checkpoint_id, c.sha256, c.stage, r.plan_path, r.plan_hash, "
    "r.tool_version, r.tool_commit, r.device, r.status, r.started_at, r.ended_at, r.error, "
    "r.samples_planned, (SELECT count(*) FROM samples s WHERE s.run_id = r.id), "
    "l.host, l.pid, l.acquired_at, l.heartbeat_at "
    "FROM audit_runs r JOIN checkpoints c ON c.id = r.checkpoint_id "
    "LEFT JOIN run_leases l ON l.run_id = r.id ";

RunStatus status_from(const std::string& text) {
  if (text == "running") return RunStatus::kRunning;
  if (text == "interrupted") return RunStatus::kInterrupted;
  if (text == "completed") return RunStatus::kCompleted;
  if (text == "failed") return RunStatus::kFailed;
  if (text == "abandoned") return RunStatus::kAbandoned;
  throw RuntimeError("unknown run status '" + text + "' in the store");
}

RunInfo read_run(const sqlite::Query& q) {
  RunInfo r;
  r.id = q.integer(0);
  r.checkpoint_id = q.integer(1);
  r.checkpoint_sha256 = q.text(2);
  r.stage = q.text(3);
  r.plan_path = q.text(4);
  r.plan_hash = q.text(5);
  r.tool_version = q.text(6);
  r.tool_commit = q.text(7);
  r.device = q.text(8);
  r.status = status_from(q.text(9));
  r.started_at = q.text(10);
  r.ended_at = q.optional_text(11);
  r.error = q.text(12);
  r.samples_planned = q.integer(13);
  r.samples_done = q.integer(14);
  if (!q.is_null(15)) r.lease = Lease{q.text(15), q.integer(16), q.text(17), q.text(18)};
  return r;
}

std::vector<RunInfo> read_runs(sqlite::Query& q) {
  std::vector<RunInfo> out;
  while (q.next()) out.push_back(read_run(q));
  return out;
}

struct LeaseRow {
  std::string token;
  ProcessIdentity holder;
  Lease lease;
  double heartbeat_age_s = 0;
};

std::optional<LeaseRow> read_lease(sqlite::Connection& db, std::int64_t run_id,
                                   std::string_view doing) {
  sqlite::Query q(db,
                  "SELECT token, host, boot_id, pid, pid_start, acquired_at, heartbeat_at, "
                  "(julianday('now') - julianday(heartbeat_at)) * 86400.0 "
                  "FROM run_leases WHERE run_id = ?",
                  doing);
  q.bind(run_id);
  if (!q.next()) return std::nullopt;
  LeaseRow row;
  row.token = q.text(0);
  row.holder = {q.text(1), q.text(2), q.integer(3), q.integer(4)};
  row.lease = {q.text(1), q.integer(3), q.text(5), q.text(6)};
  row.heartbeat_age_s = q.real(7);
  return row;
}

bool holder_alive(const LeaseRow& row, std::chrono::seconds foreign_timeout) {
  switch (liveness(row.holder)) {
    case Liveness::kAlive:
      return true;
    case Liveness::kDead:
      return false;
    case Liveness::kUnknown:
      break;
  }
  return row.heartbeat_age_s < static_cast<double>(foreign_timeout.count());
}

std::string describe(const Lease& lease) {
  return "pid " + std::to_string(lease.pid) + " on " + lease.host;
}

// Inside a write transaction: a 'running' run whose holder is gone becomes 'interrupted'.
// Returns the dead holder's lease (nullopt when the run was not abandoned).
std::optional<Lease> mark_if_abandoned(sqlite::Connection& db, std::int64_t run_id,
                                       const std::optional<LeaseRow>& lease,
                                       std::chrono::seconds foreign_timeout,
                                       std::string_view doing) {
  if (lease && holder_alive(*lease, foreign_timeout)) return std::nullopt;
  std::string why = "the process working the run stopped without finishing it";
  if (lease)
    why += " (" + describe(lease->lease) + ", last heard of " + lease->lease.heartbeat_at + ")";
  sqlite::Query(
      db,
      "UPDATE audit_runs SET status = 'interrupted', error = ?, "
      "ended_at = coalesce((SELECT heartbeat_at FROM run_leases WHERE run_id = ?), " SG_SQL_NOW
      ") WHERE id = ? AND status = 'running'",
      doing)
      .bind_all(why, run_id, run_id)
      .run();
  sqlite::Query(db, "DELETE FROM run_leases WHERE run_id = ?", doing).bind(run_id).run();
  return lease ? std::optional<Lease>(lease->lease) : Lease{};
}

void insert_lease(sqlite::Connection& db, std::int64_t run_id, const std::string& token,
                  const ProcessIdentity& me, std::string_view doing) {
  sqlite::Query(db,
                "INSERT INTO run_leases (run_id, token, host, boot_id, pid, pid_start, "
                "acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, " SG_SQL_NOW ", " SG_SQL_NOW
                ")",
                doing)
      .bind_all(run_id, token, me.host, me.boot_id, me.pid, me.start_ticks)
      .run();
}

}  // namespace

std::string_view to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kInterrupted:
      return "interrupted";
    case RunStatus::kCompleted:
      return "completed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kAbandoned:
      return "abandoned";
  }
  return "unknown";
}

void Store::Impl::require_lease(std::int64_t run_id, std::string_view doing) {
  auto held = leases.find(run_id);
  if (held == leases.end())
    throw LeaseLostError(where() + ": run " + std::to_string(run_id) +
                         " is not claimed by this process; claim it before writing to it");
  const auto row = read_lease(*db, run_id, doing);
  if (!row || row->token != held->second) {
    leases.erase(held);
    throw LeaseLostError(where() + ": run " + std::to_string(run_id) +
                         " was taken over by another process" +
                         (row ? " (" + describe(row->lease) + ")" : std::string()) +
                         " that presumed this one dead; nothing more was written");
  }
  sqlite::Query(*db, "UPDATE run_leases SET heartbeat_at = " SG_SQL_NOW " WHERE run_id = ?", doing)
      .bind(run_id)
      .run();
}

std::int64_t Store::Impl::insert_run(const NewRun& run, std::string_view doing) {
  sqlite::Query(*db,
                "INSERT INTO audit_runs (checkpoint_id, plan_path, plan_hash, plan_text, "
                "tool_version, tool_commit, device, status, samples_planned, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, " SG_SQL_NOW ")",
                doing)
      .bind_all(run.checkpoint_id, run.plan_path, run.plan_hash, run.plan_text, run.tool_version,
                run.tool_commit, run.device, run.samples_planned)
      .run();
  const std::int64_t id = sqlite3_last_insert_rowid(db->handle());
  take_lease(id, doing);
  return id;
}

void Store::Impl::take_lease(std::int64_t run_id, std::string_view doing) {
  const std::string token = new_lease_token();
  insert_lease(*db, run_id, token, me, doing);
  pending_leases[run_id] = token;
}

// Inside a write transaction: what claim_run does.
ClaimResult Store::Impl::claim(std::int64_t run_id, std::string_view status,
                               std::string_view doing) {
  ClaimResult result;
  if (status == "completed" || status == "abandoned") {
    result.outcome = ClaimResult::Outcome::kCompleted;
    return result;
  }
  const auto lease = read_lease(*db, run_id, doing);
  if (lease) {
    auto held = leases.find(run_id);
    if (held != leases.end() && held->second == lease->token) return result;  // ours
    if (holder_alive(*lease, options.foreign_lease_timeout)) {
      result.outcome = ClaimResult::Outcome::kHeld;
      result.holder = lease->lease;
      return result;
    }
  }
  if (status == "running" || lease) {
    auto dead = mark_if_abandoned(*db, run_id, lease, options.foreign_lease_timeout, doing);
    result.recovered = true;
    if (dead && dead->pid != 0) result.holder = dead;
  }
  sqlite::Query(*db,
                "UPDATE audit_runs SET status = 'running', ended_at = NULL, error = '' "
                "WHERE id = ?",
                doing)
      .bind(run_id)
      .run();
  take_lease(run_id, doing);
  return result;
}

// Leases taken in a transaction count as held only once it commits.
void Store::Impl::commit_leases() {
  for (auto& [run, token] : pending_leases) leases[run] = std::move(token);
  pending_leases.clear();
}

StartRunResult Store::start_run(const NewRun& run, bool fresh) {
  auto& db = *impl_->db;
  constexpr std::string_view doing = "starting an audit run";
  impl_->pending_leases.clear();
  sqlite::Transaction tx(db, doing);
  std::optional<std::int64_t> unfinished;
  std::string unfinished_status;
  bool latest_completed = false;
  {
    sqlite::Query q(db,
                    "SELECT id, status FROM audit_runs WHERE checkpoint_id = ? AND plan_hash = ? "
                    "AND status <> 'abandoned' ORDER BY id DESC",
                    doing);
    q.bind_all(run.checkpoint_id, run.plan_hash);
    while (q.next()) {
      const std::string status = q.text(1);
      if (status == "completed") {
        if (!unfinished) latest_completed = true;
        break;
      }
      unfinished = q.integer(0);
      unfinished_status = status;
    }
  }
  StartRunResult result;
  if (unfinished) {
    auto claimed = impl_->claim(*unfinished, unfinished_status, doing);
    if (claimed.outcome == ClaimResult::Outcome::kHeld) {
      result.outcome = StartRunResult::Outcome::kHeld;
      result.run_id = *unfinished;
      result.holder = claimed.holder;
      return result;
    }
    if (!fresh) {
      tx.commit();
      impl_->commit_leases();
      result.outcome = StartRunResult::Outcome::kResumed;
      result.run_id = *unfinished;
      result.recovered = claimed.recovered;
      result.holder = claimed.holder;
      return result;
    }
    // Claimed only to be sure nobody works it: now superseded.
    sqlite::Query(db,
                  "UPDATE audit_runs SET status = 'abandoned', ended_at = " SG_SQL_NOW
                  ", error = 'superseded by a new run (--new-run)' WHERE id = ?",
                  doing)
        .bind(*unfinished)
        .run();
    sqlite::Query(db, "DELETE FROM run_leases WHERE run_id = ?", doing).bind(*unfinished).run();
    impl_->pending_leases.erase(*unfinished);
    impl_->leases.erase(*unfinished);
    result.abandoned_run = unfinished;
  } else if (latest_completed && !fresh) {
    sqlite::Query q(db,
                    "SELECT id FROM audit_runs WHERE checkpoint_id = ? AND plan_hash = ? "
                    "AND status = 'completed' ORDER BY id DESC LIMIT 1",
                    doing);
    q.bind_all(run.checkpoint_id, run.plan_hash);
    q.next();
    result.outcome = StartRunResult::Outcome::kCompleted;
    result.run_id = q.integer(0);
    return result;
  }
  result.run_id = impl_->insert_run(run, doing);
  tx.commit();
  impl_->commit_leases();
  return result;
}

std::optional<RunInfo> Store::run(std::int64_t run_id) {
  sqlite::Query q(*impl_->db, std::string(kRunSelect) + "WHERE r.id = ?", "reading a run");
  q.bind(run_id);
  if (!q.next()) return std::nullopt;
  return read_run(q);
}

std::vector<RunInfo> Store::runs() {
  sqlite::Query q(*impl_->db, std::string(kRunSelect) + "ORDER BY r.id DESC", "listing runs");
  return read_runs(q);
}

ClaimResult Store::claim_run(std::int64_t run_id) {
  auto& db = *impl_->db;
  constexpr std::string_view doing = "claiming a run";
  impl_->pending_leases.clear();
  sqlite::Transaction tx(db, doing);
  std::string status;
  {
    sqlite::Query q(db, "SELECT status FROM audit_runs WHERE id = ?", doing);
    q.bind(run_id);
    if (!q.next()) throw InputError(impl_->where() + ": no audit run " + std::to_string(run_id));
    status = q.text(0);
  }
  auto result = impl_->claim(run_id, status, doing);
  if (result.outcome == ClaimResult::Outcome::kClaimed) {
    tx.commit();
    impl_->commit_leases();
  }
  return result;
}

std::vector<std::int64_t> Store::recover_abandoned_runs() {
  auto& db = *impl_->db;
  constexpr std::string_view doing = "recovering abandoned runs";
  sqlite::Transaction tx(db, doing);
  std::vector<std::int64_t> running;
  {
    sqlite::Query q(db, "SELECT id FROM audit_runs WHERE status = 'running' ORDER BY id", doing);
    while (q.next()) running.push_back(q.integer(0));
  }
  std::vector<std::int64_t> recovered;
  for (auto id : running) {
    const auto lease = read_lease(db, id, doing);
    if (mark_if_abandoned(db, id, lease, impl_->options.foreign_lease_timeout, doing))
      recovered.push_back(id);
  }
  tx.commit();
  return recovered;
}

void Store::heartbeat(std::int64_t run_id) {
  constexpr std::string_view doing = "recording a heartbeat";
  sqlite::Transaction tx(*impl_->db, doing);
  impl_->require_lease(run_id, doing);
  tx.commit();
}

void Store::finish_run(std::int64_t run_id, RunStatus status, std::string_view error) {
  if (status == RunStatus::kRunning)
    throw std::invalid_argument("finish_run: a finished run is not 'running'");
  auto& db = *impl_->db;
  constexpr std::string_view doing = "finishing a run";
  sqlite::Transaction tx(db, doing);
  impl_->require_lease(run_id, doing);
  if (status == RunStatus::kCompleted) {
    sqlite::Query q(db,
                    "SELECT samples_planned, (SELECT count(*) FROM samples WHERE run_id = ?) "
                    "FROM audit_runs WHERE id = ?",
                    doing);
    q.bind_all(run_id, run_id);
    q.next();
    if (q.integer(1) < q.integer(0))
      throw RuntimeError(impl_->where() + ": run " + std::to_string(run_id) + " holds " +
                         std::to_string(q.integer(1)) + " of its " + std::to_string(q.integer(0)) +
                         " planned samples; it cannot be completed");
  }
  sqlite::Query(db,
                "UPDATE audit_runs SET status = ?, ended_at = " SG_SQL_NOW
                ", error = ? "
                "WHERE id = ?",
                doing)
      .bind_all(to_string(status), error, run_id)
      .run();
  sqlite::Query(db, "DELETE FROM run_leases WHERE run_id = ?", doing).bind(run_id).run();
  tx.commit();
  impl_->leases.erase(run_id);
}

}  // namespace sg::db
