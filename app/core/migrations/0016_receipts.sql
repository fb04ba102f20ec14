-- 0016: receipts, the way back from the coordinators to each device. A device has its own age
-- identity, whose recipient travels in its bundles (`return_path`), so that a coordinator can
-- encrypt a receipt to it; the coordinator keeps the latest recipient and team of each device.
-- A device keeps every receipt it applied: what each confirmed and reported missing. What is
-- confirmed is the union of them all, so an older or replayed receipt never undoes a
-- confirmation; what is owed again is the newest receipt's missing ranges that no later
-- export re-sent (`exports_before`: the last export row when it was applied).
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE device_age_identity (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

ALTER TABLE known_device ADD COLUMN recipient TEXT;
ALTER TABLE known_device ADD COLUMN team TEXT;

CREATE TABLE device_receipt (
    receipt_id     TEXT    PRIMARY KEY,
    signer_key     TEXT    NOT NULL,
    coordinator    TEXT    NOT NULL,
    issued_at      TEXT    NOT NULL,
    applied_at     TEXT    NOT NULL,
    held_through   INTEGER NOT NULL CHECK (held_through >= 0),
    missing        TEXT    NOT NULL,
    exports_before INTEGER NOT NULL
);

CREATE TRIGGER device_receipt_no_update BEFORE UPDATE ON device_receipt
BEGIN
    SELECT RAISE(ABORT, 'receipts are append-only');
END;

CREATE TRIGGER device_receipt_no_delete BEFORE DELETE ON device_receipt
BEGIN
    SELECT RAISE(ABORT, 'receipts are append-only');
END;
