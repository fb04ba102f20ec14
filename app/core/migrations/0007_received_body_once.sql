-- A received entry's record is its observation's body followed by the device's metadata
-- (`,"revision":...}`), and the body is also held, byte for byte, as the revision's body. From
-- now on it is held once: where `observation_id` is set, `record` holds only what follows the
-- body, which is the body of that revision without its closing brace. Entries without
-- `observation_id` (received before this migration, or whose body is held with other bytes)
-- hold their whole record. `received_record` gives every entry's record as it was signed.
ALTER TABLE received_entry ADD COLUMN observation_id TEXT;
ALTER TABLE received_entry ADD COLUMN revision INTEGER;

CREATE VIEW received_record AS
SELECT e.device_id, e.seq, e.prev_hash, e.hash, e.bundle_id,
       CASE WHEN e.observation_id IS NULL THEN e.record
            ELSE substr(r.body, 1, length(r.body) - 1) || e.record
       END AS record
FROM received_entry AS e
LEFT JOIN observation_revision AS r
       ON r.observation_id = e.observation_id AND r.revision = e.revision;
