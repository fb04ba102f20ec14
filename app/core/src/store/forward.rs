//! The store's side of relaying through a regional office: the bundle files kept for HQ, and
//! what HQ's receipts say it holds of each device.

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::{Store, StoreError};

/// What HQ holds of a device: through which seq, and the ranges missing below it.
pub type Upstream = (u64, Vec<(u64, u64)>);

/// A bundle file kept to forward to HQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptBundle {
    /// The device it is from.
    pub device_id: Uuid,
    /// Its id.
    pub bundle_id: String,
    /// Its first entry.
    pub first_seq: u64,
    /// Its last entry.
    pub last_seq: u64,
    /// The kept file's name in the journal's `forward/` folder.
    pub file: String,
    /// The name it arrived with.
    pub name: String,
}

impl Store {
    /// Remembers a kept bundle file; false if that bundle is kept already.
    pub fn keep_forward_bundle(&self, b: &KeptBundle, at: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "INSERT OR IGNORE INTO forward_bundle (device_id, bundle_id, first_seq, last_seq, file, name, kept_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![b.device_id.to_string(), b.bundle_id, b.first_seq, b.last_seq, b.file, b.name, at],
        )? == 1)
    }

    /// The kept bundles not yet forwarded and not confirmed by HQ, oldest first.
    pub fn bundles_to_forward(&self) -> Result<Vec<KeptBundle>, StoreError> {
        self.kept_bundles("forwarded_at IS NULL AND confirmed_at IS NULL")
    }

    /// The kept bundles HQ has not confirmed yet.
    pub fn unconfirmed_forward_bundles(&self) -> Result<Vec<KeptBundle>, StoreError> {
        self.kept_bundles("confirmed_at IS NULL")
    }

    fn kept_bundles(&self, condition: &str) -> Result<Vec<KeptBundle>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT device_id, bundle_id, first_seq, last_seq, file, name FROM forward_bundle
             WHERE {condition} ORDER BY kept_at, rowid"
        ))?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, u64>(2)?,
                row.get::<_, u64>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, bundle_id, first_seq, last_seq, file, name) = row?;
            out.push(KeptBundle {
                device_id: Uuid::parse_str(&id).map_err(|e| StoreError::Damaged(e.to_string()))?,
                bundle_id,
                first_seq,
                last_seq,
                file,
                name,
            });
        }
        Ok(out)
    }

    /// Marks a kept bundle forwarded (written out for HQ).
    pub fn mark_forwarded(&self, file: &str, at: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE forward_bundle SET forwarded_at = ?2 WHERE file = ?1",
            params![file, at],
        )?;
        Ok(())
    }

    /// Marks a kept bundle confirmed by HQ (its file is removed by the caller).
    pub fn mark_confirmed_upstream(&self, file: &str, at: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE forward_bundle SET confirmed_at = ?2 WHERE file = ?1",
            params![file, at],
        )?;
        Ok(())
    }

    /// Keeps what HQ's receipt says it holds of a device; an older receipt (a lower
    /// `held_through`) never replaces a newer one. Returns whether it was kept.
    pub fn keep_upstream_receipt(
        &self,
        device_id: Uuid,
        held_through: u64,
        missing: &[(u64, u64)],
        receipt_id: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        let missing = serde_json::to_string(missing)
            .map_err(|e| StoreError::Damaged(format!("a receipt's missing ranges: {e}")))?;
        Ok(self.conn.execute(
            "INSERT INTO upstream_receipt (device_id, held_through, missing, receipt_id, applied_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device_id) DO UPDATE SET held_through = excluded.held_through,
                 missing = excluded.missing, receipt_id = excluded.receipt_id,
                 applied_at = excluded.applied_at
             WHERE excluded.held_through >= upstream_receipt.held_through",
            params![device_id.to_string(), held_through, missing, receipt_id, at],
        )? == 1)
    }

    /// What HQ's latest receipt says it holds of a device: through which seq, and the gaps.
    pub fn upstream_receipt(&self, device_id: Uuid) -> Result<Option<Upstream>, StoreError> {
        let row: Option<(u64, String)> = self
            .conn
            .query_row(
                "SELECT held_through, missing FROM upstream_receipt WHERE device_id = ?1",
                [device_id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        row.map(|(held, missing)| {
            let missing = serde_json::from_str(&missing)
                .map_err(|e| StoreError::Damaged(format!("a receipt's missing ranges: {e}")))?;
            Ok((held, missing))
        })
        .transpose()
    }
}
