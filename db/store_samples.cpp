// Store: prompts, samples with their metrics, and run aggregates.
#include <cmath>
#include <map>
#include <stdexcept>

#include "db/errors.hpp"
#include "db/json_arrays.hpp"
#include "db/store_impl.hpp"

namespace sg::db {

namespace {

std::string describe(const SampleKey& k) {
  return "(strategy '" + k.strategy + "', prompt '" + k.prompt_id + "', sample " +
         std::to_string(k.sample_index) + ")";
}

void check_sample(const SampleRecord& s) {
  const std::string what = "sample " + describe(s.key);
  // A generated sample has a log-prob per new token; a scored text ("scored") none for its
  // first token, which is context only.
  const std::size_t context_only = s.finish_reason == "scored" ? 1 : 0;
  if (s.token_ids.size() != s.logprobs.size() + context_only)
    throw std::invalid_argument(what + ": " + std::to_string(s.token_ids.size()) +
                                " token ids but " + std::to_string(s.logprobs.size()) +
                                " log-probs");
  for (double lp : s.logprobs)
    if (!std::isfinite(lp)) throw std::invalid_argument(what + ": a log-prob is not finite");
  for (const auto& m : s.metrics)
    if (!std::isfinite(m.value))
      throw std::invalid_argument(what + ": metric " + m.metric + " is not finite");
  for (const auto& e : s.evidence) {
    const auto size = static_cast<std::int64_t>(s.text.size());
    if (e.start_byte.has_value() != e.end_byte.has_value() ||
        (e.start_byte &&
         !(0 <= *e.start_byte && *e.start_byte <= *e.end_byte && *e.end_byte <= size)))
      throw std::invalid_argument(what + ": evidence '" + e.kind + "' of " + e.detector +
                                  " has a byte range outside the text");
  }
  if (s.key.sample_index < 0) throw std::invalid_argument(what + ": negative sample index");
}

void insert_filter_event(sqlite::Connection& db, const FilterEventRecord& e,
                         std::optional<std::int64_t> run_id, std::optional<std::int64_t> sample_id,
                         std::string_view doing) {
  sqlite::Query(db,
                "INSERT INTO filter_events (occurred_at, filter, action, run_id, sample_id, "
                "request_id, token_position, detail_json) "
                "VALUES (coalesce(nullif(?, ''), " SG_SQL_NOW "), ?, ?, ?, ?, ?, ?, ?)",
                doing)
      .bind_all(e.occurred_at, e.filter, e.action, run_id, sample_id, e.request_id,
                e.token_position, e.detail_json)
      .run();
}

}  // namespace

// Shared with store_records.cpp.
void store_filter_event(sqlite::Connection& db, const FilterEventRecord& e,
                        std::string_view doing) {
  insert_filter_event(db, e, e.run_id, e.sample_id, doing);
}

void Store::add_prompts(std::int64_t run_id, const std::vector<PromptRecord>& prompts) {
  auto& db = *impl_->db;
  constexpr std::string_view doing = "storing prompts";
  sqlite::Transaction tx(db, doing);
  impl_->require_lease(run_id, doing);
  for (const auto& p : prompts) {
    sqlite::Query(db,
                  "INSERT INTO prompts (run_id, prompt_key, source, text) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT (run_id, prompt_key) DO NOTHING",
                  doing)
        .bind_all(run_id, p.id, p.source, p.text)
        .run();
    if (sqlite3_changes(db.handle()) != 0) continue;
    sqlite::Query q(db, "SELECT source, text FROM prompts WHERE run_id = ? AND prompt_key = ?",
                    doing);
    q.bind_all(run_id, p.id);
    q.next();
    if (q.text(0) != p.source || q.text(1) != p.text)
      throw RuntimeError(impl_->where() + ": prompt '" + p.id + "' of run " +
                         std::to_string(run_id) + " is already stored with another " +
                         (q.text(0) != p.source ? "source" : "text"));
  }
  tx.commit();
}

std::vector<PromptRecord> Store::prompts(std::int64_t run_id) {
  sqlite::Query q(*impl_->db,
                  "SELECT prompt_key, source, text FROM prompts WHERE run_id = ? ORDER BY id",
                  "reading prompts");
  q.bind(run_id);
  std::vector<PromptRecord> out;
  while (q.next()) out.push_back({q.text(0), q.text(1), q.text(2)});
  return out;
}

std::set<SampleKey> Store::existing_sample_keys(std::int64_t run_id) {
  sqlite::Query q(*impl_->db,
                  "SELECT s.strategy, p.prompt_key, s.sample_index FROM samples s "
                  "JOIN prompts p ON p.id = s.prompt_id WHERE s.run_id = ?",
                  "reading stored sample keys");
  q.bind(run_id);
  std::set<SampleKey> keys;
  while (q.next()) keys.insert({q.text(0), q.text(1), q.integer(2)});
  return keys;
}

std::int64_t Store::add_sample(const SampleRecord& s) {
  check_sample(s);
  auto& db = *impl_->db;
  constexpr std::string_view doing = "storing a sample";
  sqlite::Transaction tx(db, doing);
  impl_->require_lease(s.run_id, doing);
  std::int64_t prompt_row = 0;
  {
    sqlite::Query q(db, "SELECT id FROM prompts WHERE run_id = ? AND prompt_key = ?", doing);
    q.bind_all(s.run_id, s.key.prompt_id);
    if (!q.next())
      throw RuntimeError(impl_->where() + ": run " + std::to_string(s.run_id) + " has no prompt '" +
                         s.key.prompt_id + "'; store the prompts before their samples");
    prompt_row = q.integer(0);
  }
  const auto& d = s.settings;
  try {
    sqlite::Query(db,
                  "INSERT INTO samples (run_id, strategy, prompt_id, sample_index, seed, "
                  "temperature, top_k, top_p, repetition_penalty, no_repeat_ngram_size, "
                  "max_tokens, token_ids, text, logprobs, finish_reason, created_at, "
                  "decoding_json) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " SG_SQL_NOW ", ?)",
                  doing)
        .bind_all(s.run_id, s.key.strategy, prompt_row, s.key.sample_index, std::to_string(s.seed),
                  d.temperature, d.top_k, d.top_p, d.repetition_penalty, d.no_repeat_ngram_size,
                  d.max_tokens, to_json_array(s.token_ids), s.text, to_json_array(s.logprobs),
                  s.finish_reason, d.decoding_json)
        .run();
  } catch (const ConstraintError& e) {
    if (e.sqlite_code() != SQLITE_CONSTRAINT_UNIQUE) throw;
    throw DuplicateSampleError(impl_->where() + ": run " + std::to_string(s.run_id) +
                               " already holds sample " + describe(s.key) +
                               "; nothing was written");
  }
  const std::int64_t id = sqlite3_last_insert_rowid(db.handle());
  for (const auto& m : s.metrics) {
    sqlite::Query(db, "INSERT INTO sample_metrics (sample_id, metric, value) VALUES (?, ?, ?)",
                  doing)
        .bind_all(id, m.metric, m.value)
        .run();
  }
  for (const auto& e : s.filter_events) insert_filter_event(db, e, s.run_id, id, doing);
  for (const auto& e : s.evidence) {
    sqlite::Query(db,
                  "INSERT INTO sample_evidence (sample_id, detector, metric, kind, start_byte, "
                  "end_byte, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  doing)
        .bind_all(id, e.detector, e.metric, e.kind, e.start_byte, e.end_byte, e.detail_json)
        .run();
  }
  tx.commit();
  return id;
}

std::vector<SampleRecord> Store::samples(std::int64_t run_id) {
  SampleSelection all;
  all.tokens = all.text = all.logprobs = true;
  all.metric_prefix = "";
  return select_samples(run_id, all);
}

std::vector<SampleRecord> Store::select_samples(std::int64_t run_id,
                                                const SampleSelection& selection) {
  auto& db = *impl_->db;
  const std::string where = impl_->where();
  constexpr std::string_view doing = "reading samples";
  std::vector<SampleRecord> out;
  std::map<std::int64_t, std::size_t> index;
  // The parts not asked for are read as NULL: one statement shape per selection.
  std::string sql = std::string("SELECT s.id, s.strategy, p.prompt_key, s.sample_index, s.seed, ") +
                    "s.temperature, s.top_k, s.top_p, s.repetition_penalty, "
                    "s.no_repeat_ngram_size, s.max_tokens, " +
                    (selection.tokens ? "s.token_ids" : "NULL") + ", " +
                    (selection.text ? "s.text" : "NULL") + ", " +
                    (selection.logprobs ? "s.logprobs" : "NULL") +
                    ", s.finish_reason, s.created_at, p.source, json_array_length(s.token_ids), "
                    "s.decoding_json "
                    "FROM samples s JOIN prompts p ON p.id = s.prompt_id WHERE s.run_id = ?";
  if (selection.source) sql += " AND p.source = ?";
  if (selection.strategy) sql += " AND s.strategy = ?";
  // The order the runner plans them in, whatever order they finished and were stored in, so
  // that figures computed from them (a bootstrap's resamples, a sum's rounding) do not
  // depend on batching or resumption: scored texts, then the plan's samples, then detectors'
  // samples; each by strategy, prompt (in the order the run stored its prompts) and index.
  sql +=
      " ORDER BY CASE WHEN s.finish_reason = 'scored' THEN 0 WHEN p.source = 'prompts' THEN 1 "
      "ELSE 2 END, s.strategy, p.id, s.sample_index";
  {
    sqlite::Query q(db, sql, doing);
    q.bind(run_id);
    if (selection.source) q.bind(*selection.source);
    if (selection.strategy) q.bind(*selection.strategy);
    while (q.next()) {
      SampleRecord s;
      s.id = q.integer(0);
      s.run_id = run_id;
      s.key = {q.text(1), q.text(2), q.integer(3)};
      s.seed = std::stoull(q.text(4));
      s.settings = {q.real(5),    q.integer(6),  q.real(7), q.real(8),
                    q.integer(9), q.integer(10), q.text(18)};
      const std::string what = where + ": sample " + std::to_string(s.id);
      if (selection.tokens) s.token_ids = int_array_from_json(q.text(11), what + " token_ids");
      if (selection.text) s.text = q.text(12);
      if (selection.logprobs) s.logprobs = double_array_from_json(q.text(13), what + " logprobs");
      s.finish_reason = q.text(14);
      s.created_at = q.text(15);
      s.source = q.text(16);
      s.token_count = q.integer(17);
      index[s.id] = out.size();
      out.push_back(std::move(s));
    }
  }
  if (!selection.metric_prefix || out.empty()) return out;
  sqlite::Query q(db,
                  "SELECT m.sample_id, m.metric, m.value FROM sample_metrics m "
                  "JOIN samples s ON s.id = m.sample_id WHERE s.run_id = ? "
                  "AND substr(m.metric, 1, length(?)) = ? ORDER BY m.sample_id, m.metric",
                  "reading sample metrics");
  q.bind_all(run_id, *selection.metric_prefix, *selection.metric_prefix);
  while (q.next()) {
    auto it = index.find(q.integer(0));
    if (it != index.end()) out[it->second].metrics.push_back({q.text(1), q.real(2)});
  }
  return out;
}

std::vector<EvidenceRecord> Store::evidence(std::int64_t sample_id) {
  sqlite::Query q(*impl_->db,
                  "SELECT detector, metric, kind, start_byte, end_byte, detail_json "
                  "FROM sample_evidence WHERE sample_id = ? ORDER BY id",
                  "reading evidence");
  q.bind(sample_id);
  std::vector<EvidenceRecord> out;
  while (q.next())
    out.push_back(
        {q.text(0), q.text(1), q.text(2), q.optional_integer(3), q.optional_integer(4), q.text(5)});
  return out;
}

std::vector<EvidenceExample> Store::worst_evidence(std::int64_t run_id, std::int64_t per_kind) {
  sqlite::Query q(
      *impl_->db,
      "WITH ranked AS (SELECT e.run_id, e.stage, e.strategy, e.prompt_id, e.sample_index, "
      "e.detector, e.metric, e.kind, m.value, e.start_byte, e.end_byte, e.detail_json, s.text, "
      "row_number() OVER (PARTITION BY e.detector, e.kind, e.metric ORDER BY m.value DESC "
      "NULLS LAST, coalesce(e.end_byte - e.start_byte, 0) DESC, e.strategy, e.prompt_id, "
      "e.sample_index) AS place "
      "FROM v_evidence e "
      "JOIN v_samples s ON s.run_id = e.run_id AND s.strategy = e.strategy "
      "AND s.prompt_id = e.prompt_id AND s.sample_index = e.sample_index "
      "LEFT JOIN v_sample_metrics m ON m.run_id = e.run_id AND m.strategy = e.strategy "
      "AND m.prompt_id = e.prompt_id AND m.sample_index = e.sample_index AND m.metric = e.metric "
      "WHERE e.run_id = ?) "
      "SELECT run_id, stage, strategy, prompt_id, sample_index, detector, metric, kind, value, "
      "start_byte, end_byte, detail_json, text FROM ranked WHERE place <= ? "
      "ORDER BY detector, kind, metric, place",
      "reading evidence");
  q.bind_all(run_id, per_kind);
  std::vector<EvidenceExample> out;
  while (q.next()) {
    EvidenceExample e;
    e.run_id = q.integer(0);
    e.stage = q.text(1);
    e.strategy = q.text(2);
    e.prompt_id = q.text(3);
    e.sample_index = q.integer(4);
    e.detector = q.text(5);
    e.metric = q.text(6);
    e.kind = q.text(7);
    e.value = q.optional_real(8);
    e.start_byte = q.optional_integer(9);
    e.end_byte = q.optional_integer(10);
    e.detail_json = q.text(11);
    e.text = q.text(12);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<FilterEventCount> Store::filter_event_counts() {
  sqlite::Query q(
      *impl_->db,
      "SELECT coalesce(stage, ''), run_id, filter, action, count(*) FROM v_filter_events "
      "GROUP BY stage, run_id, filter, action "
      "ORDER BY stage, run_id IS NULL, run_id, filter, action",
      "counting filter events");
  std::vector<FilterEventCount> out;
  while (q.next())
    out.push_back({q.text(0), q.optional_integer(1), q.text(2), q.text(3), q.integer(4)});
  return out;
}

void Store::add_aggregates(std::int64_t run_id, const std::vector<Aggregate>& aggregates) {
  for (const auto& a : aggregates) {
    const bool finite = std::isfinite(a.value) && (!a.ci_low || std::isfinite(*a.ci_low)) &&
                        (!a.ci_high || std::isfinite(*a.ci_high));
    if (!finite || a.n < 0 || a.ci_low.has_value() != a.ci_high.has_value())
      throw std::invalid_argument("aggregate " + a.metric + " [" + a.strategy + "|" + a.slice +
                                  "]: needs a finite value, both interval bounds or neither, "
                                  "and n >= 0");
  }
  auto& db = *impl_->db;
  constexpr std::string_view doing = "storing aggregates";
  sqlite::Transaction tx(db, doing);
  impl_->require_lease(run_id, doing);
  for (const auto& a : aggregates) {
    sqlite::Query(db,
                  "INSERT INTO aggregates (run_id, metric, strategy, slice, value, ci_low, "
                  "ci_high, n, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, " SG_SQL_NOW
                  ") "
                  "ON CONFLICT (run_id, metric, strategy, slice) DO UPDATE SET "
                  "value = excluded.value, ci_low = excluded.ci_low, "
                  "ci_high = excluded.ci_high, n = excluded.n, "
                  "computed_at = excluded.computed_at",
                  doing)
        .bind_all(run_id, a.metric, a.strategy, a.slice, a.value, a.ci_low, a.ci_high, a.n)
        .run();
  }
  tx.commit();
}

std::vector<Aggregate> Store::aggregates(std::int64_t run_id) {
  sqlite::Query q(*impl_->db,
                  "SELECT metric, strategy, slice, value, ci_low, ci_high, n FROM aggregates "
                  "WHERE run_id = ? ORDER BY metric, strategy, slice",
                  "reading aggregates");
  q.bind(run_id);
  std::vector<Aggregate> out;
  while (q.next())
    out.push_back({q.text(0), q.text(1), q.text(2), q.real(3), q.optional_real(4),
                   q.optional_real(5), q.integer(6)});
  return out;
}

}  // namespace sg::db
