-- 0014: what an evidence package needs, kept at import, and the previews the screens show.
--
-- `bundle_signed_text`: for every bundle a coordinator imports, the exact JSON Lines the
-- device's signature covers (manifest and entries), zstd-compressed in one age file under
-- `attachments/` (encrypted to the journal's attachment identity, like the originals), with
-- the signature and, for version 2, the hashes of the attachments it carried in order. With
-- them `truce evidence` shows a court the signed entry that names an original, and anyone can
-- check the signature with stock tools. A bundle's row is written in its import savepoint.
--
-- `attachment_preview`: derived data, remade at will and never signed: an image's thumbnail
-- (JPEG, inside SQLCipher, so never in the clear on disk) and its size in pixels, a
-- recording's duration, or why no preview could be made (an image too large to decode,
-- kept so that a bomb is not decoded twice).
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE bundle_signed_text (
    bundle_id         TEXT    PRIMARY KEY,
    device_id         TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    first_seq         INTEGER NOT NULL,
    last_seq          INTEGER NOT NULL,
    file              TEXT    NOT NULL UNIQUE,
    lines_sha256      BLOB    NOT NULL CHECK (length(lines_sha256) = 32),
    signature         BLOB    NOT NULL CHECK (length(signature) = 64),
    attachment_hashes BLOB    NOT NULL CHECK (length(attachment_hashes) % 32 = 0),
    kept_at           TEXT    NOT NULL
);

CREATE INDEX bundle_signed_text_by_device ON bundle_signed_text (device_id, first_seq);

CREATE TRIGGER bundle_signed_text_no_update BEFORE UPDATE ON bundle_signed_text
BEGIN
    SELECT RAISE(ABORT, 'kept signed texts are never rewritten');
END;

CREATE TABLE attachment_preview (
    sha256      BLOB    PRIMARY KEY CHECK (length(sha256) = 32),
    width       INTEGER,
    height      INTEGER,
    duration_ms INTEGER,
    thumbnail   BLOB,
    problem     TEXT,
    made_at     TEXT    NOT NULL
) WITHOUT ROWID;
