-- 0011: an observation is identified by its id together with the device that made it, devices
-- seen for the first time wait for the coordinator's acceptance, and a bundle import is found
-- by its device.
--
-- Until now revisions were keyed by (observation_id, revision), so any device could send
-- revision N+1 of another device's observation and become its current text. From now on the
-- key is (observation_id, device_id, revision): a record from another device that reuses an id
-- is that device's own observation, never a revision of the first one's. The verification trail
-- and event links name the device too; rows written before name the device that made the
-- earliest revision held of that id (the observation's maker as far as this journal knows).
--
-- `known_device.accepted_at`: records of a device whose fingerprint the coordinator has not
-- confirmed stay out of alerts, reports and exports. Devices known before this migration count
-- as accepted (since their first bundle).
--
-- `alert_sweep.touched_from_ms`: accepting a device changes what the alert rules count
-- without adding a revision; the kept alerts resume from that time. Kept alerts now name their
-- observations by id and device, so those kept before are set aside.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE observation_revision_0011 (
    observation_id TEXT    NOT NULL,
    revision       INTEGER NOT NULL CHECK (revision >= 1),
    device_id      TEXT    NOT NULL,
    observer       TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    observed_at_ms INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    lat            REAL,
    lon            REAL,
    area_place     TEXT,
    PRIMARY KEY (observation_id, device_id, revision)
);

-- Row ids are kept: the kept alerts' revisions marker is the largest of them.
INSERT INTO observation_revision_0011
       (rowid, observation_id, revision, device_id, observer, recorded_at, observed_at_ms,
        kind, category, body, lat, lon, area_place)
SELECT rowid, observation_id, revision, device_id, observer, recorded_at, observed_at_ms,
       kind, category, body, lat, lon,
       CASE WHEN lat IS NULL OR lon IS NULL THEN json_extract(body, '$.place') END
FROM observation_revision;

-- The maker of each id as this journal knew it: the device of its earliest revision.
CREATE TEMP TABLE observation_maker AS
SELECT r.observation_id, r.device_id
FROM observation_revision AS r
WHERE r.revision = (SELECT min(h.revision) FROM observation_revision AS h
                    WHERE h.observation_id = r.observation_id);

DROP VIEW received_record;
DROP VIEW observation_current;
DROP TABLE observation_revision;
ALTER TABLE observation_revision_0011 RENAME TO observation_revision;

CREATE TRIGGER observation_revision_no_update BEFORE UPDATE ON observation_revision
BEGIN
    SELECT RAISE(ABORT, 'observation revisions are append-only; add a revision instead');
END;

CREATE TRIGGER observation_revision_no_delete BEFORE DELETE ON observation_revision
BEGIN
    SELECT RAISE(ABORT, 'observation revisions are append-only and cannot be deleted');
END;

-- The alert rules' index (0008), with the device, and the place of an observation without a
-- position (`area_place`, a copy like `lat` and `lon`: the area comes from it then): the sweep
-- reads it alone.
CREATE INDEX observation_revision_for_alerts ON observation_revision (
    observed_at_ms, observation_id, device_id, revision, kind, category, lat, lon, area_place
);

-- The latest revision of each observation: of each (id, device).
CREATE VIEW observation_current AS
SELECT r.*
FROM observation_revision AS r
WHERE r.revision = (
    SELECT max(h.revision) FROM observation_revision AS h
    WHERE h.observation_id = r.observation_id AND h.device_id = r.device_id
);

-- As in 0010, with the revision found by its device too.
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
       ON r.observation_id = e.observation_id AND r.device_id = e.device_id
          AND r.revision = e.revision;

-- The verification trail names the observation's device. Filling it for the steps already
-- taken is the one update this table allows: the trigger steps aside and comes back unchanged.
ALTER TABLE verification ADD COLUMN device_id TEXT;
DROP TRIGGER verification_no_update;
UPDATE verification
   SET device_id = (SELECT m.device_id FROM observation_maker AS m
                    WHERE m.observation_id = verification.observation_id);
CREATE TRIGGER verification_no_update BEFORE UPDATE ON verification
BEGIN
    SELECT RAISE(ABORT, 'the verification trail is append-only');
END;
DROP INDEX verification_by_observation;
CREATE INDEX verification_by_observation ON verification (observation_id, device_id, id);

-- Event links name the observation's device.
CREATE TABLE event_link_0011 (
    event_id       TEXT NOT NULL,
    observation_id TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    linked_by      TEXT NOT NULL,
    at             TEXT NOT NULL,
    PRIMARY KEY (event_id, observation_id, device_id)
);
INSERT INTO event_link_0011 (event_id, observation_id, device_id, linked_by, at)
SELECT l.event_id, l.observation_id, m.device_id, l.linked_by, l.at
FROM event_link AS l JOIN observation_maker AS m ON m.observation_id = l.observation_id;
DROP TABLE event_link;
ALTER TABLE event_link_0011 RENAME TO event_link;
CREATE INDEX event_link_by_observation ON event_link (observation_id, device_id);

DROP TABLE observation_maker;

-- Acceptance of devices: those known already count as accepted since they were first seen.
ALTER TABLE known_device ADD COLUMN accepted_at TEXT;
UPDATE known_device SET accepted_at = first_seen;

-- The time from which the kept alerts must be swept again although no revision was added.
ALTER TABLE alert_sweep ADD COLUMN touched_from_ms INTEGER;
-- The kept alerts name their observations by id and device from now on (32 bytes each):
-- those kept so far are set aside (they are derived, and swept again on the next look).
DELETE FROM alert_sweep;
DELETE FROM alert_raised;
DELETE FROM alert_checkpoint_window;
DELETE FROM alert_checkpoint;

-- Imports are found by device (gaps, counts, a bundle held already).
CREATE INDEX bundle_import_by_device ON bundle_import (device_id, status, bundle_id);
