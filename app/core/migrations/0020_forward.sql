-- 0020: relay through a regional office. An office keeps each bundle file it imported, byte for
-- byte (it is ciphertext, sealed to every coordinator of the mission, HQ included), so that it
-- can forward it to HQ, which verifies the device's signature itself. HQ's receipts, sealed to
-- the coordinators too, tell the office what HQ holds of each device; a kept bundle that HQ
-- confirmed is removed.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE forward_bundle (
    device_id    TEXT    NOT NULL,
    bundle_id    TEXT    NOT NULL,
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    file         TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    kept_at      TEXT    NOT NULL,
    forwarded_at TEXT,
    confirmed_at TEXT,
    PRIMARY KEY (device_id, bundle_id, first_seq, last_seq)
);

CREATE TABLE upstream_receipt (
    device_id    TEXT    PRIMARY KEY,
    held_through INTEGER NOT NULL,
    missing      TEXT    NOT NULL,
    receipt_id   TEXT    NOT NULL,
    applied_at   TEXT    NOT NULL
);
