//! The encrypted journal store: the only code in Truce that speaks SQL (SQLCipher through rusqlite).

mod alert_sweep;
mod attachments;
mod cipher;
mod coordination;
mod exchange;
mod forward;
mod migrations;
mod preferences;
mod purge;
mod receipts;
mod revocations;
mod wal;

pub use alert_sweep::{KeptSweep, ResumedFrom};
pub use attachments::{EvidenceDevice, PreviewRow, SignedTextRow, StoredAttachment};
pub use cipher::set_memory_security;
pub use exchange::{DeviceRegistration, ImportRun, ImportedBundle};
pub use forward::KeptBundle;
pub use receipts::ReceiptRow;

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use truce_sync::{DeviceSigningKey, Observation, ObservationKey, ObservationRevision, Role};
use uuid::Uuid;

use crate::keyfile::DatabaseKey;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database does not decrypt, or its pages fail their checks.
    #[error("the journal database is damaged ({0})")]
    Damaged(String),
    /// SQLite reported that the disk is full. Nothing of the failed write was kept.
    #[error("the disk is full")]
    DiskFull,
    /// Another process holds the journal.
    #[error("the journal is in use by another Truce process")]
    Busy,
    /// A newer Truce wrote this journal.
    #[error(
        "the journal was written by a newer Truce (schema {found}; this build knows up to {known})"
    )]
    TooNew {
        /// The schema version found.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
    /// An observation with this id is already in the journal.
    #[error("observation {0} is already in the journal")]
    Duplicate(Uuid),
    /// The observation changed between reading and amending it.
    #[error("observation {0} was amended by someone else meanwhile")]
    Conflict(Uuid),
    /// No observation matches the id or prefix.
    #[error("no observation matches `{0}`")]
    NotFound(String),
    /// The prefix matches several observations.
    #[error("`{0}` matches more than one observation")]
    Ambiguous(String),
    /// Several devices made an observation with this id; which one is meant?
    #[error("observation {id} was recorded on {} devices", devices.len())]
    SharedId {
        /// The id they share.
        id: Uuid,
        /// Each device that used it, with the observer of its latest revision.
        devices: Vec<(Uuid, String)>,
    },
    /// Any other SQLite error.
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// A journal file could not be read (permissions, a failing disk).
    #[error("cannot read {what}: {cause}")]
    Read {
        /// Which file.
        what: &'static str,
        /// The operating system's error.
        #[source]
        cause: std::io::Error,
    },
}

impl StoreError {
    /// Whether this is a fault of the journal itself (its disk, its files, another process),
    /// which stops whatever is running, rather than a problem of the data being written (a
    /// value out of range, a constraint it breaks), which refuses only that data.
    pub fn is_journal_fault(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => match e {
                rusqlite::Error::ToSqlConversionFailure(_)
                | rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::Utf8Error(_)
                | rusqlite::Error::NulError(_) => false,
                _ => !matches!(
                    e.sqlite_error_code(),
                    Some(
                        ErrorCode::ConstraintViolation
                            | ErrorCode::TooBig
                            | ErrorCode::TypeMismatch
                    )
                ),
            },
            StoreError::Duplicate(_)
            | StoreError::Conflict(_)
            | StoreError::NotFound(_)
            | StoreError::Ambiguous(_)
            | StoreError::SharedId { .. } => false,
            StoreError::Damaged(_)
            | StoreError::DiskFull
            | StoreError::Busy
            | StoreError::TooNew { .. }
            | StoreError::Read { .. } => true,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        // Growing the WAL index (`-shm`) on a full disk fails as an I/O error, not SQLITE_FULL.
        if let rusqlite::Error::SqliteFailure(failure, _) = &e {
            if failure.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE {
                return StoreError::DiskFull;
            }
        }
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                StoreError::Damaged(e.to_string())
            }
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(e),
        }
    }
}

/// This journal's device as the journal stores it: its id, observer and role, and its signing
/// key (secret; in memory only while the journal is open).
#[derive(Debug)]
pub struct DeviceIdentity {
    /// The device's UUID.
    pub device_id: Uuid,
    /// The observer's name.
    pub observer: String,
    /// The observer's team, if any.
    pub team: Option<String>,
    /// Monitor or coordinator.
    pub role: Role,
    /// The device's signing key (secret; stays in memory only while the journal is open).
    pub signing_key: DeviceSigningKey,
    /// When `init` ran.
    pub created_at: String,
}

/// An open, decrypted journal database.
pub struct Store {
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store(<open journal>)")
    }
}

const REVISION_COLUMNS: &str = "body, revision, recorded_at, device_id, observer";

