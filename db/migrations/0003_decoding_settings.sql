-- 0003: the decoding settings that have no column of their own (presence and frequency
-- penalties, DRY, the loop stop, and any added later), stored with each sample as a JSON
-- object of those not at their defaults, keyed by their plan names. Samples stored before
-- these settings existed used the defaults: '{}'.
ALTER TABLE samples ADD COLUMN decoding_json TEXT NOT NULL DEFAULT '{}'
  CHECK (json_valid(decoding_json) AND json_type(decoding_json) = 'object');
