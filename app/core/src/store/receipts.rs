//! The store's side of receipts: the device's own age identity, where each known device's
//! receipts go, and the receipts a device applied (append-only).

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{Store, StoreError};

/// A receipt as a device keeps it once applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRow {
    /// The receipt's random id.
    pub receipt_id: String,
    /// The coordinator key that signed it (hex).
    pub signer_key: String,
    /// The coordinator's name.
    pub coordinator: String,
    /// When the coordinator wrote it (RFC 3339).
    pub issued_at: String,
    /// When this device applied it (RFC 3339).
    pub applied_at: String,
    /// The highest entry held.
    pub held_through: u64,
    /// The ranges below it that never arrived.
    pub missing: Vec<(u64, u64)>,
    /// The last export written when it was applied (0: none).
    pub exports_before: i64,
}

/// Where a coordinator sends a device's receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptAddress {
    /// The device.
    pub device_id: Uuid,
    /// Its Ed25519 key (hex).
    pub device_key: String,
    /// Its observer.
    pub observer: String,
    /// Its age recipient, from its latest bundle.
    pub recipient: String,
}

impl Store {
    /// This device's own age identity (secret text), if one was made.
    pub fn device_age_secret(&self) -> Result<Option<Zeroizing<String>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT secret FROM device_age_identity WHERE singleton = 1",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional()?
            .map(Zeroizing::new))
    }

    /// Stores this device's age identity; refuses to replace one.
    pub fn set_device_age_secret(&self, secret: &str, created_at: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO device_age_identity (singleton, secret, created_at) VALUES (1, ?1, ?2)",
            params![secret, created_at],
        )?;
        Ok(())
    }

    /// The devices a coordinator can answer: those whose bundles named a return path.
    pub fn receipt_addresses(&self) -> Result<Vec<ReceiptAddress>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT device_id, device_key, observer, recipient FROM known_device
             WHERE recipient IS NOT NULL ORDER BY first_seen, device_id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, device_key, observer, recipient) = row?;
            let device_id = Uuid::parse_str(&id)
                .map_err(|e| StoreError::Damaged(format!("a known device's id: {e}")))?;
            out.push(ReceiptAddress {
                device_id,
                device_key,
                observer,
                recipient,
            });
        }
        Ok(out)
    }

    /// Keeps a receipt and, with it, the profile it brought (`(text, installed_at)`), in one
    /// transaction. Returns false, changing nothing, when that receipt was applied already.
    pub fn apply_receipt(
        &mut self,
        row: &ReceiptRow,
        profile: Option<(&str, &str)>,
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let missing = serde_json::to_string(&row.missing)
            .map_err(|e| StoreError::Damaged(format!("a receipt's missing ranges: {e}")))?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO device_receipt
                 (receipt_id, signer_key, coordinator, issued_at, applied_at, held_through, missing, exports_before)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                row.receipt_id,
                row.signer_key,
                row.coordinator,
                row.issued_at,
                row.applied_at,
                row.held_through,
                missing,
                row.exports_before
            ],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        if let Some((text, at)) = profile {
            tx.execute(
                "INSERT INTO mission_profile (singleton, text, installed_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (singleton) DO UPDATE SET text = excluded.text, installed_at = excluded.installed_at",
                params![text, at],
            )?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// Every receipt this device applied, in the order it applied them.
    pub fn receipts(&self) -> Result<Vec<ReceiptRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT receipt_id, signer_key, coordinator, issued_at, applied_at, held_through, missing, exports_before
             FROM device_receipt ORDER BY rowid",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                ReceiptRow {
                    receipt_id: row.get(0)?,
                    signer_key: row.get(1)?,
                    coordinator: row.get(2)?,
                    issued_at: row.get(3)?,
                    applied_at: row.get(4)?,
                    held_through: row.get(5)?,
                    missing: Vec::new(),
                    exports_before: row.get(7)?,
                },
                row.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut receipt, missing) = row?;
            receipt.missing = serde_json::from_str(&missing)
                .map_err(|e| StoreError::Damaged(format!("a receipt's missing ranges: {e}")))?;
            out.push(receipt);
        }
        Ok(out)
    }

    /// The last export row written (0: none), to tell later exports from earlier ones.
    pub fn last_export_row(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(rowid), 0) FROM bundle_export",
            [],
            |row| row.get(0),
        )?)
    }

    /// The ranges of the exports written after export row `after`.
    pub fn exported_ranges_after(&self, after: i64) -> Result<Vec<(u64, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT first_seq, last_seq FROM bundle_export WHERE rowid > ?1")?;
        let rows = stmt.query_map([after], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
