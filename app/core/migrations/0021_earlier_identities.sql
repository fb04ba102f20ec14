-- 0021: a coordinator keeps every age identity it ever held. When it rotates its key, or
-- imports the identities of the coordinator it succeeds, the earlier ones stay here so the
-- bundles, receipts and enrolment requests sealed to them still open. Nothing removes one; the
-- emergency wipe destroys the whole journal.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE earlier_coordinator_identity (
    recipient  TEXT NOT NULL PRIMARY KEY,
    secret     TEXT NOT NULL,
    origin     TEXT NOT NULL CHECK (origin IN ('rotated', 'imported')),
    kept_at    TEXT NOT NULL
);

CREATE TRIGGER earlier_coordinator_identity_no_update BEFORE UPDATE ON earlier_coordinator_identity
BEGIN
    SELECT RAISE(ABORT, 'earlier identities are kept as they are');
END;

CREATE TRIGGER earlier_coordinator_identity_no_delete BEFORE DELETE ON earlier_coordinator_identity
BEGIN
    SELECT RAISE(ABORT, 'earlier identities are kept as they are');
END;
