//! The store's side of revoked devices: the cut-off of each (never lifted, never moved later),
//! and what the import and the queue ask of it.

use rusqlite::{params, OptionalExtension};
use truce_sync::profile::Revocation;
use uuid::Uuid;

use super::{Store, StoreError};

/// Whether a revision lies past its device's cut-off: the SQL condition over an
/// `observation_current`-shaped row `c`.
pub(crate) const AFTER_REVOCATION_SQL: &str = "EXISTS (
    SELECT 1 FROM device_revocation AS v JOIN received_entry AS e ON e.device_id = v.device_id
    WHERE v.device_id = c.device_id AND e.observation_id = c.observation_id
      AND e.revision = c.revision AND e.seq > v.after_seq)";

impl Store {
    /// Keeps a revocation; one of a device revoked already may only move its cut-off earlier.
    /// Returns the revocation in force.
    pub fn revoke_device(&self, r: &Revocation) -> Result<Revocation, StoreError> {
        self.conn.execute(
            "INSERT INTO device_revocation (device_id, device_key, after_seq, revoked_at, reason)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device_id) DO UPDATE SET after_seq = excluded.after_seq
             WHERE excluded.after_seq < device_revocation.after_seq",
            params![
                r.device_id.to_string(),
                r.device_key,
                r.after_seq,
                r.revoked_at.to_rfc3339(),
                r.reason
            ],
        )?;
        self.revocation(r.device_id)?
            .ok_or_else(|| StoreError::Damaged("a revocation just kept is missing".into()))
    }

    /// The revocation of a device, if it is revoked.
    pub fn revocation(&self, device_id: Uuid) -> Result<Option<Revocation>, StoreError> {
        self.conn
            .query_row(
                "SELECT device_key, after_seq, revoked_at, reason FROM device_revocation WHERE device_id = ?1",
                [device_id.to_string()],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, u64>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?
            .map(|(device_key, after_seq, at, reason)| {
                Ok(Revocation {
                    device_id,
                    device_key,
                    after_seq,
                    revoked_at: chrono::DateTime::parse_from_rfc3339(&at)
                        .map_err(|e| StoreError::Damaged(format!("a revocation's time: {e}")))?,
                    reason,
                })
            })
            .transpose()
    }

    /// Every revocation, by device.
    pub fn revocations(&self) -> Result<Vec<Revocation>, StoreError> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT device_id FROM device_revocation ORDER BY device_id")?;
            let rows = stmt.query_map([], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for id in ids {
            let id = Uuid::parse_str(&id).map_err(|e| StoreError::Damaged(e.to_string()))?;
            out.extend(self.revocation(id)?);
        }
        Ok(out)
    }

    /// The Ed25519 key (hex) a known device signs with.
    pub fn known_device_key(&self, device_id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT device_key FROM known_device WHERE device_id = ?1",
                [device_id.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }
}
