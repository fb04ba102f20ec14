//! The store's side of bundles: the device log, exports, the mission profile, the coordinator
//! identity, known devices and received entries. All SQL for sync lives here.

use rusqlite::{
    params, Connection, OptionalExtension, Savepoint, Transaction, TransactionBehavior,
};
use truce_sync::log::{EntryHash, HeldStretch, LogEntry, ParsedRecord, StoredEntry};
use truce_sync::{Observation, ObservationRevision};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{insert_revision_text, RevisionText, Store, StoreError};

fn received_gaps(conn: &Connection, device_id: Uuid) -> Result<Vec<(u64, u64)>, StoreError> {
    let device = device_id.to_string();
    let ranges: Vec<(Option<u64>, Option<u64>)> = conn
        .prepare_cached(
            "SELECT first_seq, last_seq FROM bundle_import WHERE device_id = ?1 AND status = 'imported'",
        )?
        .query_map([&device], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let known: Option<Vec<(u64, u64)>> = ranges
        .iter()
        .map(|(first, last)| Some(((*first)?, (*last)?)))
        .collect();
    if let Some(known) = known.filter(|k| !k.is_empty()) {
        return Ok(truce_sync::log::gaps_in_ranges(known));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT 1, min(seq) - 1 FROM received_entry WHERE device_id = ?1 HAVING min(seq) > 1
         UNION ALL
         SELECT seq + 1, next - 1 FROM (
             SELECT seq, lead(seq) OVER (ORDER BY seq) AS next
             FROM received_entry WHERE device_id = ?1
         ) WHERE next > seq + 1
         ORDER BY 1",
    )?;
    let gaps = stmt
        .query_map([device], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(gaps)
}

/// Column `i` of `row` as text, borrowed from the row.
fn stored_text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str, StoreError> {
    row.get_ref(i)?
        .as_str()
        .map_err(|e| StoreError::Damaged(format!("a stored log entry is unreadable: {e}")))
}

/// Column `i` of `row` as an entry hash: its 32 bytes (received entries since migration 0010)
/// or 64 hex digits.
fn stored_hash(row: &rusqlite::Row<'_>, i: usize) -> Result<EntryHash, StoreError> {
    match row.get_ref(i)? {
        rusqlite::types::ValueRef::Blob(bytes) => bytes.try_into().map(EntryHash).map_err(|_| {
            StoreError::Damaged(format!("a stored hash has {} bytes, not 32", bytes.len()))
        }),
        _ => hash_from(stored_text(row, i)?),
    }
}

fn hash_from(text: &str) -> Result<EntryHash, StoreError> {
    EntryHash::from_hex(text)
        .ok_or_else(|| StoreError::Damaged(format!("a stored hash is unreadable: {text}")))
}

/// Appends `rev` to this device's log inside `tx`.
pub(super) fn append_log(
    tx: &Transaction<'_>,
    rev: &ObservationRevision,
) -> Result<(), StoreError> {
    let head: Option<(u64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM device_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match head {
        Some((seq, hash)) => (seq + 1, hash_from(&hash)?),
        None => (1, EntryHash::GENESIS),
    };
    let entry = LogEntry::new(seq, prev, truce_sync::log::record_json(rev))
        .map_err(|e| StoreError::Damaged(e.to_string()))?;
    tx.execute(
        "INSERT INTO device_log (seq, observation_id, revision, prev_hash, hash, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            entry.seq,
            rev.observation.id.to_string(),
            rev.revision,
            entry.prev_hash.to_hex(),
            entry.hash.to_hex(),
            entry.record.get()
        ],
    )?;
    Ok(())
}

/// A run of bundle imports: one write transaction that the bundles share, each bundle in its own
/// savepoint, so the run waits for one `fsync` per [`ImportRun::commit`] instead of one per bundle.
/// Nothing is durable before a commit; dropped uncommitted, the run rolls back.
pub struct ImportRun<'a> {
    conn: &'a Connection,
    tx: Option<Transaction<'a>>,
    pending_entries: u64,
}

/// One bundle's import inside a run: a savepoint, kept only by [`Import::finish`] and rolled back
/// if dropped (a refused bundle leaves nothing behind).
pub struct Import<'a> {
    tx: Savepoint<'a>,
}

