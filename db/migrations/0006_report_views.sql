-- 0006: what the release report (src/report/) reads besides v_metrics, v_decisions and
-- v_evidence: each sample's metrics by the sample's key, so a report can rank the evidence
-- behind a figure by the figure (the worst samples first) without reading tables; and the
-- filter events with where they happened.
CREATE VIEW v_sample_metrics AS
SELECT c.sha256 AS checkpoint_sha256, c.stage AS stage, s.run_id AS run_id,
       s.strategy AS strategy, p.prompt_key AS prompt_id, s.sample_index AS sample_index,
       m.metric AS metric, m.value AS value
FROM sample_metrics m
JOIN samples s ON s.id = m.sample_id
JOIN prompts p ON p.id = s.prompt_id
JOIN audit_runs r ON r.id = s.run_id
JOIN checkpoints c ON c.id = r.checkpoint_id;

-- Every filter event with where it happened: an audit sample (its run, stage and key) or a
-- served request (its stage), so a report can say how often each filter acted.
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
