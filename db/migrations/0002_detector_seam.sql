-- 0002: what the detector seam needs. Runs can be 'abandoned' (--new-run supersedes an
-- unfinished run), and a checkpoint has at most one unfinished run per plan, enforced by
-- the database; every prompt id is namespaced by its source; detectors store the evidence
-- behind a sample's metrics with it (view v_evidence).
--
-- SQLite cannot change a CHECK constraint in place, so audit_runs is rebuilt as SQLite's
-- ALTER TABLE documentation describes: the migration runs with foreign keys off (migrate.cpp)
-- and checks them before it commits. The views that name the table are made again after.

DROP VIEW v_samples;
DROP VIEW v_metrics;

CREATE TABLE audit_runs_rebuilt (
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
INSERT INTO audit_runs_rebuilt (id, checkpoint_id, plan_path, plan_hash, plan_text, tool_version,
                                tool_commit, device, status, samples_planned, started_at,
                                ended_at, error)
SELECT id, checkpoint_id, plan_path, plan_hash, plan_text, tool_version, tool_commit, device,
       status, samples_planned, started_at, ended_at, error
FROM audit_runs;
DROP TABLE audit_runs;
ALTER TABLE audit_runs_rebuilt RENAME TO audit_runs;
CREATE INDEX audit_runs_by_checkpoint_plan ON audit_runs(checkpoint_id, plan_hash, id);

-- Earlier builds could leave several unfinished runs of one checkpoint and plan (--new-run
-- left the old one; two processes could each create one): all but the newest are abandoned.
UPDATE audit_runs
SET status = 'abandoned',
    ended_at = coalesce(ended_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    error = 'superseded by a newer run of the same plan on the same checkpoint'
WHERE status IN ('running', 'interrupted', 'failed')
  AND id < (SELECT max(r.id) FROM audit_runs r
            WHERE r.checkpoint_id = audit_runs.checkpoint_id AND r.plan_hash = audit_runs.plan_hash
              AND r.status IN ('running', 'interrupted', 'failed'));
DELETE FROM run_leases WHERE run_id IN (SELECT id FROM audit_runs WHERE status = 'abandoned');
CREATE UNIQUE INDEX audit_runs_one_unfinished ON audit_runs(checkpoint_id, plan_hash)
WHERE status IN ('running', 'interrupted', 'failed');

-- Prompt ids become "<source>:<id>" for every source, so that no source's id can equal
-- another's (a plan prompt with the id 'heldout:3' collided with held-out text 3). Held-out
-- texts now belong to the perplexity detector, their source.
UPDATE prompts SET prompt_key = 'perplexity:' || substr(prompt_key, length('heldout:') + 1),
                   source = 'perplexity'
WHERE source = 'perplexity.heldout' AND prompt_key LIKE 'heldout:%';
UPDATE prompts SET prompt_key = 'prompts:' || prompt_key WHERE source = 'prompts';

-- The evidence behind a sample's metrics, written by detectors with the sample.
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
CREATE INDEX sample_evidence_by_sample ON sample_evidence(sample_id);

CREATE VIEW v_samples AS
SELECT c.sha256 AS checkpoint_sha256, c.stage AS stage, s.run_id AS run_id,
       s.strategy AS strategy, p.prompt_key AS prompt_id, s.sample_index AS sample_index,
       s.text AS text
FROM samples s
JOIN prompts p ON p.id = s.prompt_id
JOIN audit_runs r ON r.id = s.run_id
JOIN checkpoints c ON c.id = r.checkpoint_id;

CREATE VIEW v_metrics AS
SELECT c.sha256 AS checkpoint_sha256, c.stage AS stage, a.run_id AS run_id, a.metric AS metric,
       a.strategy AS strategy, a.slice AS slice, a.value AS value, a.ci_low AS ci_low,
       a.ci_high AS ci_high, a.n AS n
FROM aggregates a
JOIN audit_runs r ON r.id = a.run_id
JOIN checkpoints c ON c.id = r.checkpoint_id;

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