impl Store {
    /// Creates a new journal database at `path` with `key` and stores the device identity.
    pub fn create(
        path: &Path,
        key: &DatabaseKey,
        device: &DeviceIdentity,
    ) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let store = Store::connect(path, key, flags)?;
        store.conn.execute(
            "INSERT INTO device (singleton, device_id, observer, team, role, signing_key, created_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                device.device_id.to_string(),
                device.observer,
                device.team,
                device.role.code(),
                &device.signing_key.secret_bytes()[..],
                device.created_at,
            ],
        )?;
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(store)
    }

    /// Opens an existing journal database with `key`. Never creates a file.
    pub fn open(path: &Path, key: &DatabaseKey) -> Result<Store, StoreError> {
        // A crash leaves the WAL behind; check it before SQLite replays (and then rewrites) it.
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        let wal = wal::scan(Path::new(&wal_path)).map_err(|cause| StoreError::Read {
            what: "the journal's write-ahead log",
            cause,
        })?;
        if let wal::WalState::Damaged(why) = wal {
            return Err(StoreError::Damaged(format!(
                "{why}. Nothing was changed: keep a copy of the data folder as it is and ask your coordinator what to do"
            )));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Store::connect(path, key, flags)
    }

    fn connect(path: &Path, key: &DatabaseKey, flags: OpenFlags) -> Result<Store, StoreError> {
        let mut conn = Connection::open_with_flags(path, flags)?;
        cipher::apply_key(&conn, key)?;
        // The first read proves the key: SQLCipher reports "not a database" otherwise.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0))
            .map_err(|e| match StoreError::from(e) {
                StoreError::Damaged(_) => StoreError::Damaged(
                    "it does not decrypt with the key from the key file: its bytes were changed, or the key file belongs to another journal".into(),
                ),
                other => other,
            })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Damaged(format!(
                "the journal cannot use WAL mode (got {mode})"
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA temp_store = MEMORY;
             PRAGMA secure_delete = ON;
             PRAGMA foreign_keys = ON;",
        )?;
        let applied = migrations::migrate(&mut conn)?;
        let mut store = Store { conn };
        if applied.contains(&2) {
            store.backfill_device_log()?;
        }
        Ok(store)
    }

    /// Journals made before the device log existed: give their own revisions log entries, in
    /// the order they were saved. Runs once, right after migration 2.
    fn backfill_device_log(&mut self) -> Result<(), StoreError> {
        let Some(device_id) = self
            .conn
            .query_row(
                "SELECT device_id FROM device WHERE singleton = 1",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional()?
        else {
            return Ok(());
        };
        let sql = format!(
            "SELECT {REVISION_COLUMNS} FROM observation_revision WHERE device_id = ?1 ORDER BY rowid"
        );
        let revisions = self.query_revisions(&sql, [device_id])?;
        let tx = self.conn.transaction()?;
        for rev in &revisions {
            exchange::append_log(&tx, rev)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The device identity stored at `init`.
    pub fn device(&self) -> Result<DeviceIdentity, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT device_id, observer, team, role, signing_key, created_at FROM device WHERE singleton = 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, String>(3)?,
                        zeroize::Zeroizing::new(row.get::<_, Vec<u8>>(4)?),
                        row.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::Damaged("the device identity is missing".into()))?;
        let (device_id, observer, team, role, secret, created_at) = row;
        Ok(DeviceIdentity {
            device_id: Uuid::parse_str(&device_id)
                .map_err(|e| StoreError::Damaged(format!("the device id is unreadable: {e}")))?,
            observer,
            team,
            role: Role::from_code(&role)
                .ok_or_else(|| StoreError::Damaged(format!("unknown device role `{role}`")))?,
            signing_key: DeviceSigningKey::from_slice(&secret)
                .map_err(|e| StoreError::Damaged(e.to_string()))?,
            created_at,
        })
    }

    /// Saves the first revision of a new observation, durably (committed with `synchronous=FULL`),
    /// with the rows of the attachment files it brings (already written and durable).
    pub fn insert_new(
        &mut self,
        rev: &ObservationRevision,
        stored: &[StoredAttachment],
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM observation_revision WHERE observation_id = ?1 AND device_id = ?2)",
            [rev.observation.id.to_string(), rev.device_id.to_string()],
            |row| row.get(0),
        )?;
        if exists {
            return Err(StoreError::Duplicate(rev.observation.id));
        }
        if !insert_revision(&tx, rev, &body_json(rev)?)? {
            return Err(StoreError::Duplicate(rev.observation.id));
        }
        attachments::insert_attachments(&tx, stored, &rev.recorded_at.to_rfc3339())?;
        exchange::append_log(&tx, rev)?;
        tx.commit()?;
        Ok(())
    }

    /// Appends `rev` as the next revision of its observation, with the rows of the attachment
    /// files it brings. Refused unless `rev.revision` is exactly one more than the latest
    /// stored revision.
    pub fn append_revision(
        &mut self,
        rev: &ObservationRevision,
        stored: &[StoredAttachment],
    ) -> Result<(), StoreError> {
        let id = rev.observation.id;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let latest: Option<u32> = tx.query_row(
            "SELECT max(revision) FROM observation_revision WHERE observation_id = ?1 AND device_id = ?2",
            [id.to_string(), rev.device_id.to_string()],
            |row| row.get(0),
        )?;
        match latest {
            None => return Err(StoreError::NotFound(id.to_string())),
            Some(n) if n + 1 != rev.revision => return Err(StoreError::Conflict(id)),
            Some(_) => {}
        }
        if !insert_revision(&tx, rev, &body_json(rev)?)? {
            return Err(StoreError::Conflict(id));
        }
        attachments::insert_attachments(&tx, stored, &rev.recorded_at.to_rfc3339())?;
        exchange::append_log(&tx, rev)?;
        tx.commit()?;
        Ok(())
    }

    /// The one observation `part` names: a unique beginning or end of its id
    /// (case-insensitive), optionally followed by `@` and a unique beginning or end of its
    /// device's id. UUID v7 ids made close in time share their beginning, so lists show the
    /// end. An id that several devices used is [`StoreError::SharedId`] unless the device is
    /// named.
    pub fn resolve(&self, part: &str) -> Result<ObservationKey, StoreError> {
        let (id_part, device_part) = match part.split_once('@') {
            Some((id, device)) => (id, Some(device)),
            None => (part, None),
        };
        let clean = |text: &str| -> Option<String> {
            let text = text.trim().to_ascii_lowercase();
            (!text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
                .then_some(text)
        };
        let not_found = || StoreError::NotFound(part.trim().to_owned());
        let prefix = clean(id_part).ok_or_else(not_found)?;
        let device = match device_part {
            Some(d) => Some(clean(d).ok_or_else(not_found)?),
            None => None,
        };
        // Both parts hold only hex digits and dashes, so they carry no LIKE wildcards.
        let mut stmt = self.conn.prepare(
            "SELECT observation_id, device_id, max(revision),
                    (SELECT observer FROM observation_revision AS o
                      WHERE o.observation_id = r.observation_id AND o.device_id = r.device_id
                      ORDER BY o.revision DESC LIMIT 1)
             FROM observation_revision AS r
             WHERE ((observation_id >= ?1 AND observation_id < ?1 || '~')
                    OR observation_id LIKE '%' || ?1)
               AND (?2 IS NULL OR (device_id >= ?2 AND device_id < ?2 || '~')
                    OR device_id LIKE '%' || ?2)
             GROUP BY observation_id, device_id
             ORDER BY observation_id, device_id
             LIMIT 21",
        )?;
        let found: Vec<(String, String, String)> = stmt
            .query_map(params![prefix, device], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let uuid = |text: &str| {
            Uuid::parse_str(text)
                .map_err(|e| StoreError::Damaged(format!("unreadable id {text}: {e}")))
        };
        match found.as_slice() {
            [] => Err(not_found()),
            [(id, device, _)] => Ok(ObservationKey {
                id: uuid(id)?,
                device_id: uuid(device)?,
            }),
            [(first, ..), rest @ ..] if rest.iter().all(|(id, ..)| id == first) => {
                Err(StoreError::SharedId {
                    id: uuid(first)?,
                    devices: found
                        .iter()
                        .map(|(_, device, observer)| Ok((uuid(device)?, observer.clone())))
                        .collect::<Result<_, StoreError>>()?,
                })
            }
            _ => Err(StoreError::Ambiguous(part.trim().to_owned())),
        }
    }

    /// Every revision of one observation, oldest first.
    pub fn history(&self, key: ObservationKey) -> Result<Vec<ObservationRevision>, StoreError> {
        let sql = format!(
            "SELECT {REVISION_COLUMNS} FROM observation_revision
             WHERE observation_id = ?1 AND device_id = ?2 ORDER BY revision"
        );
        self.query_revisions(&sql, [key.id.to_string(), key.device_id.to_string()])
    }

    /// The latest revision of every observation, newest observation first.
    pub fn list_current(&self, limit: Option<u32>) -> Result<Vec<ObservationRevision>, StoreError> {
        let sql = format!(
            "SELECT {REVISION_COLUMNS} FROM observation_current
             ORDER BY observed_at_ms DESC, observation_id DESC LIMIT ?1"
        );
        self.query_revisions(&sql, [limit.map_or(-1, i64::from)])
    }

    /// Keeps `body` as the one unfinished report, replacing any earlier draft.
    pub fn save_draft(&self, body: &str, saved_at: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO draft (singleton, body, saved_at) VALUES (1, ?1, ?2)
             ON CONFLICT (singleton) DO UPDATE SET body = excluded.body, saved_at = excluded.saved_at",
            params![body, saved_at],
        )?;
        Ok(())
    }

    /// The unfinished report and when it was saved, if there is one.
    pub fn draft(&self) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT body, saved_at FROM draft WHERE singleton = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    /// Discards the unfinished report (its pages are zeroed: `secure_delete`).
    pub fn discard_draft(&self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM draft", [])?;
        Ok(())
    }

    /// Which of `ids` have an entry in this device's log within one of `ranges` (sorted,
    /// not overlapping; read only; one indexed look-up per id).
    pub fn logged_in(
        &self,
        ranges: &[(u64, u64)],
        ids: &[Uuid],
    ) -> Result<std::collections::HashSet<Uuid>, StoreError> {
        let mut found = std::collections::HashSet::new();
        if ranges.is_empty() {
            return Ok(found);
        }
        let within = |seq: u64| {
            // The last range starting at or before `seq`, if it reaches `seq`.
            let i = ranges.partition_point(|&(first, _)| first <= seq);
            i > 0 && seq <= ranges[i - 1].1
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq FROM device_log WHERE observation_id = ?1")?;
        for id in ids {
            let mut rows = stmt.query([id.to_string()])?;
            while let Some(row) = rows.next()? {
                if within(row.get(0)?) {
                    found.insert(*id);
                    break;
                }
            }
        }
        Ok(found)
    }

    /// A marker that changes whenever a revision is added: the highest row id of the
    /// append-only revisions table (0 when empty).
    pub fn revisions_marker(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(rowid), 0) FROM observation_revision",
            [],
            |row| row.get(0),
        )?)
    }

    /// Calls `f` with what the alert rules need of the latest revision of every observation
    /// whose kind is in `kinds` and category in `categories` (an empty list matches any), from
    /// `from_ms` on if given, in time order (then by id), streaming: a few columns, with the
    /// position read by SQLite, so no record is parsed in Rust and none is held.
    pub fn each_alert_input(
        &self,
        kinds: &[String],
        categories: &[String],
        from_ms: Option<i64>,
        mut f: impl FnMut(&crate::alerts::AlertInput),
    ) -> Result<(), StoreError> {
        let (sql, args) = alert_input_query(kinds, categories, from_ms);
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let device: String = row.get(6)?;
            let uuid = |text: &str| {
                Uuid::parse_str(text)
                    .map_err(|e| StoreError::Damaged(format!("observation id `{text}`: {e}")))
            };
            f(&crate::alerts::AlertInput {
                key: ObservationKey {
                    id: uuid(&id)?,
                    device_id: uuid(&device)?,
                },
                observed_at_ms: row.get(1)?,
                kind: row.get(2)?,
                category: row.get(3)?,
                lat: row.get(4)?,
                lon: row.get(5)?,
                place: row.get(7)?,
            });
        }
        Ok(())
    }

    /// How many observations (not revisions) the journal holds.
    pub fn count_observations(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM (SELECT DISTINCT observation_id, device_id FROM observation_revision)",
            [],
            |row| row.get(0),
        )?)
    }

    /// Runs SQLite's and SQLCipher's integrity checks; returns the problems found (empty if none).
    pub fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        // SQLCipher's page HMACs first: a damaged page makes SQLite's own check fail with a
        // generic error, while this one names the page.
        for pragma in ["PRAGMA cipher_integrity_check", "PRAGMA integrity_check"] {
            let rows = (|| -> rusqlite::Result<Vec<String>> {
                let mut stmt = self.conn.prepare(pragma)?;
                let rows = stmt.query_map([], |row| row.get(0))?.collect();
                rows
            })()
            .map_err(|e| match StoreError::from(e) {
                StoreError::Sqlite(e) => StoreError::Damaged(format!("{pragma} failed: {e}")),
                other => other,
            })?;
            let problems: Vec<String> = rows.into_iter().filter(|r| r != "ok").collect();
            if !problems.is_empty() {
                return Ok(problems);
            }
        }
        Ok(Vec::new())
    }

    fn query_revisions<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<ObservationRevision>, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(params, |row| {
            Ok(RawRevision {
                body: row.get(0)?,
                revision: row.get(1)?,
                recorded_at: row.get(2)?,
                device_id: row.get(3)?,
                observer: row.get(4)?,
            })
        })?;
        rows.map(|raw| raw.map_err(StoreError::from).and_then(RawRevision::decode))
            .collect()
    }
}

