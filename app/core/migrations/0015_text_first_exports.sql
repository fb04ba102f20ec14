-- 0015: text-first exports. A courier with a small stick takes the records now and the media
-- later: such a bundle names its records' attachments as pending instead of carrying them.
-- `attachments_pending` marks those exports; the next export with the media re-sends their
-- range with the files (the coordinator holds the entries already and keeps the files), and a
-- range is owed its media until a later export without pending attachments covers it.
-- Shipped: never edit this file; add a new numbered migration instead.

ALTER TABLE bundle_export ADD COLUMN attachments_pending INTEGER NOT NULL DEFAULT 0;
