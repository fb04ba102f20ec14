//! The store's side of the kept escalation alerts (migration 0009): the alerts the sweep
//! raised, its checkpoints, and what they were evaluated over. All SQL for it lives here.

use rusqlite::{params, OptionalExtension};
use truce_sync::ObservationKey;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::alerts::{Alert, Checkpoint, OpenWindow, SweepOutcome};

/// What the kept alerts were evaluated over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptSweep {
    /// The revisions marker then.
    pub revisions_marker: i64,
    /// The earliest time whose alerts must be evaluated again although no revision was added
    /// (a device accepted since), if any.
    pub touched_from_ms: Option<i64>,
}

/// Where a sweep resumed: the boundary of the checkpoint it started from and how many alerts
/// had closed before it. Everything kept before it stays; everything after is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumedFrom {
    /// The checkpoint's boundary, Unix milliseconds.
    pub boundary_ms: i64,
    /// The alerts closed before it.
    pub closed_alerts: usize,
}

/// The query of [`Store::earliest_time_touched_since`]. The revisions added after the marker
/// are read by rowid range alone (`NOT INDEXED`): left to itself, SQLite answers the first
/// `min(observed_at_ms)` by walking the alerts' index in time order until it meets a rowid past
/// the marker, which for recent reports is the whole index (405 ms at a million).
pub(super) const EARLIEST_TIME_TOUCHED: &str = "SELECT min(t) FROM (
         SELECT min(observed_at_ms) AS t FROM observation_revision NOT INDEXED WHERE rowid > ?1
         UNION ALL
         SELECT (SELECT min(h.observed_at_ms) FROM observation_revision AS h
                 WHERE h.observation_id = r.observation_id AND h.device_id = r.device_id)
         FROM observation_revision AS r NOT INDEXED WHERE r.rowid > ?1 AND r.revision > 1
     )";

impl Store {
    /// The revisions marker (see [`Store::revisions_marker`]) the kept alerts were evaluated
    /// over, if the kept alerts are those of the rules and areas with this `digest`; with the
    /// time from which they must be swept again all the same (a device accepted since), if any.
    pub fn alert_sweep_marker(&self, digest: &str) -> Result<Option<KeptSweep>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT revisions_marker, touched_from_ms FROM alert_sweep WHERE rules_digest = ?1",
                [digest],
                |row| {
                    Ok(KeptSweep {
                        revisions_marker: row.get(0)?,
                        touched_from_ms: row.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// The time from which the kept alerts must be swept again although no revision was added
    /// (see [`Store::accept_device`]), whatever rules they were kept for.
    pub fn alert_sweep_touched_from(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT min(touched_from_ms) FROM alert_sweep", [], |row| {
                row.get(0)
            })?)
    }

