-- 0004: release decisions as a hash chain (src/release/decision_chain.hpp). A stage can be
-- 'pending' (its audit missing or incomplete, its date not reached, the stage before it not
-- approved); each row's hash is unique and so is the previous hash it names, so two rows can
-- never claim the same place in the chain; the table is append-only. The triggers guard
-- against mistakes, not attackers: whoever can write the file can drop them, which is why
-- `stagegate verify` recomputes the chain and `decide` prints its head for keeping elsewhere.
--
-- SQLite cannot change a CHECK constraint in place, so decisions is made again (foreign keys
-- off, checked before the commit, as for 0002); v_decisions is made again with its new
-- columns at the end.

DROP VIEW v_decisions;

-- The rows wait in a temporary table while the table is made again, so that the new table
-- reuses the old one's pages: a fresh store keeps no free pages (a size cap counts them).
CREATE TEMP TABLE decisions_before_0004 AS SELECT * FROM decisions;
DROP TABLE decisions;
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
CREATE INDEX decisions_by_checkpoint ON decisions(checkpoint_id);
INSERT INTO decisions (id, stage, checkpoint_id, decision, reason, policy_path, policy_hash,
                       evidence_json, decided_by, decided_at, prev_hash, hash)
SELECT id, stage, checkpoint_id, decision, reason, policy_path, policy_hash, evidence_json,
       decided_by, decided_at, prev_hash, hash
FROM temp.decisions_before_0004;
DROP TABLE temp.decisions_before_0004;

CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN
  SELECT RAISE(ABORT, 'decisions are append-only: record a new decision (e.g. a revocation) instead of changing one');
END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN
  SELECT RAISE(ABORT, 'decisions are append-only: a recorded decision cannot be deleted');
END;

CREATE VIEW v_decisions AS
SELECT d.stage AS stage, c.sha256 AS checkpoint_sha256, d.decision AS decision,
       d.reason AS reason, d.decided_at AS decided_at, d.id AS id,
       d.policy_hash AS policy_hash, d.decided_by AS decided_by, d.hash AS hash
FROM decisions d
JOIN checkpoints c ON c.id = d.checkpoint_id;
