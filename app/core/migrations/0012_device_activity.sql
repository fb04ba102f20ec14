-- What a coordinator shows of a device's activity: when its latest bundle was made, and the
-- newest entry received from it, rather than when a stick was last imported. Re-importing an
-- old bundle no longer makes a silent team look fresh.
--
-- `bundle_import.created_at`: the manifest's `created_at` as written (with the device's
-- offset), and `created_at_ms` for ordering. Bundles imported before this migration have none.
-- `known_device.newest_entry_ms`: the latest `recorded_at` among the device's records held
-- (Unix milliseconds), filled here from the revisions already held.
-- Shipped: never edit this file; add a new numbered migration instead.

ALTER TABLE bundle_import ADD COLUMN created_at TEXT;
ALTER TABLE bundle_import ADD COLUMN created_at_ms INTEGER;
ALTER TABLE known_device ADD COLUMN newest_entry_ms INTEGER;
UPDATE known_device SET newest_entry_ms = (
    SELECT max(CAST(round((julianday(o.recorded_at) - 2440587.5) * 86400000.0) AS INTEGER))
    FROM observation_revision o
    WHERE o.device_id = known_device.device_id
);
