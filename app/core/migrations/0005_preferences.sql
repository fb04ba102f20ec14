-- 0005: the coordinator's working preferences (report cut-off, export folder, queue filters),
-- kept inside the encrypted journal and never in the plaintext settings.json: on a seized
-- device, filters and folders say what a coordinator is looking at. One JSON value per key.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE preference (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
