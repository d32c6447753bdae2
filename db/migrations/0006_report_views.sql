-- 0006: what the release report (src/report/) reads besides v_metrics, v_decisions and
-- v_evidence: each sample's metrics by the sample's key, so a report can rank the evidence
-- behind a figure by the figure (the worst samples first) without reading tables.
CREATE VIEW v_sample_metrics AS
SELECT c.sha256 AS checkpoint_sha256, c.stage AS stage, s.run_id AS run_id,
       s.strategy AS strategy, p.prompt_key AS prompt_id, s.sample_index AS sample_index,
       m.metric AS metric, m.value AS value
FROM sample_metrics m
JOIN samples s ON s.id = m.sample_id
JOIN prompts p ON p.id = s.prompt_id
JOIN audit_runs r ON r.id = s.run_id
JOIN checkpoints c ON c.id = r.checkpoint_id;
