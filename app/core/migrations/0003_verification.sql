-- 0003: the coordinator's verification trail and event links. Field records are never altered:
-- verification lives beside them, append-only, with who and when.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE verification (
    id             INTEGER PRIMARY KEY,
    observation_id TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('unverified', 'corroborated', 'verified', 'disputed', 'unfounded')),
    note           TEXT NOT NULL CHECK (length(trim(note)) > 0),
    by_observer    TEXT NOT NULL,
    by_device      TEXT NOT NULL,
    at             TEXT NOT NULL
);

CREATE INDEX verification_by_observation ON verification (observation_id, id);

CREATE TRIGGER verification_no_update BEFORE UPDATE ON verification
BEGIN
    SELECT RAISE(ABORT, 'the verification trail is append-only');
END;

CREATE TRIGGER verification_no_delete BEFORE DELETE ON verification
BEGIN
    SELECT RAISE(ABORT, 'the verification trail is append-only');
END;

-- Reports linked as the same event (two teams heard the same shelling).
CREATE TABLE event_link (
    event_id       TEXT NOT NULL,
    observation_id TEXT NOT NULL,
    linked_by      TEXT NOT NULL,
    at             TEXT NOT NULL,
    PRIMARY KEY (event_id, observation_id)
);

CREATE INDEX event_link_by_observation ON event_link (observation_id);
