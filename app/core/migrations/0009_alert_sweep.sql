-- 0009: the escalation alerts are kept, with checkpoints of the sweep that raised them, so a
-- journal of a million observations does not sweep them all again after every import. The
-- rules sweep the latest revisions in time order; a checkpoint is the sweep's whole state
-- just before the first observation at `boundary_ms`. After an import, the sweep resumes from
-- the last checkpoint at or before the earliest time any new revision (or the revision it
-- supersedes) touches, and what came after that checkpoint is replaced.
--
-- Everything here is derived: deleting it only costs one full sweep.

-- What the kept alerts were evaluated over: the digest of the rules and areas, and the
-- revisions held (the largest `observation_revision` rowid). At most one row.
CREATE TABLE alert_sweep (
    rules_digest TEXT PRIMARY KEY,
    revisions_marker INTEGER NOT NULL
);

-- Alerts in the order the sweep raised them. Those with `open_at_end = 0` closed before the
-- sweep's end; those with `open_at_end = 1` were still open there and are evaluated again on
-- resume. `records` is the observations' ids, 16 bytes each, oldest first.
CREATE TABLE alert_raised (
    seq INTEGER PRIMARY KEY,
    open_at_end INTEGER NOT NULL,
    rule TEXT NOT NULL,
    level INTEGER NOT NULL,
    area TEXT NOT NULL,
    from_ms INTEGER NOT NULL,
    to_ms INTEGER NOT NULL,
    records BLOB NOT NULL
);

-- The sweep's state just before its first observation at `boundary_ms`: how many alerts it
-- had closed, and (below) each rule and area's open window.
CREATE TABLE alert_checkpoint (
    boundary_ms INTEGER PRIMARY KEY,
    closed_alerts INTEGER NOT NULL
);

-- One open window at a checkpoint: `rule` indexes the profile's rules; `times` (8 bytes each,
-- little-endian) and `ids` (16 bytes each) are its observations, oldest first.
CREATE TABLE alert_checkpoint_window (
    boundary_ms INTEGER NOT NULL REFERENCES alert_checkpoint (boundary_ms) ON DELETE CASCADE,
    rule INTEGER NOT NULL,
    area TEXT NOT NULL,
    times BLOB NOT NULL,
    ids BLOB NOT NULL,
    PRIMARY KEY (boundary_ms, rule, area)
);
