-- 0008: the escalation alerts read one index and nothing else. The rules sweep the latest
-- revision of each observation in time order and need only its time, id, revision, kind,
-- category and position. The position becomes two columns, filled from the body (the body
-- stays the record of what was observed; these are copies for queries, like `kind`), and one
-- index holds all of it in the order the rules sweep it, so evaluating them no longer reads
-- and decrypts every observation's body. The index starts with the time, as
-- `observation_revision_by_time` did, so it serves that index's queries too, and that one goes.
ALTER TABLE observation_revision ADD COLUMN lat REAL;
ALTER TABLE observation_revision ADD COLUMN lon REAL;

-- Filling the copies of revisions already held is the one update this table allows: the
-- append-only trigger steps aside for it and comes back unchanged.
DROP TRIGGER observation_revision_no_update;
UPDATE observation_revision
   SET lat = json_extract(body, '$.lat'), lon = json_extract(body, '$.lon');
CREATE TRIGGER observation_revision_no_update BEFORE UPDATE ON observation_revision
BEGIN
    SELECT RAISE(ABORT, 'observation revisions are append-only; add a revision instead');
END;

CREATE INDEX observation_revision_for_alerts ON observation_revision (
    observed_at_ms, observation_id, revision, kind, category, lat, lon
);

DROP INDEX observation_revision_by_time;