struct RawRevision {
    body: String,
    revision: u32,
    recorded_at: String,
    device_id: String,
    observer: String,
}

impl RawRevision {
    fn decode(self) -> Result<ObservationRevision, StoreError> {
        let damaged = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Damaged(format!("a stored revision has an unreadable {what}: {e}"))
        };
        let observation: Observation =
            serde_json::from_str(&self.body).map_err(|e| damaged("body", &e))?;
        Ok(ObservationRevision {
            observation,
            revision: self.revision,
            recorded_at: DateTime::<FixedOffset>::parse_from_rfc3339(&self.recorded_at)
                .map_err(|e| damaged("recorded_at", &e))?,
            device_id: Uuid::parse_str(&self.device_id).map_err(|e| damaged("device id", &e))?,
            observer: self.observer,
        })
    }
}

/// The `body` column of a revision: its schema v1 JSON.
fn body_json(rev: &ObservationRevision) -> Result<String, StoreError> {
    serde_json::to_string(&rev.observation)
        .map_err(|e| StoreError::Damaged(format!("cannot serialize the observation: {e}")))
}

/// Inserts a revision whose body JSON is `body`, unless one with its observation id and
/// revision number is already stored: then nothing is written and the result is false.
/// The text columns of a revision, formatted ahead of its insert: an import's reading thread
/// formats them while its writing thread, the bottleneck, only binds them.
#[derive(Debug, Clone)]
pub struct RevisionText {
    observation_id: String,
    device_id: String,
    recorded_at: String,
}

