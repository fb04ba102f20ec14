-- 0010: received entries in half the space, so that a coordinator's import writes less.
-- A received entry took about 450 bytes (its row and the index on its key): 128 of them for two
-- hashes as hex, and about 130 for the metadata after the body, which the revision it refers
-- to holds already. Now:
--   * the table is keyed by (device_id, seq) itself (WITHOUT ROWID): no second index;
--   * `prev_hash` and `hash` are the 32 bytes themselves (entries written before stay as they
--     were converted here; a value that was not 64 hex digits is kept as it was, for
--     `truce check` to report);
--   * `record` is NULL where the metadata after the body is exactly what the revision's own
--     columns give (the canonical tail below): the view `received_record` gives it back.
-- `received_record` still gives every entry's record as it was signed, with hex hashes.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE received_entry_0010 (
    device_id      TEXT    NOT NULL,
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    prev_hash      BLOB    NOT NULL,
    hash           BLOB    NOT NULL,
    record         TEXT,
    bundle_id      TEXT    NOT NULL,
    observation_id TEXT,
    revision       INTEGER,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;

-- The canonical tail of revision r: `,"revision":N,"recorded_at":"...","device_id":"...",
-- "observer":"..."}`, as Truce writes records (the same expression is in `received_record`
-- and in the store's insert).
INSERT INTO received_entry_0010
       (device_id, seq, prev_hash, hash, record, bundle_id, observation_id, revision)
SELECT e.device_id, e.seq,
       coalesce(CASE WHEN length(e.prev_hash) = 64 THEN unhex(e.prev_hash) END, e.prev_hash),
       coalesce(CASE WHEN length(e.hash) = 64 THEN unhex(e.hash) END, e.hash),
       CASE WHEN e.observation_id IS NOT NULL AND e.record =
                 ',"revision":' || r.revision || ',"recorded_at":' || json_quote(r.recorded_at)
                 || ',"device_id":' || json_quote(r.device_id)
                 || ',"observer":' || json_quote(r.observer) || '}'
            THEN NULL ELSE e.record END,
       e.bundle_id, e.observation_id, e.revision
FROM received_entry AS e
LEFT JOIN observation_revision AS r
       ON r.observation_id = e.observation_id AND r.revision = e.revision;

DROP VIEW received_record;
DROP TABLE received_entry;
ALTER TABLE received_entry_0010 RENAME TO received_entry;

CREATE TRIGGER received_entry_no_update BEFORE UPDATE ON received_entry
BEGIN
    SELECT RAISE(ABORT, 'received entries are append-only');
END;

CREATE TRIGGER received_entry_no_delete BEFORE DELETE ON received_entry
BEGIN
    SELECT RAISE(ABORT, 'received entries are append-only');
END;

-- Every entry's record as it was signed, and its hashes as hex (as before).
CREATE VIEW received_record AS
SELECT e.device_id, e.seq,
       CASE WHEN typeof(e.prev_hash) = 'blob' THEN lower(hex(e.prev_hash)) ELSE e.prev_hash END AS prev_hash,
       CASE WHEN typeof(e.hash) = 'blob' THEN lower(hex(e.hash)) ELSE e.hash END AS hash,
       e.bundle_id,
       CASE WHEN e.observation_id IS NULL THEN e.record
            ELSE substr(r.body, 1, length(r.body) - 1) || coalesce(e.record,
                 ',"revision":' || r.revision || ',"recorded_at":' || json_quote(r.recorded_at)
                 || ',"device_id":' || json_quote(r.device_id)
                 || ',"observer":' || json_quote(r.observer) || '}')
       END AS record
FROM received_entry AS e
LEFT JOIN observation_revision AS r
       ON r.observation_id = e.observation_id AND r.revision = e.revision;
