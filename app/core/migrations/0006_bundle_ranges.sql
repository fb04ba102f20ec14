-- 0006: the range of entries each imported bundle held, so a device's gaps come from its few
-- hundred bundles instead of a scan of every entry received (a million, after a year).
-- Imports recorded before this migration have no range; their devices' gaps are still found
-- by scanning the entries.
-- Shipped: never edit this file; add a new numbered migration instead.

ALTER TABLE bundle_import ADD COLUMN first_seq INTEGER;
ALTER TABLE bundle_import ADD COLUMN last_seq INTEGER;