impl RevisionText {
    /// The text columns of `rev`.
    pub fn of(rev: &ObservationRevision) -> RevisionText {
        RevisionText {
            observation_id: rev.observation.id.to_string(),
            device_id: rev.device_id.to_string(),
            recorded_at: record_time(&rev.recorded_at),
        }
    }
}

/// A time as records carry it (`serde`'s form, which writes `Z` for UTC where `to_rfc3339`
/// writes `+00:00`), so a received entry's metadata is what the revision's columns give back
/// (migration 0010).
fn record_time(at: &DateTime<FixedOffset>) -> String {
    let quoted = serde_json::to_string(at).unwrap_or_default();
    match quoted.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(text) => text.to_owned(),
        None => at.to_rfc3339(),
    }
}

/// Inserts `rev` with `body` unless that revision is held; true if it was inserted.
fn insert_revision(
    tx: &rusqlite::Connection,
    rev: &ObservationRevision,
    body: &str,
) -> Result<bool, StoreError> {
    insert_revision_text(tx, rev, &RevisionText::of(rev), body)
}

/// [`insert_revision`] with the text columns formatted ahead.
fn insert_revision_text(
    tx: &rusqlite::Connection,
    rev: &ObservationRevision,
    text: &RevisionText,
    body: &str,
) -> Result<bool, StoreError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO observation_revision
               (observation_id, revision, device_id, observer, recorded_at, observed_at_ms, kind, category, body, lat, lon, area_place)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (observation_id, device_id, revision) DO NOTHING",
        )?
        .execute(params![
            text.observation_id,
            rev.revision,
            text.device_id,
            rev.observer,
            text.recorded_at,
            rev.observation.observed_at.timestamp_millis(),
            rev.observation.kind,
            rev.observation.category,
            body,
            rev.observation.lat,
            rev.observation.lon,
            // The place names the area only without a position (see `area_of`).
            match (rev.observation.lat, rev.observation.lon) {
                (Some(_), Some(_)) => None,
                _ => rev.observation.place.as_deref(),
            },
        ])?;
    Ok(inserted == 1)
}

/// The condition (on a revision's `device_id`) that its device counts: this journal's own, or
/// one the coordinator accepted. Records of devices still pending stay out of alerts, reports
/// and exports.
pub(crate) const COUNTED_DEVICE: &str = "(device_id IN (SELECT device_id FROM device)
     OR device_id IN (SELECT device_id FROM known_device WHERE accepted_at IS NOT NULL))";

