-- 0019: enrolment. A mission may require that only devices its coordinators enrolled count:
-- a device writes an enrolment request (its id, keys, observer and team, signed, sealed to the
-- coordinators), and a coordinator enrols it after comparing its fingerprint with the
-- observer. `enrolled_at` says when; an enrolled device is accepted too.
-- Shipped: never edit this file; add a new numbered migration instead.

ALTER TABLE known_device ADD COLUMN enrolled_at TEXT;
