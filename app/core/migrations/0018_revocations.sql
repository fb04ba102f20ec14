-- 0018: revoked devices. A coordinator cuts off a device (stolen, lost, or no longer the
-- mission's) after a sequence number of its log, not a time, because whoever holds the
-- device's key can forge times but not what the coordinators already hold. Bundles from it
-- that go past the cut-off are quarantined; entries held past it are flagged. Revocations
-- travel in the next profile and receipts; a coordinator installing a profile keeps the
-- revocations it lists. A revocation is never lifted or moved later.
-- Shipped: never edit this file; add a new numbered migration instead.

CREATE TABLE device_revocation (
    device_id  TEXT    PRIMARY KEY,
    device_key TEXT    NOT NULL,
    after_seq  INTEGER NOT NULL CHECK (after_seq >= 0),
    revoked_at TEXT    NOT NULL,
    reason     TEXT    NOT NULL
);

CREATE TRIGGER device_revocation_no_delete BEFORE DELETE ON device_revocation
BEGIN
    SELECT RAISE(ABORT, 'a revocation is never lifted');
END;

CREATE TRIGGER device_revocation_only_earlier BEFORE UPDATE ON device_revocation
WHEN NEW.after_seq > OLD.after_seq OR NEW.device_id <> OLD.device_id
BEGIN
    SELECT RAISE(ABORT, 'a revocation is never moved later');
END;
