-- 0001: the device identity and the append-only journal of observation revisions.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE device (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    device_id   TEXT NOT NULL,
    observer    TEXT NOT NULL,
    team        TEXT,
    role        TEXT NOT NULL CHECK (role IN ('monitor', 'coordinator')),
    signing_key BLOB NOT NULL CHECK (length(signing_key) = 32),
    created_at  TEXT NOT NULL
);

-- One row per saved revision. Schema v1 JSON in `body`; the other columns are for queries.
CREATE TABLE observation_revision (
    observation_id TEXT    NOT NULL,
    revision       INTEGER NOT NULL CHECK (revision >= 1),
    device_id      TEXT    NOT NULL,
    observer       TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    observed_at_ms INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    PRIMARY KEY (observation_id, revision)
);

CREATE INDEX observation_revision_by_time ON observation_revision (observed_at_ms);

-- Nothing is overwritten or silently deleted: the database itself refuses it.
CREATE TRIGGER observation_revision_no_update BEFORE UPDATE ON observation_revision
BEGIN
    SELECT RAISE(ABORT, 'observation revisions are append-only; add a revision instead');
END;

CREATE TRIGGER observation_revision_no_delete BEFORE DELETE ON observation_revision
BEGIN
    SELECT RAISE(ABORT, 'observation revisions are append-only and cannot be deleted');
END;

-- The current view: the latest revision of each observation.
CREATE VIEW observation_current AS
SELECT r.*
FROM observation_revision AS r
WHERE r.revision = (
    SELECT max(h.revision) FROM observation_revision AS h
    WHERE h.observation_id = r.observation_id
);
