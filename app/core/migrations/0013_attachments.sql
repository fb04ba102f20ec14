-- Evidence attachments (photos, audio, video, PDF) kept at rest.
--
-- The bytes are not in the database: each original lives under `attachments/` in the data
-- folder as one age file, encrypted to the journal's own attachment identity, whose secret is
-- this table `attachment_identity` (inside SQLCipher, so destroying the key file makes every
-- attachment unreadable with the rest). `attachment` maps the SHA-256 of an original, which
-- records name, to its file: a random name that says nothing about the content. A row is
-- written in the same transaction as the revision that first names the file, after the file is
-- complete and durable, so a record never points at a half-stored file.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE attachment_identity (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);

CREATE TABLE attachment (
    sha256     BLOB    PRIMARY KEY CHECK (length(sha256) = 32),
    file       TEXT    NOT NULL UNIQUE,
    size       INTEGER NOT NULL CHECK (size > 0),
    media_type TEXT    NOT NULL,
    stored_at  TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER attachment_no_update BEFORE UPDATE ON attachment
BEGIN
    SELECT RAISE(ABORT, 'stored attachments are never rewritten');
END;
