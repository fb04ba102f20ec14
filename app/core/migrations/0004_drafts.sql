-- 0004: the unfinished report, kept inside the encrypted journal (never in plaintext) so it
-- survives closing the app. One draft at a time; secure_delete zeroes it when discarded.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE draft (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    body      TEXT NOT NULL,
    saved_at  TEXT NOT NULL
);
