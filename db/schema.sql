-- The stagegate audit store's schema after every migration in db/migrations/.
-- Generated; do not edit. Regenerate: cmake --build build --target db_schema
-- PRAGMA user_version = 6;
-- PRAGMA application_id = 1397178707;

CREATE TABLE aggregates (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES audit_runs(id) ON DELETE CASCADE,
  metric TEXT NOT NULL,
  strategy TEXT NOT NULL,
  slice TEXT NOT NULL,
  value REAL NOT NULL,
  ci_low REAL,
  ci_high REAL,
  n INTEGER NOT NULL CHECK (n >= 0),
  computed_at TEXT NOT NULL,
  UNIQUE (run_id, metric, strategy, slice)
);

CREATE TABLE "audit_runs" (
  id INTEGER PRIMARY KEY,
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
  plan_path TEXT NOT NULL,
  plan_hash TEXT NOT NULL CHECK (length(plan_hash) = 64),
  plan_text TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  tool_commit TEXT NOT NULL,
  device TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('running', 'interrupted', 'completed', 'failed', 'abandoned')),
  samples_planned INTEGER NOT NULL CHECK (samples_planned >= 0),
  started_at TEXT NOT NULL,
  ended_at TEXT,
  error TEXT NOT NULL DEFAULT ''
);

CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
  path TEXT NOT NULL,
  family TEXT NOT NULL DEFAULT '',
  stage TEXT NOT NULL DEFAULT '',
  architecture TEXT NOT NULL,
  parameters INTEGER NOT NULL CHECK (parameters >= 0),
  config_json TEXT NOT NULL CHECK (json_valid(config_json)),
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL
);

CREATE TABLE decisions (
  id INTEGER PRIMARY KEY,
  stage TEXT NOT NULL,
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
  decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected', 'pending', 'revoked')),
  reason TEXT NOT NULL,
  policy_path TEXT NOT NULL,
  policy_hash TEXT NOT NULL,
  evidence_json TEXT NOT NULL CHECK (json_valid(evidence_json)),
  decided_by TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  prev_hash TEXT UNIQUE CHECK (prev_hash IS NULL OR length(prev_hash) = 64),
  hash TEXT UNIQUE CHECK (hash IS NULL OR length(hash) = 64)
);

CREATE TABLE filter_events (
  id INTEGER PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  filter TEXT NOT NULL,
  action TEXT NOT NULL,
  run_id INTEGER REFERENCES audit_runs(id) ON DELETE CASCADE,
  sample_id INTEGER REFERENCES samples(id) ON DELETE CASCADE,
  request_id INTEGER REFERENCES server_requests(id),
  token_position INTEGER,
  detail_json TEXT NOT NULL CHECK (json_valid(detail_json)),
  CHECK (run_id IS NOT NULL OR request_id IS NOT NULL)
);

CREATE TABLE prompts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES audit_runs(id) ON DELETE CASCADE,
  prompt_key TEXT NOT NULL,
  source TEXT NOT NULL,
  text TEXT NOT NULL,
  UNIQUE (run_id, prompt_key)
);

CREATE TABLE run_leases (
  run_id INTEGER PRIMARY KEY REFERENCES audit_runs(id) ON DELETE CASCADE,
  token TEXT NOT NULL UNIQUE,
  host TEXT NOT NULL,
  boot_id TEXT NOT NULL,
  pid INTEGER NOT NULL,
  pid_start INTEGER NOT NULL,
  acquired_at TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL
);

CREATE TABLE sample_evidence (
  id INTEGER PRIMARY KEY,
  sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
  detector TEXT NOT NULL,
  metric TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_byte INTEGER CHECK (start_byte >= 0),
  end_byte INTEGER CHECK (end_byte >= start_byte),
  detail_json TEXT NOT NULL CHECK (json_valid(detail_json)),
  CHECK ((start_byte IS NULL) = (end_byte IS NULL))
);

CREATE TABLE sample_metrics (
  sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
  metric TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (sample_id, metric)
) WITHOUT ROWID;

CREATE TABLE samples (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES audit_runs(id) ON DELETE CASCADE,
  strategy TEXT NOT NULL,
  prompt_id INTEGER NOT NULL REFERENCES prompts(id),
  sample_index INTEGER NOT NULL CHECK (sample_index >= 0),
  seed TEXT NOT NULL,
  temperature REAL NOT NULL,
  top_k INTEGER NOT NULL,
  top_p REAL NOT NULL,
  repetition_penalty REAL NOT NULL,
  no_repeat_ngram_size INTEGER NOT NULL,
  max_tokens INTEGER NOT NULL,
  token_ids TEXT NOT NULL CHECK (json_valid(token_ids)),
  text TEXT NOT NULL,
  logprobs TEXT NOT NULL CHECK (json_valid(logprobs)),
  finish_reason TEXT NOT NULL,
  created_at TEXT NOT NULL, decoding_json TEXT NOT NULL DEFAULT '{}'
  CHECK (json_valid(decoding_json) AND json_type(decoding_json) = 'object'),
  UNIQUE (run_id, strategy, prompt_id, sample_index)
);

CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  applied_at TEXT NOT NULL
);