/// What an import keeps of a bundle it merged: which one it was, the range of the device's log
/// it carried, when it was made (its manifest's `created_at`) and when the newest record it
/// carries was saved (what the device list shows of a device's activity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedBundle<'a> {
    /// The bundle's id.
    pub bundle_id: &'a str,
    /// Its file's name.
    pub file_name: &'a str,
    /// The first and last seq it carried.
    pub range: (u64, u64),
    /// The manifest's `created_at`.
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    /// The latest `recorded_at` among its records (Unix milliseconds); `None` if it has none.
    pub newest_entry_ms: Option<i64>,
}

/// A device as registered from its first bundle: its key, its observer, and whether the
/// coordinator accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRegistration {
    /// The device's id.
    pub device_id: Uuid,
    /// Its Ed25519 public key, hex.
    pub device_key: String,
    /// The observer named in its first bundle.
    pub observer: String,
    /// Whether the coordinator accepted it (its records count).
    pub accepted: bool,
    /// Whether a coordinator enrolled it (from its enrolment request).
    pub enrolled: bool,
}

impl Store {
    /// The highest sequence number in this device's log (0 if empty).
    pub fn log_head(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM device_log", [], |row| {
                row.get(0)
            })?)
    }

    /// The range `(first, last)` of every bundle this device wrote, in no order.
    pub fn exported_ranges(&self) -> Result<Vec<(u64, u64)>, StoreError> {
        let ranges = self
            .conn
            .prepare_cached("SELECT first_seq, last_seq FROM bundle_export")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(ranges)
    }

    /// Calls `f` for each log entry from `from` to `to`, in order, streaming from the database.
    /// Entries come as stored, their records unparsed: `f` checks their hashes (see
    /// [`StoredEntry`]).
    pub fn each_log_entry<E: From<StoreError>>(
        &self,
        from: u64,
        to: u64,
        mut f: impl FnMut(StoredEntry<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, prev_hash, hash, record FROM device_log WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq")
            .map_err(StoreError::from)?;
        let mut rows = stmt.query(params![from, to]).map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let seq: u64 = row.get(0).map_err(StoreError::from)?;
            f(StoredEntry {
                seq,
                prev_hash: stored_hash(row, 1)?,
                hash: stored_hash(row, 2)?,
                record: stored_text(row, 3)?,
            })?;
        }
        Ok(())
    }

    /// Calls `f` with every entry received from other devices, by device then sequence, each
    /// with its record whole as it was signed (see migration 0007). Hashes are not checked here.
    pub fn each_received_entry<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(&str, StoredEntry<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stmt = self
            .conn
            .prepare("SELECT device_id, seq, prev_hash, hash, record FROM received_record ORDER BY device_id, seq")
            .map_err(StoreError::from)?;
        let mut rows = stmt.query([]).map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let device = stored_text(row, 0)?;
            let seq: u64 = row.get(1).map_err(StoreError::from)?;
            if row.get_ref(4).map_err(StoreError::from)? == rusqlite::types::ValueRef::Null {
                return Err(StoreError::Damaged(format!(
                    "entry {seq} of device {device} refers to a revision that is not held"
                ))
                .into());
            }
            f(
                device,
                StoredEntry {
                    seq,
                    prev_hash: stored_hash(row, 2)?,
                    hash: stored_hash(row, 3)?,
                    record: stored_text(row, 4)?,
                },
            )?;
        }
        Ok(())
    }

    /// Remembers a bundle this device wrote.
    pub fn record_export(
        &self,
        bundle_id: &str,
        created_at: &str,
        (first, last): (u64, u64),
        file_name: &str,
        attachments_pending: bool,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO bundle_export (bundle_id, created_at, first_seq, last_seq, file_name, attachments_pending)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![bundle_id, created_at, first, last, file_name, attachments_pending],
        )?;
        Ok(())
    }

    /// The ranges of text-first exports still owed their media: no export written after them
    /// without pending attachments covers them. Lowest first, each once.
    pub fn media_pending_ranges(&self) -> Result<Vec<(u64, u64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT t.first_seq, t.last_seq FROM bundle_export AS t
             WHERE t.attachments_pending = 1 AND NOT EXISTS (
                 SELECT 1 FROM bundle_export AS f
                 WHERE f.attachments_pending = 0 AND f.rowid > t.rowid
                   AND f.first_seq <= t.first_seq AND f.last_seq >= t.last_seq)
             ORDER BY t.first_seq, t.last_seq",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The installed mission profile's signed text.
    pub fn profile_text(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT text FROM mission_profile WHERE singleton = 1",
                [],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Installs or replaces the mission profile.
    pub fn set_profile(&self, text: &str, installed_at: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO mission_profile (singleton, text, installed_at) VALUES (1, ?1, ?2)
             ON CONFLICT (singleton) DO UPDATE SET text = excluded.text, installed_at = excluded.installed_at",
            params![text, installed_at],
        )?;
        Ok(())
    }

    /// The coordinator's age identity (secret text), if one was created.
    pub fn coordinator_secret(&self) -> Result<Option<Zeroizing<String>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT secret FROM coordinator_identity WHERE singleton = 1",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional()?
            .map(Zeroizing::new))
    }

    /// Stores the coordinator's age identity; refuses to replace an existing one.
    pub fn set_coordinator_secret(&self, secret: &str, created_at: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO coordinator_identity (singleton, secret, created_at) VALUES (1, ?1, ?2)",
            params![secret, created_at],
        )?;
        Ok(())
    }

    /// The coordinator's earlier age identities (secret texts), oldest first: rotated away or
    /// imported from a predecessor, kept so what was sealed to them still opens.
    pub fn earlier_coordinator_secrets(&self) -> Result<Vec<Zeroizing<String>>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT secret FROM earlier_coordinator_identity ORDER BY kept_at, recipient",
        )?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let mut secrets = Vec::new();
        for row in rows {
            secrets.push(Zeroizing::new(row?));
        }
        Ok(secrets)
    }

    /// Keeps an earlier identity; `false` when it is already kept.
    pub fn keep_earlier_coordinator_secret(
        &self,
        recipient: &str,
        secret: &str,
        origin: &str,
        kept_at: &str,
    ) -> Result<bool, StoreError> {
        let added = self.conn.execute(
            "INSERT OR IGNORE INTO earlier_coordinator_identity (recipient, secret, origin, kept_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![recipient, secret, origin, kept_at],
        )?;
        Ok(added == 1)
    }

    /// Makes `secret` the coordinator's identity and keeps the one it replaces (whose
    /// recipient is `old_recipient`) among the earlier ones, in one transaction.
    pub fn rotate_coordinator_secret(
        &mut self,
        old_recipient: &str,
        secret: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO earlier_coordinator_identity (recipient, secret, origin, kept_at)
             SELECT ?1, secret, 'rotated', ?2 FROM coordinator_identity WHERE singleton = 1",
            params![old_recipient, at],
        )?;
        let changed = tx.execute(
            "UPDATE coordinator_identity SET secret = ?1, created_at = ?2 WHERE singleton = 1",
            params![secret, at],
        )?;
        if changed != 1 {
            return Err(StoreError::Damaged(
                "there is no coordinator identity to rotate".into(),
            ));
        }
        tx.commit()?;
        Ok(())
    }

    /// Enrols a device from its request: registered (or kept) with its key, accepted, and
    /// with where its receipts go. The caller checked that a known device has the same key.
    pub fn enrol_device(
        &self,
        device: &DeviceRegistration,
        recipient: &str,
        team: Option<&str>,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO known_device (device_id, device_key, observer, first_seen, accepted_at, enrolled_at, recipient, team)
             VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5, ?6)
             ON CONFLICT (device_id) DO UPDATE SET
                 accepted_at = coalesce(known_device.accepted_at, excluded.accepted_at),
                 enrolled_at = excluded.enrolled_at,
                 recipient = excluded.recipient, team = excluded.team",
            params![
                device.device_id.to_string(),
                device.device_key,
                device.observer,
                at,
                recipient,
                team
            ],
        )?;
        Ok(())
    }

    /// How many bundles were quarantined so far.
    pub fn quarantined_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM bundle_import WHERE status = 'quarantined'",
            [],
            |row| row.get(0),
        )?)
    }

    /// The missing ranges of a device's log, from 1 to the highest sequence number held. From
    /// the ranges of the bundles imported (each one is held whole once imported); for devices
    /// with imports recorded before ranges were kept, from the entries themselves, in SQL (the
    /// same rule as `truce_sync::log::gaps`, without loading every seq).
    pub fn received_gaps(&self, device_id: Uuid) -> Result<Vec<(u64, u64)>, StoreError> {
        received_gaps(&self.conn, device_id)
    }

    /// Number of entries received from all devices.
    pub fn received_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM received_entry", [], |row| row.get(0))?)
    }

    /// Starts a run of bundle imports: one immediate transaction (see [`ImportRun`]).
    pub fn begin_import_run(&mut self) -> Result<ImportRun<'_>, StoreError> {
        let conn = &self.conn;
        Ok(ImportRun {
            conn,
            tx: Some(Transaction::new_unchecked(
                conn,
                TransactionBehavior::Immediate,
            )?),
            pending_entries: 0,
        })
    }
}

