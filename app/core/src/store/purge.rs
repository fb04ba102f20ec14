//! The store's purge path, the one exception to the append-only rule: the bodies and
//! attachments of confirmed records leave the device, each log entry keeping its seq and
//! hashes (migration 0017's triggers allow it only while `purge_run` holds its row).

use rusqlite::{params, TransactionBehavior};

use super::{Store, StoreError};

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Observations whose every revision was removed.
    pub observations: u64,
    /// Log entries whose record was emptied.
    pub entries: u64,
    /// The attachment files no remaining record names, to remove from the folder.
    pub attachment_files: Vec<String>,
}

impl Store {
    /// This device's log, as `(observation id, seq)` of every entry still holding its record.
    pub fn unpurged_log(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT observation_id, seq FROM device_log WHERE record <> '' ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many observations were purged so far.
    pub fn purged_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM purged_observation", [], |row| {
                row.get(0)
            })?)
    }

    /// Whether any entry of `first..=last` of the device log was purged.
    pub fn purged_in(&self, first: u64, last: u64) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM device_log WHERE seq BETWEEN ?1 AND ?2 AND record = '')",
            params![first, last],
            |row| row.get(0),
        )?)
    }

    /// Removes the observations `ids` of device `device_id`: their revisions, the records of
    /// their log entries (seq and hashes stay), and the attachments and previews no remaining
    /// revision names; all in one transaction with SQLite's `secure_delete` on, so the freed
    /// pages are overwritten with zeros. Returns what went, and the attachment files to
    /// remove once this is durable.
    pub fn purge_observations(
        &mut self,
        device_id: &str,
        ids: &[String],
        at: &str,
    ) -> Result<Purged, StoreError> {
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("INSERT INTO purge_run (singleton) VALUES (1)", [])?;
        let mut purged = Purged::default();
        for id in ids {
            let revisions = tx.execute(
                "DELETE FROM observation_revision WHERE observation_id = ?1 AND device_id = ?2",
                params![id, device_id],
            )?;
            purged.entries += tx.execute(
                "UPDATE device_log SET record = '' WHERE observation_id = ?1 AND record <> ''",
                [id],
            )? as u64;
            tx.execute(
                "INSERT OR IGNORE INTO purged_observation (observation_id, revisions, purged_at)
                 VALUES (?1, ?2, ?3)",
                params![id, revisions, at],
            )?;
            purged.observations += 1;
        }
        // The attachments no remaining revision names.
        let unnamed = "SELECT sha256, file FROM attachment WHERE lower(hex(sha256)) NOT IN (
                 SELECT json_extract(a.value, '$.sha256')
                 FROM observation_revision AS r, json_each(r.body, '$.attachments') AS a)";
        {
            let mut stmt = tx.prepare(unnamed)?;
            let rows = stmt.query_map([], |row| row.get::<_, String>(1))?;
            purged.attachment_files = rows.collect::<Result<_, _>>()?;
        }
        tx.execute(
            "DELETE FROM attachment_preview WHERE sha256 IN (
                 SELECT sha256 FROM attachment WHERE lower(hex(sha256)) NOT IN (
                     SELECT json_extract(a.value, '$.sha256')
                     FROM observation_revision AS r, json_each(r.body, '$.attachments') AS a))",
            [],
        )?;
        tx.execute(
            "DELETE FROM attachment WHERE lower(hex(sha256)) NOT IN (
                 SELECT json_extract(a.value, '$.sha256')
                 FROM observation_revision AS r, json_each(r.body, '$.attachments') AS a)",
            [],
        )?;
        tx.execute("DELETE FROM purge_run", [])?;
        tx.commit()?;
        Ok(purged)
    }
}