CREATE TABLE server_requests (
  id INTEGER PRIMARY KEY,
  received_at TEXT NOT NULL,
  finished_at TEXT,
  checkpoint_id INTEGER REFERENCES checkpoints(id),
  stage TEXT NOT NULL,
  client TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  prompt_sha256 TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
  status_code INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'filtered', 'refused', 'error')),
  settings_json TEXT NOT NULL CHECK (json_valid(settings_json))
, key_id TEXT, finish_reasons_json TEXT
  CHECK (finish_reasons_json IS NULL OR json_valid(finish_reasons_json)), latency_ms REAL CHECK (latency_ms IS NULL OR latency_ms >= 0), completion_sha256 TEXT, prompt_text TEXT, completion_text TEXT);

CREATE INDEX audit_runs_by_checkpoint_plan ON audit_runs(checkpoint_id, plan_hash, id);

CREATE UNIQUE INDEX audit_runs_one_unfinished ON audit_runs(checkpoint_id, plan_hash)
WHERE status IN ('running', 'interrupted', 'failed');

CREATE INDEX decisions_by_checkpoint ON decisions(checkpoint_id);

CREATE INDEX filter_events_by_request ON filter_events(request_id);

CREATE INDEX filter_events_by_run ON filter_events(run_id);

CREATE INDEX filter_events_by_sample ON filter_events(sample_id);

CREATE INDEX sample_evidence_by_sample ON sample_evidence(sample_id);

CREATE INDEX samples_by_prompt ON samples(prompt_id);

CREATE INDEX server_requests_by_key ON server_requests(key_id);

CREATE VIEW v_decisions AS
SELECT d.stage AS stage, c.sha256 AS checkpoint_sha256, d.decision AS decision,
       d.reason AS reason, d.decided_at AS decided_at, d.id AS id,
       d.policy_hash AS policy_hash, d.decided_by AS decided_by, d.hash AS hash
FROM decisions d
JOIN checkpoints c ON c.id = d.checkpoint_id;

CREATE VIEW v_evidence AS
SELECT c.sha256 AS checkpoint_sha256, c.stage AS stage, s.run_id AS run_id,
       s.strategy AS strategy, p.prompt_key AS prompt_id, s.sample_index AS sample_index,
       e.detector AS detector, e.metric AS metric, e.kind AS kind,
       e.start_byte AS start_byte, e.end_byte AS end_byte,
       CASE WHEN e.start_byte IS NULL THEN NULL
            ELSE CAST(substr(CAST(s.text AS BLOB), e.start_byte + 1, e.end_byte - e.start_byte)
                      AS TEXT) END AS span_text,
       e.detail_json AS detail_json
FROM sample_evidence e
JOIN samples s ON s.id = e.sample_id
JOIN prompts p ON p.id = s.prompt_id
JOIN audit_runs r ON r.id = s.run_id
JOIN checkpoints c ON c.id = r.checkpoint_id;

CREATE VIEW v_filter_events AS
SELECT f.id AS id, f.occurred_at AS occurred_at, f.filter AS filter, f.action AS action,
       f.run_id AS run_id, f.request_id AS request_id, coalesce(c.stage, q.stage) AS stage,
       s.strategy AS strategy, p.prompt_key AS prompt_id, s.sample_index AS sample_index,
       f.token_position AS token_position, f.detail_json AS detail_json
FROM filter_events f
LEFT JOIN samples s ON s.id = f.sample_id
LEFT JOIN prompts p ON p.id = s.prompt_id
LEFT JOIN audit_runs r ON r.id = f.run_id
LEFT JOIN checkpoints c ON c.id = r.checkpoint_id
LEFT JOIN server_requests q ON q.id = f.request_id;

CREATE VIEW v_metrics AS
SELECT c.sha256 AS checkpoint_sha256, c.stage AS stage, a.run_id AS run_id, a.metric AS metric,
       a.strategy AS strategy, a.slice AS slice, a.value AS value, a.ci_low AS ci_low,
       a.ci_high AS ci_high, a.n AS n
FROM aggregates a
JOIN audit_runs r ON r.id = a.run_id
JOIN checkpoints c ON c.id = r.checkpoint_id;

CREATE VIEW v_sample_metrics AS
SELECT c.sha256 AS checkpoint_sha256, c.stage AS stage, s.run_id AS run_id,
       s.strategy AS strategy, p.prompt_key AS prompt_id, s.sample_index AS sample_index,
       m.metric AS metric, m.value AS value
FROM sample_metrics m
JOIN samples s ON s.id = m.sample_id
JOIN prompts p ON p.id = s.prompt_id
JOIN audit_runs r ON r.id = s.run_id
JOIN checkpoints c ON c.id = r.checkpoint_id;

CREATE VIEW v_samples AS
SELECT c.sha256 AS checkpoint_sha256, c.stage AS stage, s.run_id AS run_id,
       s.strategy AS strategy, p.prompt_key AS prompt_id, s.sample_index AS sample_index,
       s.text AS text
FROM samples s
JOIN prompts p ON p.id = s.prompt_id
JOIN audit_runs r ON r.id = s.run_id
JOIN checkpoints c ON c.id = r.checkpoint_id;

CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN
  SELECT RAISE(ABORT, 'decisions are append-only: a recorded decision cannot be deleted');
END;

CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN
  SELECT RAISE(ABORT, 'decisions are append-only: record a new decision (e.g. a revocation) instead of changing one');
END;