impl<'a> ImportRun<'a> {
    /// The run's open transaction; after a commit, the next one begins here, when there is
    /// more to write.
    fn tx(&mut self) -> Result<&mut Transaction<'a>, StoreError> {
        let tx = match self.tx.take() {
            Some(tx) => tx,
            None => Transaction::new_unchecked(self.conn, TransactionBehavior::Immediate)?,
        };
        Ok(self.tx.insert(tx))
    }

    /// Starts one bundle's import: a savepoint inside the run.
    pub fn begin_bundle(&mut self) -> Result<Import<'_>, StoreError> {
        Ok(Import {
            tx: self.tx()?.savepoint()?,
        })
    }

    /// Notes entries written by a finished bundle (they count towards [`Self::pending_entries`]).
    pub fn add_pending(&mut self, entries: u64) {
        self.pending_entries += entries;
    }

    /// Entries written since the last commit.
    pub fn pending_entries(&self) -> u64 {
        self.pending_entries
    }

    /// Makes everything imported so far durable; what follows goes into a new transaction.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if let Some(tx) = self.tx.take() {
            tx.commit()?;
        }
        self.pending_entries = 0;
        Ok(())
    }

    /// Makes everything imported durable and ends the run.
    pub fn finish(mut self) -> Result<(), StoreError> {
        match self.tx.take() {
            Some(tx) => Ok(tx.commit()?),
            None => Ok(()),
        }
    }

    /// Records a refused bundle with its reason, in the run (its own savepoint rolled back).
    pub fn record_quarantine(
        &mut self,
        file_name: &str,
        bundle_id: Option<&str>,
        device_id: Option<Uuid>,
        at: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.tx()?.execute(
            "INSERT INTO bundle_import (bundle_id, file_name, device_id, imported_at, status, reason)
             VALUES (?1, ?2, ?3, ?4, 'quarantined', ?5)",
            params![
                bundle_id,
                file_name,
                device_id.map(|d| d.to_string()),
                at,
                reason
            ],
        )?;
        Ok(())
    }

    /// A device's gaps as they stand in the run (see [`Store::received_gaps`]).
    pub fn received_gaps(&mut self, device_id: Uuid) -> Result<Vec<(u64, u64)>, StoreError> {
        received_gaps(self.tx()?, device_id)
    }
}

