-- 0002: the device log (hash chain), exports, the mission profile, the coordinator's age
-- identity, known devices, received entries and the record of every bundle import.
-- Shipped: never edit this file; add a new numbered migration instead.

-- This device's own log: one entry per saved revision, chained by hash.
CREATE TABLE device_log (
    seq            INTEGER PRIMARY KEY CHECK (seq >= 1),
    observation_id TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL UNIQUE,
    record         TEXT    NOT NULL,
    UNIQUE (observation_id, revision)
);

CREATE TRIGGER device_log_no_update BEFORE UPDATE ON device_log
BEGIN
    SELECT RAISE(ABORT, 'the device log is append-only');
END;

CREATE TRIGGER device_log_no_delete BEFORE DELETE ON device_log
BEGIN
    SELECT RAISE(ABORT, 'the device log is append-only');
END;

-- Bundles this device wrote.
CREATE TABLE bundle_export (
    bundle_id  TEXT    PRIMARY KEY,
    created_at TEXT    NOT NULL,
    first_seq  INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL,
    file_name  TEXT    NOT NULL
);

-- The installed mission profile, as signed text.
CREATE TABLE mission_profile (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    text         TEXT NOT NULL,
    installed_at TEXT NOT NULL
);

-- A coordinator's age X25519 identity (AGE-SECRET-KEY-1...), inside the encrypted journal.
CREATE TABLE coordinator_identity (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Devices a coordinator has received bundles from (trust on first use).
CREATE TABLE known_device (
    device_id      TEXT PRIMARY KEY,
    device_key     TEXT NOT NULL,
    observer       TEXT NOT NULL,
    first_seen     TEXT NOT NULL,
    last_bundle_at TEXT
);

-- Entries received from other devices' logs; insert-or-ignore on (device, seq).
CREATE TABLE received_entry (
    device_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL CHECK (seq >= 1),
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    record    TEXT    NOT NULL,
    bundle_id TEXT    NOT NULL,
    PRIMARY KEY (device_id, seq)
);

CREATE TRIGGER received_entry_no_update BEFORE UPDATE ON received_entry
BEGIN
    SELECT RAISE(ABORT, 'received entries are append-only');
END;

CREATE TRIGGER received_entry_no_delete BEFORE DELETE ON received_entry
BEGIN
    SELECT RAISE(ABORT, 'received entries are append-only');
END;

-- Every import attempt: imported, or quarantined with its reason.
CREATE TABLE bundle_import (
    id            INTEGER PRIMARY KEY,
    bundle_id     TEXT,
    file_name     TEXT    NOT NULL,
    device_id     TEXT,
    imported_at   TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('imported', 'quarantined')),
    new_entries   INTEGER NOT NULL DEFAULT 0,
    known_entries INTEGER NOT NULL DEFAULT 0,
    reason        TEXT
);