/// The query of [`Store::each_alert_input`] and its arguments. Every column it reads is in the
/// index `observation_revision_for_alerts` (migrations 0008, 0011), in the order it sorts by, so
/// SQLite reads that index alone.
fn alert_input_query(
    kinds: &[String],
    categories: &[String],
    from_ms: Option<i64>,
) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = format!(
        "SELECT observation_id, observed_at_ms, kind, category, lat, lon, device_id,
                area_place
         FROM observation_current WHERE {COUNTED_DEVICE}",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(from_ms) = from_ms {
        sql.push_str(" AND observed_at_ms >= ?1");
        args.push(Value::Integer(from_ms));
    }
    for (column, values) in [("kind", kinds), ("category", categories)] {
        if !values.is_empty() {
            let marks: Vec<String> = (0..values.len())
                .map(|i| format!("?{}", args.len() + i + 1))
                .collect();
            sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
            args.extend(values.iter().map(|v| Value::Text(v.clone())));
        }
    }
    sql.push_str(" ORDER BY observed_at_ms, observation_id, device_id");
    (sql, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use truce_sync::log::{EntryHash, LogEntry};
    use truce_sync::{NewObservationDefaults, Taxonomy};

    fn device() -> DeviceIdentity {
        DeviceIdentity {
            device_id: Uuid::now_v7(),
            observer: "Ana".into(),
            team: Some("Team 3".into()),
            role: Role::Monitor,
            signing_key: DeviceSigningKey::from_bytes(&[9u8; 32]),
            created_at: "2026-11-24T21:00:00+00:00".into(),
        }
    }

    fn revision(device: &DeviceIdentity, json: &str) -> ObservationRevision {
        let now = DateTime::parse_from_rfc3339("2026-11-24T21:00:00+02:00").expect("time");
        let map = truce_sync::parse_object(json).expect("object");
        let observation = Observation::from_new_json(
            map,
            NewObservationDefaults {
                id: Uuid::now_v7(),
                now,
            },
            &Taxonomy::builtin(),
        )
        .expect("valid");
        ObservationRevision {
            observation,
            revision: 1,
            recorded_at: now,
            device_id: device.device_id,
            observer: device.observer.clone(),
        }
    }

    fn new_store(dir: &Path) -> (Store, DatabaseKey, DeviceIdentity) {
        let key = DatabaseKey::generate(crate::keyfile::PageSize::Standard).expect("random");
        let device = device();
        let store = Store::create(&dir.join("journal.db"), &key, &device).expect("create");
        (store, key, device)
    }

    /// What the alerts resume from is found from the revisions added since the marker, read by
    /// rowid range, whatever the page size: never by walking the alerts' index in time order
    /// until a recent rowid turns up (the whole index, for recent reports).
    #[test]
    fn the_time_new_revisions_touch_is_found_from_them_alone() {
        use crate::keyfile::PageSize;
        for size in [PageSize::Standard, PageSize::Large] {
            let dir = tempfile::tempdir().expect("tempdir");
            let key = DatabaseKey::generate(size).expect("random");
            let device = device();
            let mut store =
                Store::create(&dir.path().join("journal.db"), &key, &device).expect("create");
            let plan: Vec<String> = store
                .conn
                .prepare(&format!(
                    "EXPLAIN QUERY PLAN {}",
                    alert_sweep::EARLIEST_TIME_TOUCHED
                ))
                .expect("plan")
                .query_map([0], |row| row.get(3))
                .expect("plan")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            let plan = plan.join("\n");
            assert!(
                !plan.contains("observation_revision_for_alerts"),
                "{size:?}: {plan}"
            );
            assert_eq!(
                plan.matches("USING INTEGER PRIMARY KEY (rowid>?)").count(),
                2,
                "{size:?}: {plan}"
            );

            let at = |json: &str, minutes: i64| {
                let mut rev = revision(&device, json);
                rev.observation.observed_at += chrono::Duration::minutes(minutes);
                rev
            };
            let early = at(
                r#"{"kind":"violation","category":"shelling","method":"heard"}"#,
                0,
            );
            store.insert_new(&early, &[]).expect("insert");
            let marker = store.revisions_marker().expect("marker");
            assert_eq!(
                store.earliest_time_touched_since(marker).expect("none"),
                None
            );
            let late = at(
                r#"{"kind":"violation","category":"shelling","method":"seen"}"#,
                60,
            );
            store.insert_new(&late, &[]).expect("insert");
            assert_eq!(
                store.earliest_time_touched_since(marker).expect("late"),
                Some(late.observation.observed_at.timestamp_millis())
            );
            let mut moved = early.clone();
            moved.revision = 2;
            moved.observation.observed_at = late.observation.observed_at;
            store.append_revision(&moved, &[]).expect("amend");
            assert_eq!(
                store
                    .earliest_time_touched_since(marker)
                    .expect("superseded"),
                Some(early.observation.observed_at.timestamp_millis()),
                "the time of the revision superseded counts"
            );
        }
    }

    #[test]
    fn the_alert_rules_read_one_index_and_see_the_latest_revision_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, _key, device) = new_store(dir.path());
        let kinds = vec!["violation".to_string()];
        let categories = vec!["shelling".to_string(), "small_arms".to_string()];
        for (kinds, categories, from_ms) in [
            (&kinds, &categories, None),
            (&Vec::new(), &Vec::new(), None),
            (&kinds, &categories, Some(1_700_000_000_000)),
        ] {
            let (sql, args) = alert_input_query(kinds, categories, from_ms);
            let mut stmt = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(args), |row| row.get(3))
                .expect("plan")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            let plan = plan.join("\n");
            assert!(
                plan.contains("COVERING INDEX observation_revision_for_alerts"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
            assert!(
                !plan
                    .lines()
                    .any(|l| l.starts_with("SCAN r") && !l.contains("COVERING")),
                "{plan}"
            );
        }

        // What the index gives is what the bodies say, and only the latest revision counts.
        let first = revision(
            &device,
            r#"{"kind":"violation","category":"shelling","method":"heard","lat":48.5,"lon":37.25}"#,
        );
        store.insert_new(&first, &[]).expect("insert");
        let mut moved = first.clone();
        moved.revision = 2;
        moved.observation.lat = Some(10.5);
        store.append_revision(&moved, &[]).expect("append");
        let other = revision(
            &device,
            r#"{"kind":"violation","category":"small_arms","method":"seen"}"#,
        );
        store.insert_new(&other, &[]).expect("insert");
        let mut seen = Vec::new();
        store
            .each_alert_input(&kinds, &["shelling".to_string()], None, |o| {
                seen.push(o.clone())
            })
            .expect("inputs");
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].key, first.key());
        assert_eq!((seen[0].lat, seen[0].lon), (Some(10.5), Some(37.25)));
        let mut all = 0;
        store
            .each_alert_input(&[], &[], None, |o| {
                all += 1;
                assert_eq!(o.lat.is_some(), o.key == first.key());
            })
            .expect("inputs");
        assert_eq!(all, 2);
    }

    #[test]
    fn revisions_are_append_only_and_current_is_latest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, key, device) = new_store(dir.path());
        let first = revision(
            &device,
            r#"{"kind":"violation","category":"shelling","method":"heard","severity":2}"#,
        );
        store.insert_new(&first, &[]).expect("insert");
        assert!(matches!(
            store.insert_new(&first, &[]),
            Err(StoreError::Duplicate(_))
        ));

        let mut second = first.clone();
        second.revision = 2;
        second.observation.severity = Some(4);
        store.append_revision(&second, &[]).expect("append");
        assert!(matches!(
            store.append_revision(&second, &[]),
            Err(StoreError::Conflict(_))
        ));

        let current = store.list_current(None).expect("list");
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].revision, 2);
        assert_eq!(current[0].observation.severity, Some(4));
        let history = store.history(first.key()).expect("history");
        assert_eq!(
            history.iter().map(|r| r.revision).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(history[0], first);

        // The database itself refuses to overwrite or delete.
        assert!(store
            .conn
            .execute("UPDATE observation_revision SET body = '{}'", [])
            .is_err());
        assert!(store
            .conn
            .execute("DELETE FROM observation_revision", [])
            .is_err());
        drop(store);

        let reopened = Store::open(&dir.path().join("journal.db"), &key).expect("reopen");
        assert_eq!(reopened.count_observations().expect("count"), 1);
        assert_eq!(reopened.device().expect("device").observer, "Ana");
        assert!(reopened.integrity_problems().expect("check").is_empty());
    }

    #[test]
    fn pages_have_the_size_the_key_names_and_open_with_no_other() {
        use crate::keyfile::PageSize;
        for (created, other) in [
            (PageSize::Large, PageSize::Standard),
            (PageSize::Standard, PageSize::Large),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("journal.db");
            let key = DatabaseKey::generate(created).expect("random");
            let store = Store::create(&path, &key, &device()).expect("create");
            // SQLCipher answers with its own setting, as text.
            let size: String = store
                .conn
                .query_row("PRAGMA page_size", [], |row| row.get(0))
                .expect("page size");
            assert_eq!(size, created.bytes().to_string());
            drop(store);
            let len = std::fs::metadata(&path).expect("size").len();
            assert!(
                len > 0 && len.is_multiple_of(u64::from(created.bytes())),
                "{len}"
            );
            let reopened = Store::open(&path, &key).expect("reopen");
            assert!(reopened.integrity_problems().expect("check").is_empty());
            drop(reopened);
            assert!(
                matches!(
                    Store::open(&path, &key.same_bytes_sized(other)),
                    Err(StoreError::Damaged(_))
                ),
                "{created:?} pages must not open as {other:?}"
            );
        }
    }

    #[test]
    fn page_authentication_is_the_one_the_journal_was_created_with() {
        use crate::keyfile::PageAuth;
        for (created, other) in [
            (PageAuth::HmacSha256, PageAuth::HmacSha512),
            (PageAuth::HmacSha512, PageAuth::HmacSha256),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("journal.db");
            let key = DatabaseKey::generate(crate::keyfile::PageSize::Standard)
                .expect("random")
                .with_page_auth(created);
            let store = Store::create(&path, &key, &device()).expect("create");
            drop(store);
            let reopened = Store::open(&path, &key).expect("reopen");
            assert!(reopened.integrity_problems().expect("check").is_empty());
            drop(reopened);
            assert!(
                matches!(
                    Store::open(&path, &key.same_bytes(other)),
                    Err(StoreError::Damaged(_))
                ),
                "{created:?} pages must not open as {other:?}"
            );
        }
    }

    #[test]
    fn wrong_key_is_reported_as_damage_and_missing_file_is_not_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, _key, _) = new_store(dir.path());
        drop(store);
        let other = DatabaseKey::generate(crate::keyfile::PageSize::Standard).expect("random");
        assert!(matches!(
            Store::open(&dir.path().join("journal.db"), &other),
            Err(StoreError::Damaged(_))
        ));
        let missing = dir.path().join("missing.db");
        assert!(Store::open(&missing, &other).is_err());
        assert!(!missing.exists());
    }

    #[test]
    fn id_prefixes_resolve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, _key, device) = new_store(dir.path());
        let rev = revision(
            &device,
            r#"{"kind":"incident","category":"mine_uxo","method":"seen"}"#,
        );
        store.insert_new(&rev, &[]).expect("insert");
        let full = rev.observation.id.to_string();
        assert_eq!(
            store.resolve(&full[..8].to_uppercase()).expect("prefix"),
            rev.key()
        );
        assert_eq!(store.resolve(&full[28..]).expect("suffix"), rev.key());
        let other = revision(
            &device,
            r#"{"kind":"incident","category":"mine_uxo","method":"seen"}"#,
        );
        store.insert_new(&other, &[]).expect("insert");
        assert!(matches!(
            store.resolve(&full[..4]),
            Err(StoreError::Ambiguous(_))
        ));
        assert!(matches!(store.resolve("%"), Err(StoreError::NotFound(_))));
        assert!(matches!(
            store.resolve("ffffffff"),
            Err(StoreError::NotFound(_))
        ));
    }

    /// What a bundle's data can make the store refuse (a constraint, a value out of range)
    /// refuses that bundle; what the journal itself suffers stops the run.
    #[test]
    fn data_errors_are_told_apart_from_journal_faults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, _key, _) = new_store(dir.path());
        let constraint = store
            .conn
            .execute(
                "INSERT INTO received_entry (device_id, seq, prev_hash, hash, record, bundle_id) VALUES ('d', 0, x'', x'', '{}', 'b')",
                [],
            )
            .expect_err("seq 0 breaks a CHECK");
        assert!(!StoreError::from(constraint).is_journal_fault());
        let out_of_range = store
            .conn
            .execute(
                "INSERT INTO received_entry (device_id, seq, prev_hash, hash, record, bundle_id) VALUES ('d', ?1, x'', x'', '{}', 'b')",
                [u64::MAX],
            )
            .expect_err("2^64 - 1 does not fit");
        assert!(!StoreError::from(out_of_range).is_journal_fault());
        assert!(StoreError::DiskFull.is_journal_fault());
        assert!(StoreError::Damaged("a page".into()).is_journal_fault());
        let io = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
            None,
        );
        assert!(StoreError::from(io).is_journal_fault());
    }

    /// Two devices that used one id hold two observations, each with its own history; naming
    /// the id alone asks which, naming the device answers.
    #[test]
    fn an_id_two_devices_used_is_two_observations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, _key, device) = new_store(dir.path());
        let first = revision(
            &device,
            r#"{"kind":"incident","category":"mine_uxo","method":"seen","narrative":"genuine"}"#,
        );
        store.insert_new(&first, &[]).expect("insert");
        let stranger = DeviceIdentity {
            device_id: Uuid::now_v7(),
            observer: "Eve".into(),
            ..self::device()
        };
        let mut forged = revision(
            &stranger,
            r#"{"kind":"incident","category":"mine_uxo","method":"seen","narrative":"forged"}"#,
        );
        forged.observation.id = first.observation.id;
        forged.revision = 2;
        {
            let tx = store.conn.transaction().expect("tx");
            assert!(
                insert_revision(&tx, &forged, &body_json(&forged).expect("body")).expect("insert")
            );
            tx.commit().expect("commit");
        }
        let id = first.observation.id.to_string();
        match store.resolve(&id) {
            Err(StoreError::SharedId {
                id: shared,
                devices,
            }) => {
                assert_eq!(shared, first.observation.id);
                let mut want = vec![
                    (device.device_id, "Ana".to_owned()),
                    (stranger.device_id, "Eve".to_owned()),
                ];
                want.sort();
                let mut got = devices;
                got.sort();
                assert_eq!(got, want);
            }
            other => panic!("expected SharedId, got {other:?}"),
        }
        let stranger_end = stranger.device_id.to_string();
        let key = store
            .resolve(&format!("{}@{}", &id[28..], &stranger_end[28..]))
            .expect("with the device");
        assert_eq!(key, forged.key());
        let genuine = store.history(first.key()).expect("history");
        assert_eq!(genuine.len(), 1);
        assert_eq!(genuine[0].observation.narrative, "genuine");
        assert_eq!(
            store.history(key).expect("history")[0]
                .observation
                .narrative,
            "forged"
        );
        let current = store.list_current(None).expect("list");
        assert_eq!(
            current.len(),
            2,
            "two observations, each at its own latest revision"
        );
        assert_eq!(store.count_observations().expect("count"), 2);
    }

    #[test]
    fn gaps_in_sql_follow_the_sync_rule() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, _key, _) = new_store(dir.path());
        let device = Uuid::now_v7();
        assert!(store.received_gaps(device).expect("gaps").is_empty());
        let held = [3u64, 4, 5, 9, 10, 12];
        for seq in held {
            store
                .conn
                .execute(
                    "INSERT INTO received_entry (device_id, seq, prev_hash, hash, record, bundle_id) VALUES (?1, ?2, '', '', '{}', 'b')",
                    params![device.to_string(), seq],
                )
                .expect("insert");
        }
        let gaps = store.received_gaps(device).expect("gaps");
        assert_eq!(gaps, truce_sync::log::gaps(held));
        assert_eq!(gaps, vec![(1, 2), (6, 8), (11, 11)]);
        assert!(
            store
                .received_gaps(Uuid::now_v7())
                .expect("gaps")
                .is_empty(),
            "another device"
        );
        // Once its imports are recorded with their ranges, the gaps come from those; an import
        // recorded without a range (before migration 6) sends it back to the entries.
        let import = |first: Option<u64>, last: Option<u64>, status: &str| {
            store
                .conn
                .execute(
                    "INSERT INTO bundle_import (bundle_id, file_name, device_id, imported_at, status, first_seq, last_seq)
                     VALUES ('b', 'f', ?1, 'now', ?2, ?3, ?4)",
                    params![device.to_string(), status, first, last],
                )
                .expect("import row")
        };
        import(Some(3), Some(5), "imported");
        import(Some(9), Some(12), "imported");
        import(Some(1), Some(2), "quarantined");
        assert_eq!(
            store.received_gaps(device).expect("gaps"),
            vec![(1, 2), (6, 8)]
        );
        import(None, None, "imported");
        assert_eq!(store.received_gaps(device).expect("gaps"), gaps);
    }

    /// Imports `entries` (consecutive, from seq 1) of device `device_id` as one bundle, as the
    /// import's writing side does.
    fn import_one_bundle(store: &mut Store, device_id: Uuid, entries: &[&LogEntry]) {
        let taxonomy = Taxonomy::builtin();
        let device = device_id.to_string();
        let mut run = store.begin_import_run().expect("run");
        {
            let import = run.begin_bundle().expect("bundle");
            for entry in entries {
                let parsed =
                    truce_sync::log::parse_record(entry.seq, entry.record.get(), &taxonomy)
                        .expect("parse");
                let text = RevisionText::of(&parsed.revision);
                import
                    .insert_entry(&device, entry, &text, "b1", &parsed)
                    .expect("insert");
            }
            let n = entries.len() as u64;
            import
                .finish(
                    device_id,
                    &ImportedBundle {
                        bundle_id: "b1",
                        file_name: "b1.age",
                        range: (1, n),
                        created_at: chrono::DateTime::parse_from_rfc3339("2026-11-29T00:00:00Z")
                            .expect("time"),
                        newest_entry_ms: None,
                    },
                    "2026-11-29T00:00:00Z",
                    (n, 0),
                )
                .expect("finish");
        }
        run.finish().expect("commit");
    }

    /// An entry whose revision is held already, with the same body but other metadata (saved
    /// at another time), keeps its own metadata: the held revision's columns would not give it
    /// back. Its record still comes back whole, and so does that of an observer whose name
    /// needs escaping.
    #[test]
    fn received_metadata_is_dropped_only_where_the_revision_gives_it_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, _key, _) = new_store(dir.path());
        let sender = DeviceIdentity {
            device_id: Uuid::now_v7(),
            observer: "Ana \"K\" \\ Ødegård\u{2028}".into(),
            ..device()
        };
        let rev = revision(
            &sender,
            r#"{"kind":"violation","category":"shelling","method":"heard"}"#,
        );
        let mut earlier = rev.clone();
        earlier.recorded_at -= chrono::Duration::minutes(5);
        {
            let tx = store.conn.transaction().expect("tx");
            insert_revision(&tx, &earlier, &body_json(&earlier).expect("body")).expect("held");
            tx.commit().expect("commit");
        }
        // Saved in UTC, which a record writes as `Z`; and by an observer whose name needs
        // escaping.
        let mut utc = revision(
            &sender,
            r#"{"kind":"incident","category":"shelling","method":"seen"}"#,
        );
        utc.observer = "Ana".into();
        utc.recorded_at = utc.recorded_at.with_timezone(&chrono::Utc).fixed_offset();
        let escaped = revision(
            &sender,
            r#"{"kind":"incident","category":"small_arms","method":"seen"}"#,
        );
        let first = LogEntry::new(1, EntryHash::GENESIS, truce_sync::log::record_json(&rev))
            .expect("entry");
        let second =
            LogEntry::new(2, first.hash, truce_sync::log::record_json(&utc)).expect("entry");
        let third =
            LogEntry::new(3, second.hash, truce_sync::log::record_json(&escaped)).expect("entry");
        assert!(
            second.record.get().contains("Z\","),
            "{}",
            second.record.get()
        );
        import_one_bundle(&mut store, sender.device_id, &[&first, &second, &third]);
        let kept: Vec<Option<String>> = store
            .conn
            .prepare("SELECT record FROM received_entry ORDER BY seq")
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        let tail = first
            .record
            .get()
            .strip_prefix(body_json(&rev).expect("body").trim_end_matches('}'))
            .expect("the record is the body, then the metadata");
        assert_eq!(
            kept[0].as_deref(),
            Some(tail),
            "held with other metadata: kept"
        );
        let mut back = Vec::new();
        store
            .each_received_entry(|_, entry| -> Result<(), StoreError> {
                back.push((entry.record.to_owned(), entry.hash_is_valid()));
                Ok(())
            })
            .expect("read back");
        assert_eq!(
            back,
            vec![
                (first.record.get().to_owned(), true),
                (second.record.get().to_owned(), true),
                (third.record.get().to_owned(), true)
            ]
        );
    }

    /// A received entry whose body the revision holds keeps only its metadata, and gives its
    /// record back whole, byte for byte, so its hash still holds; one whose body is held with
    /// other bytes keeps its whole record.
    #[test]
    fn a_received_body_is_held_once_and_the_record_comes_back_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, _key, _) = new_store(dir.path());
        let sender = DeviceIdentity {
            device_id: Uuid::now_v7(),
            ..device()
        };
        let rev = revision(
            &sender,
            r#"{"kind":"violation","category":"shelling","method":"heard","narrative":"two rounds, \"heavy\" calibre"}"#,
        );
        let first = LogEntry::new(1, EntryHash::GENESIS, truce_sync::log::record_json(&rev))
            .expect("entry");
        // The same observation again, held first with other spacing by an earlier revision
        // path: its record must be kept whole.
        let mut spaced = rev.clone();
        spaced.observation.id = Uuid::now_v7();
        let spaced_body = serde_json::to_string_pretty(&spaced.observation).expect("json");
        let second =
            LogEntry::new(2, first.hash, truce_sync::log::record_json(&spaced)).expect("entry");
        {
            let tx = store.conn.transaction().expect("tx");
            insert_revision(&tx, &spaced, &spaced_body).expect("held with other bytes");
            tx.commit().expect("commit");
        }
        import_one_bundle(&mut store, sender.device_id, &[&first, &second]);

        let stored: Vec<(Option<String>, Option<String>, Vec<u8>)> = store
            .conn
            .prepare("SELECT record, observation_id, hash FROM received_entry ORDER BY seq")
            .expect("prepare")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            stored[0].0, None,
            "the metadata is what the revision's columns give: not kept"
        );
        assert_eq!(stored[0].1, Some(rev.observation.id.to_string()));
        assert_eq!(stored[0].2, first.hash.0, "the hash as its 32 bytes");
        assert_eq!(
            stored[1].0.as_deref(),
            Some(second.record.get()),
            "other bytes: kept whole"
        );
        assert_eq!(stored[1].1, None);

        let mut back = Vec::new();
        store
            .each_received_entry(|device, entry| -> Result<(), StoreError> {
                assert_eq!(device, sender.device_id.to_string());
                back.push((entry.record.to_owned(), entry.hash, entry.hash_is_valid()));
                Ok(())
            })
            .expect("read back");
        assert_eq!(back.len(), 2);
        for (got, sent) in back.iter().zip([&first, &second]) {
            assert_eq!(got.0, sent.record.get());
            assert_eq!(got.1, sent.hash);
            assert!(got.2);
        }
    }
}