impl Import<'_> {
    /// Records the attachment files this bundle brought (stored and checked by the reading
    /// thread) in the bundle's savepoint; returns those held already, whose new copies the
    /// caller removes.
    pub fn insert_attachments(
        &self,
        stored: &[super::StoredAttachment],
        at: &str,
    ) -> Result<Vec<super::StoredAttachment>, StoreError> {
        let mut held = Vec::new();
        let mut new = Vec::new();
        for a in stored {
            let exists: bool = self.tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM attachment WHERE sha256 = ?1)",
                [&a.sha256[..]],
                |row| row.get(0),
            )?;
            if exists {
                held.push(a.clone());
            } else {
                new.push(a.clone());
            }
        }
        super::attachments::insert_attachments(&self.tx, &new, at)?;
        Ok(held)
    }

    /// Keeps the bundle's signed text (see [`super::SignedTextRow`]); `false` when it is kept
    /// already.
    pub fn keep_signed_text(
        &self,
        row: &super::SignedTextRow,
        at: &str,
    ) -> Result<bool, StoreError> {
        super::attachments::insert_signed_text(&self.tx, row, at)
    }

    /// The device as known (trust on first use), if it is.
    pub fn known_device(&self, device_id: Uuid) -> Result<Option<DeviceRegistration>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT device_key, observer, accepted_at IS NOT NULL, enrolled_at IS NOT NULL
                 FROM known_device WHERE device_id = ?1",
                [device_id.to_string()],
                |row| {
                    Ok(DeviceRegistration {
                        device_id,
                        device_key: row.get(0)?,
                        observer: row.get(1)?,
                        accepted: row.get(2)?,
                        enrolled: row.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Registers a device seen for the first time; accepted at once only if `device.accepted`.
    pub fn register_device(&self, device: &DeviceRegistration, at: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO known_device (device_id, device_key, observer, first_seen, accepted_at)
             VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 THEN ?4 END)",
            params![
                device.device_id.to_string(),
                device.device_key,
                device.observer,
                at,
                device.accepted
            ],
        )?;
        Ok(())
    }

    /// The cut-off of a revoked device and why, if it is revoked.
    pub fn revocation(&self, device_id: Uuid) -> Result<Option<(u64, String)>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT after_seq, reason FROM device_revocation WHERE device_id = ?1",
                [device_id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    /// Keeps where a device's receipts go: the recipient and team its latest bundle named.
    pub fn set_return_path(
        &self,
        device_id: Uuid,
        recipient: &str,
        team: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE known_device SET recipient = ?2, team = ?3 WHERE device_id = ?1",
            params![device_id.to_string(), recipient, team],
        )?;
        Ok(())
    }

    /// Whether this bundle of this device was imported already, with this range.
    pub fn bundle_held(
        &self,
        device_id: Uuid,
        bundle_id: &str,
        (first_seq, last_seq): (u64, u64),
    ) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM bundle_import
                            WHERE device_id = ?1 AND status = 'imported' AND bundle_id = ?2
                              AND first_seq = ?3 AND last_seq = ?4)",
            )?
            .query_row(
                params![device_id.to_string(), bundle_id, first_seq, last_seq],
                |row| row.get(0),
            )?)
    }

    /// The highest sequence number held of a device's log (0 if none).
    pub fn held_head(&self, device_id: Uuid) -> Result<u64, StoreError> {
        Ok(self.tx.query_row(
            "SELECT coalesce(max(seq), 0) FROM received_entry WHERE device_id = ?1",
            [device_id.to_string()],
            |row| row.get(0),
        )?)
    }

    /// What is held of a device's log from `from - 1` to `to + 1`: the neighbours of the
    /// entries `from..=to`, in one query.
    pub fn held_stretch(
        &self,
        device_id: &str,
        from: u64,
        to: u64,
    ) -> Result<HeldStretch, StoreError> {
        let start = from.saturating_sub(1);
        let end = to.saturating_add(1);
        let len = usize::try_from(end - start + 1).map_err(|_| {
            StoreError::Damaged(format!("entries {from} to {to} are too many at once"))
        })?;
        let mut stretch = HeldStretch::new(start, len);
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, prev_hash, hash FROM received_entry WHERE device_id = ?1 AND seq BETWEEN ?2 AND ?3",
        )?;
        let mut rows = stmt.query(params![device_id, start, end])?;
        while let Some(row) = rows.next()? {
            let seq: u64 = row.get(0)?;
            stretch.hold(seq, stored_hash(row, 1)?, stored_hash(row, 2)?);
        }
        Ok(stretch)
    }

    /// Stores a new entry of device `device_id` (as text, formatted once per bundle) and its
    /// revision, whose text columns `text` has formatted ahead (from `record`). A revision
    /// already held with other content is a conflict. The observation's body is held once:
    /// the entry keeps only the metadata that follows it in the record, when the revision
    /// holds the same bytes (migration 0007), and not even that when the revision's columns
    /// give it back (migration 0010).
    pub fn insert_entry(
        &self,
        device_id: &str,
        entry: &LogEntry,
        text: &RevisionText,
        bundle_id: &str,
        record: &ParsedRecord,
    ) -> Result<(), StoreError> {
        let rev = &record.revision;
        let inserted = insert_revision_text(&self.tx, rev, text, &record.body)?;
        let same_bytes = inserted
            || {
                let held: String = self
                .tx
                .prepare_cached(
                    "SELECT body FROM observation_revision WHERE observation_id = ?1 AND device_id = ?2 AND revision = ?3",
                )?
                .query_row(
                    params![text.observation_id, text.device_id, rev.revision],
                    |row| row.get(0),
                )?;
                // The same observation may be written with other spacing or field order: compare
                // what it says, not its bytes.
                let canonical = |o: &Observation| serde_json::to_string(o).ok();
                let same = held == record.body
                    || serde_json::from_str::<Observation>(&held).is_ok_and(|o| {
                        canonical(&o).is_some() && canonical(&o) == canonical(&rev.observation)
                    });
                if !same {
                    return Err(StoreError::Conflict(rev.observation.id));
                }
                held == record.body
            };
        let whole = entry.record.get();
        let tail = record
            .body
            .strip_suffix('}')
            .and_then(|head| whole.strip_prefix(head))
            .filter(|_| same_bytes);
        let observation_id = tail.map(|_| &text.observation_id);
        // Where the metadata is exactly what the revision's columns give, as this insert wrote
        // them, it is not kept (NULL): the view `received_record` (migration 0010) gives it
        // back with the same expression. An entry whose revision was held before keeps it.
        self.tx
            .prepare_cached(
                "INSERT INTO received_entry (device_id, seq, prev_hash, hash, record, bundle_id, observation_id, revision)
                 VALUES (?1, ?2, ?3, ?4,
                         CASE WHEN ?9 AND ?5 = ',\"revision\":' || ?8 || ',\"recorded_at\":' || json_quote(?10)
                                  || ',\"device_id\":' || json_quote(?11) || ',\"observer\":' || json_quote(?12) || '}'
                              THEN NULL ELSE ?5 END,
                         ?6, ?7, ?8)",
            )?
            .execute(params![
                device_id,
                entry.seq,
                &entry.prev_hash.0[..],
                &entry.hash.0[..],
                tail.unwrap_or(whole),
                bundle_id,
                observation_id,
                tail.map(|_| rev.revision),
                inserted,
                text.recorded_at,
                text.device_id,
                rev.observer,
            ])?;
        Ok(())
    }

    /// Records the import and updates the device: the bundle is kept in the run, durable at the
    /// run's next commit. A bundle held already (the same bundle of the same device, its
    /// signature verified again and every entry found held) adds no row: re-importing a stick
    /// costs the same the tenth time as the first. Returns whether it was held already.
    pub fn finish(
        self,
        device_id: Uuid,
        bundle: &ImportedBundle<'_>,
        at: &str,
        (new, known): (u64, u64),
    ) -> Result<bool, StoreError> {
        let (first_seq, last_seq) = bundle.range;
        let held = new == 0 && self.bundle_held(device_id, bundle.bundle_id, bundle.range)?;
        if !held {
            self.tx.execute(
                "UPDATE known_device SET last_bundle_at = ?2,
                        newest_entry_ms = max(coalesce(newest_entry_ms, ?3), coalesce(?3, newest_entry_ms))
                 WHERE device_id = ?1",
                params![device_id.to_string(), at, bundle.newest_entry_ms],
            )?;
            self.tx.execute(
                "INSERT INTO bundle_import (bundle_id, file_name, device_id, imported_at, status, new_entries, known_entries, first_seq, last_seq, created_at, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, 'imported', ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    bundle.bundle_id,
                    bundle.file_name,
                    device_id.to_string(),
                    at,
                    new,
                    known,
                    first_seq,
                    last_seq,
                    bundle.created_at.to_rfc3339(),
                    bundle.created_at.timestamp_millis()
                ],
            )?;
        }
        self.tx.commit()?;
        Ok(held)
    }
}
