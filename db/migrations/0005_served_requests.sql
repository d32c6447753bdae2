-- 0005: what `stagegate serve` logs of each request besides 0001's columns: the API key's id
-- (never the key), each choice's finish reason, the latency, the completions' hash, and their
-- text (and the prompt's) only where the policy's audience says log_text = true. Rows from
-- `stagegate generate --policy` leave them NULL but for the finish reason.
ALTER TABLE server_requests ADD COLUMN key_id TEXT;
ALTER TABLE server_requests ADD COLUMN finish_reasons_json TEXT
  CHECK (finish_reasons_json IS NULL OR json_valid(finish_reasons_json));
ALTER TABLE server_requests ADD COLUMN latency_ms REAL CHECK (latency_ms IS NULL OR latency_ms >= 0);
ALTER TABLE server_requests ADD COLUMN completion_sha256 TEXT;
ALTER TABLE server_requests ADD COLUMN prompt_text TEXT;
ALTER TABLE server_requests ADD COLUMN completion_text TEXT;
CREATE INDEX server_requests_by_key ON server_requests(key_id);
