-- 0017: purge after receipt. Once the coordinators' receipts confirmed a device's records, and
-- the mission's (or the device's stricter) delay has passed, the device removes their bodies
-- and attachments, keeping each log entry's seq and hashes so that the chain goes on. This is
-- the one exception to the append-only rule, and only the store's purge path takes it: while
-- its transaction holds the single row of `purge_run`, the device log's record may be emptied
-- (nothing else of an entry may change) and the purged observations' revisions deleted. Every
-- other update or delete is refused as before. `purged_observation` lets the journal say what
-- it no longer holds.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE purge_run (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1)
);

CREATE TABLE purged_observation (
    observation_id TEXT    PRIMARY KEY,
    revisions      INTEGER NOT NULL,
    purged_at      TEXT    NOT NULL
);

DROP TRIGGER device_log_no_update;
CREATE TRIGGER device_log_no_update BEFORE UPDATE ON device_log
WHEN NOT (
    EXISTS (SELECT 1 FROM purge_run)
    AND NEW.seq = OLD.seq AND NEW.observation_id = OLD.observation_id
    AND NEW.revision = OLD.revision AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
    AND NEW.record = '' AND OLD.record <> ''
)
BEGIN
    SELECT RAISE(ABORT, 'the device log is append-only');
END;

DROP TRIGGER observation_revision_no_delete;
CREATE TRIGGER observation_revision_no_delete BEFORE DELETE ON observation_revision
WHEN NOT EXISTS (SELECT 1 FROM purge_run)
BEGIN
    SELECT RAISE(ABORT, 'observation revisions are append-only and cannot be deleted');
END;