    /// The earliest observation time any revision added after `marker` touches: its own time
    /// and, for a later revision, that of every revision of the same observation, so the time
    /// of the revision it supersedes is included. `None` if nothing was added. Streams: each
    /// later revision looks up its observation's revisions by the primary key, and no list of
    /// the new ones is built (an import may add a million).
    pub fn earliest_time_touched_since(&self, marker: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(EARLIEST_TIME_TOUCHED, [marker], |row| row.get(0))?)
    }

    /// The last kept checkpoint at or before `ms`, with its open windows.
    pub fn alert_checkpoint_at_or_before(&self, ms: i64) -> Result<Option<Checkpoint>, StoreError> {
        let Some((boundary_ms, closed)) = self
            .conn
            .query_row(
                "SELECT boundary_ms, closed_alerts FROM alert_checkpoint
                 WHERE boundary_ms <= ?1 ORDER BY boundary_ms DESC LIMIT 1",
                [ms],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
            )
            .optional()?
        else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare(
            "SELECT rule, area, times, ids FROM alert_checkpoint_window WHERE boundary_ms = ?1",
        )?;
        let mut rows = stmt.query([boundary_ms])?;
        let mut windows = Vec::new();
        while let Some(row) = rows.next()? {
            let rule: i64 = row.get(0)?;
            let times: Vec<u8> = row.get(2)?;
            if !times.len().is_multiple_of(8) {
                return Err(damaged("an open window's times are cut short"));
            }
            let ids = ids_of(&row.get::<_, Vec<u8>>(3)?)?;
            let times: Vec<i64> = times
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect();
            if times.len() != ids.len() {
                return Err(damaged("an open window's times and ids differ in number"));
            }
            windows.push(OpenWindow {
                rule: usize::try_from(rule).map_err(|_| damaged("a negative rule index"))?,
                area: row.get(1)?,
                records: times.into_iter().zip(ids).collect(),
            });
        }
        Ok(Some(Checkpoint {
            boundary_ms,
            closed_alerts: usize::try_from(closed)
                .map_err(|_| damaged("a negative count of closed alerts"))?,
            windows,
        }))
    }

    /// Keeps what a sweep of the rules and areas with this `digest` left, over the revisions
    /// up to `marker`, in one transaction. A sweep that `resumed` replaces only what was kept
    /// after its checkpoint; one from the start replaces everything.
    pub fn keep_alert_sweep(
        &self,
        digest: &str,
        marker: i64,
        resumed: Option<ResumedFrom>,
        outcome: &SweepOutcome,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let first_seq = match resumed {
            Some(from) => {
                let closed = i64::try_from(from.closed_alerts).unwrap_or(i64::MAX);
                tx.execute(
                    "DELETE FROM alert_raised WHERE seq >= ?1 OR open_at_end = 1",
                    [closed],
                )?;
                tx.execute(
                    "DELETE FROM alert_checkpoint_window WHERE boundary_ms > ?1",
                    [from.boundary_ms],
                )?;
                tx.execute(
                    "DELETE FROM alert_checkpoint WHERE boundary_ms > ?1",
                    [from.boundary_ms],
                )?;
                closed
            }
            None => {
                tx.execute_batch(
                    "DELETE FROM alert_raised;
                     DELETE FROM alert_checkpoint_window;
                     DELETE FROM alert_checkpoint;",
                )?;
                0
            }
        };
        {
            let mut raise = tx.prepare(
                "INSERT INTO alert_raised (seq, open_at_end, rule, level, area, from_ms, to_ms, records)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let raised = outcome
                .closed
                .iter()
                .map(|a| (a, false))
                .chain(outcome.open_at_end.iter().map(|a| (a, true)));
            for (seq, (alert, open_at_end)) in (first_seq..).zip(raised) {
                let records: Vec<u8> = alert.records.iter().flat_map(key_bytes).collect();
                raise.execute(params![
                    seq,
                    open_at_end,
                    alert.rule,
                    alert.level,
                    alert.area,
                    alert.from_ms,
                    alert.to_ms,
                    records
                ])?;
            }
            let mut checkpoint = tx.prepare(
                "INSERT INTO alert_checkpoint (boundary_ms, closed_alerts) VALUES (?1, ?2)",
            )?;
            let mut window = tx.prepare(
                "INSERT INTO alert_checkpoint_window (boundary_ms, rule, area, times, ids)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for c in &outcome.checkpoints {
                checkpoint.execute(params![
                    c.boundary_ms,
                    i64::try_from(c.closed_alerts).unwrap_or(i64::MAX)
                ])?;
                for w in &c.windows {
                    let times: Vec<u8> = w
                        .records
                        .iter()
                        .flat_map(|(t, _)| t.to_le_bytes())
                        .collect();
                    let ids: Vec<u8> = w
                        .records
                        .iter()
                        .flat_map(|(_, key)| key_bytes(key))
                        .collect();
                    window.execute(params![
                        c.boundary_ms,
                        i64::try_from(w.rule).unwrap_or(i64::MAX),
                        w.area,
                        times,
                        ids
                    ])?;
                }
            }
        }
        tx.execute("DELETE FROM alert_sweep", [])?;
        tx.execute(
            "INSERT INTO alert_sweep (rules_digest, revisions_marker) VALUES (?1, ?2)",
            params![digest, marker],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets the kept alerts aside: the next evaluation sweeps from the start.
    pub fn forget_kept_alerts(&self) -> Result<(), StoreError> {
        self.conn.execute_batch(
            "BEGIN;
             DELETE FROM alert_sweep;
             DELETE FROM alert_raised;
             DELETE FROM alert_checkpoint_window;
             DELETE FROM alert_checkpoint;
             COMMIT;",
        )?;
        Ok(())
    }

    /// Tests: drops the first kept alert, as a bug or a damaged row would.
    #[cfg(test)]
    pub(crate) fn drop_first_kept_alert(&self) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM alert_raised WHERE seq = (SELECT min(seq) FROM alert_raised)",
            [],
        )?;
        Ok(())
    }

    /// Tests: keeping alerts fails from now on in this connection, as on a full disk.
    #[cfg(test)]
    pub(crate) fn refuse_keeping_alerts(&self) -> Result<(), StoreError> {
        self.conn.execute_batch(
            "CREATE TEMP TRIGGER refuse_keeping BEFORE INSERT ON main.alert_sweep
             BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
        )?;
        Ok(())
    }

    /// The kept alerts, closed ones and those open at the end alike, in the order raised.
    pub fn kept_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT rule, level, area, from_ms, to_ms, records FROM alert_raised ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut alerts = Vec::new();
        while let Some(row) = rows.next()? {
            alerts.push(Alert {
                rule: row.get(0)?,
                level: row.get(1)?,
                area: row.get(2)?,
                from_ms: row.get(3)?,
                to_ms: row.get(4)?,
                records: ids_of(&row.get::<_, Vec<u8>>(5)?)?,
            });
        }
        Ok(alerts)
    }
}

/// An observation's key as kept: its id's 16 bytes, then its device's (since 0011).
fn key_bytes(key: &ObservationKey) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(key.id.as_bytes());
    bytes[16..].copy_from_slice(key.device_id.as_bytes());
    bytes
}

/// Observation keys kept 32 bytes each (see [`key_bytes`]).
fn ids_of(bytes: &[u8]) -> Result<Vec<ObservationKey>, StoreError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(damaged("a list of observations is cut short"));
    }
    let uuid = |b: &[u8]| Uuid::from_bytes(b.try_into().unwrap_or_default());
    Ok(bytes
        .chunks_exact(32)
        .map(|b| ObservationKey {
            id: uuid(&b[..16]),
            device_id: uuid(&b[16..]),
        })
        .collect())
}

fn damaged(what: &str) -> StoreError {
    StoreError::Damaged(format!(
        "the kept escalation alerts are unreadable ({what}); run `truce check`"
    ))
}
