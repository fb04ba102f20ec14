//! Journal use cases: init, unlock, record, amend, list, show, change passphrase, wipe, check.
//! Plain Rust types in and out, so the CLI, the GUI and tests share them.

use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use chrono::{DateTime, FixedOffset, Local, Timelike};
use serde_json::{Map, Value};
use truce_sync::{
    DeviceSigningKey, NewObservationDefaults, Observation, ObservationKey, ObservationRevision,
    Role, SchemaError, Taxonomy,
};
use uuid::Uuid;

use crate::fsutil;
use crate::keyfile::{self, DatabaseKey, KdfCost, KeyFileError};
use crate::store::{DeviceRecord, Store, StoreError};

/// File name of the encrypted database inside the data directory.
pub const DATABASE_FILE: &str = "journal.db";
/// File name of the wrapped database key inside the data directory.
pub const KEY_FILE: &str = "journal.key";
/// The GUI's settings (theme, language, auto-lock, wipe-after), not secret, in the data directory.
pub const SETTINGS_FILE: &str = "settings.json";
/// Wrong passphrases in a row, for the optional wipe after failed unlocks; not secret.
pub const UNLOCK_FAILURES_FILE: &str = "unlock-failures";
/// An unfinished report (a partial schema v1 object) and when it was saved (RFC 3339).
pub type Draft = (Map<String, Value>, String);

/// Largest draft kept, in bytes of JSON.
pub const DRAFT_MAX_BYTES: usize = 1024 * 1024;
/// Longest observer or team name.
pub const NAME_MAX_CHARS: usize = 100;

/// Where a journal's files are.
#[derive(Debug, Clone)]
pub struct JournalPaths {
    /// The data directory.
    pub dir: PathBuf,
    /// The SQLCipher database.
    pub database: PathBuf,
    /// The wrapped key.
    pub key_file: PathBuf,
}

impl JournalPaths {
    /// The journal's files inside `dir`.
    pub fn new(dir: &Path) -> Self {
        JournalPaths {
            dir: dir.to_path_buf(),
            database: dir.join(DATABASE_FILE),
            key_file: dir.join(KEY_FILE),
        }
    }

    /// The database's write-ahead log and shared-memory files.
    fn sidecars(&self) -> [PathBuf; 2] {
        let db = self.database.as_os_str().to_owned();
        let mut wal = db.clone();
        wal.push("-wal");
        let mut shm = db;
        shm.push("-shm");
        [PathBuf::from(wal), PathBuf::from(shm)]
    }
}

/// Who uses this device, as given at `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The observer's name, as it appears on their records.
    pub observer: String,
    /// The observer's team.
    pub team: Option<String>,
    /// Monitor or coordinator.
    pub role: Role,
}

/// What the journal says about this device, without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSummary {
    /// The device's UUID.
    pub device_id: Uuid,
    /// The observer's name.
    pub observer: String,
    /// The observer's team.
    pub team: Option<String>,
    /// Monitor or coordinator.
    pub role: Role,
    /// Fingerprint of the device's signing key.
    pub fingerprint: String,
    /// When the journal was created.
    pub created_at: String,
}

/// What `wipe` found and destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WipeReport {
    /// The wrapped key was overwritten and deleted.
    pub key_destroyed: bool,
    /// Database files (database, WAL, SHM) removed.
    pub files_removed: usize,
}

/// Everything a journal use case can fail with; each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// There is no journal in the data directory.
    #[error("no journal in {0}. Create one with `truce init --observer NAME`, or point --data-dir (or TRUCE_DATA_DIR) at an existing journal")]
    NotFound(PathBuf),
    /// `init` found journal files already.
    #[error("a journal already exists in {0}; Truce will not overwrite it. Use another --data-dir, or destroy the old one first with `truce wipe --yes`")]
    AlreadyExists(PathBuf),
    /// The passphrase does not unwrap the key.
    #[error("wrong passphrase for the journal in {0}. Nothing was changed; try again, checking the keyboard layout and Caps Lock")]
    WrongPassphrase(PathBuf),
    /// A file of the journal is damaged or missing.
    #[error("journal damaged: {0}. Nothing was changed. Keep a copy of the data directory and restore it from a backup or a recent bundle")]
    Damaged(String),
    /// The disk is full.
    #[error("the disk is full, so nothing was saved. Earlier records are intact; free some space and try again")]
    DiskFull,
    /// Another process holds the journal.
    #[error("the journal is in use by another Truce process; close it and try again")]
    Busy,
    /// A newer Truce wrote this journal.
    #[error("this journal was written by a newer Truce (schema {found}; this build knows up to {known}). Install the newer Truce to open it")]
    TooNew {
        /// Schema version found.
        found: u32,
        /// Newest schema this build knows.
        known: u32,
    },
    /// The observation breaks schema v1.
    #[error("invalid observation: {0}. Nothing was saved")]
    Invalid(SchemaError),
    /// A profile or passphrase given at init or passwd is not acceptable.
    #[error("{0}")]
    Refused(String),
    /// No observation matches the id.
    #[error("no observation matches `{0}`; run `truce list` to see the ids")]
    UnknownObservation(String),
    /// The id prefix matches several observations.
    #[error("`{0}` matches more than one observation; give more characters of the id")]
    AmbiguousId(String),
    /// Several devices recorded an observation with this id: each is its own observation.
    #[error("observation {id} was recorded on {} devices, each its own observation: {}. Say which one with --device DEVICE (or ID@DEVICE), giving the beginning or end of its device id", devices.len(), shared_id_devices(devices))]
    SharedId {
        /// The id they share.
        id: Uuid,
        /// Each device that used it, with its observer.
        devices: Vec<(Uuid, String)>,
    },
    /// `record` was given an id that is already used.
    #[error("observation {0} is already in the journal; to change it, use `truce amend {0}`")]
    Duplicate(Uuid),
    /// The observation changed while amending.
    #[error("observation {0} changed while you were amending it; show it again and retry")]
    Conflict(Uuid),
    /// A file operation failed.
    #[error("cannot {action} {path}: {cause}")]
    Io {
        /// What Truce was doing.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// Any other database error.
    #[error("{0}")]
    Store(StoreError),
}

impl From<SchemaError> for JournalError {
    fn from(e: SchemaError) -> Self {
        JournalError::Invalid(e)
    }
}

impl From<StoreError> for JournalError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Damaged(reason) => JournalError::Damaged(format!("the database: {reason}")),
            StoreError::DiskFull => JournalError::DiskFull,
            StoreError::Busy => JournalError::Busy,
            StoreError::TooNew { found, known } => JournalError::TooNew { found, known },
            StoreError::Duplicate(id) => JournalError::Duplicate(id),
            StoreError::Conflict(id) => JournalError::Conflict(id),
            StoreError::NotFound(id) => JournalError::UnknownObservation(id),
            StoreError::Ambiguous(id) => JournalError::AmbiguousId(id),
            StoreError::SharedId { id, devices } => JournalError::SharedId { id, devices },
            other => JournalError::Store(other),
        }
    }
}

/// "device 0190… (Ana), device 0191… (Eve)".
fn shared_id_devices(devices: &[(Uuid, String)]) -> String {
    devices
        .iter()
        .map(|(device, observer)| format!("device {device} ({observer})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> JournalError + 'a {
    move |cause| {
        if cause.raw_os_error() == Some(28) {
            return JournalError::DiskFull;
        }
        JournalError::Io {
            action,
            path: path.to_path_buf(),
            cause,
        }
    }
}

fn key_error(paths: &JournalPaths, e: KeyFileError) -> JournalError {
    match e {
        KeyFileError::WrongPassphrase => JournalError::WrongPassphrase(paths.dir.clone()),
        KeyFileError::Damaged { reason, .. } => JournalError::Damaged(format!(
            "the key file {} is unusable: {reason}",
            paths.key_file.display()
        )),
        KeyFileError::Io { cause, .. } => io_error("use the key file", &paths.key_file)(cause),
        other => JournalError::Refused(other.to_string()),
    }
}

/// An unlocked journal. Holds the database key and the device's signing key in memory until
/// dropped; both are zeroized then.
#[derive(Debug)]
pub struct Journal {
    pub(crate) paths: JournalPaths,
    pub(crate) key: DatabaseKey,
    pub(crate) store: Store,
    pub(crate) device: DeviceRecord,
    pub(crate) taxonomy: Taxonomy,
    /// The last alerts evaluated, with what they were evaluated over (see `Journal::alerts`).
    pub(crate) alerts_cache: std::cell::RefCell<Option<crate::coordinator::AlertsCache>>,
    /// How often the alert sweep takes a checkpoint (tests take them often).
    pub(crate) alert_checkpoint_every: usize,
}

impl Journal {
    /// Creates a new journal in `dir`: a random database key wrapped by `passphrase`, an
    /// encrypted database, and a fresh device identity. Refuses to touch an existing journal.
    pub fn init(
        dir: &Path,
        passphrase: &SecretString,
        profile: Profile,
        cost: KdfCost,
    ) -> Result<Journal, JournalError> {
        let paths = JournalPaths::new(dir);
        if paths.key_file.exists() || paths.database.exists() {
            return Err(JournalError::AlreadyExists(paths.dir));
        }
        let profile = check_profile(profile)?;
        keyfile::check_new_passphrase(passphrase).map_err(JournalError::Refused)?;
        fsutil::create_private_dir(dir).map_err(io_error("create the data directory", dir))?;

        let page_size = match profile.role {
            Role::Coordinator => keyfile::PageSize::Large,
            Role::Monitor => keyfile::PageSize::Standard,
        };
        let key = DatabaseKey::generate(page_size).map_err(|e| key_error(&paths, e))?;
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut secret[..])
            .map_err(|e| JournalError::Refused(format!("no randomness available: {e}")))?;
        let device = DeviceRecord {
            device_id: Uuid::now_v7(),
            observer: profile.observer,
            team: profile.team,
            role: profile.role,
            signing_key: DeviceSigningKey::from_bytes(&secret),
            created_at: now().to_rfc3339(),
        };
        // Only the owner may read the database; SQLite gives its WAL the same permissions.
        fsutil::private_options()
            .write(true)
            .create_new(true)
            .open(&paths.database)
            .map_err(io_error("create", &paths.database))?;
        // The database first, the key file last: the key file is what makes a journal whole.
        let created = Store::create(&paths.database, &key, &device)
            .map_err(JournalError::from)
            .and_then(|store| {
                keyfile::write(&paths.key_file, &key, passphrase, cost)
                    .map_err(|e| key_error(&paths, e))?;
                Ok(store)
            });
        let store = match created {
            Ok(store) => store,
            Err(e) => {
                remove_database_files(&paths);
                return Err(e);
            }
        };
        let device = store.device()?;
        Ok(Journal {
            paths,
            key,
            store,
            device,
            taxonomy: Taxonomy::builtin(),
            alerts_cache: Default::default(),
            alert_checkpoint_every: crate::alerts::CHECKPOINT_EVERY,
        })
    }

    /// Unlocks the journal in `dir`. A wrong passphrase changes nothing on disk.
    pub fn open(dir: &Path, passphrase: &SecretString) -> Result<Journal, JournalError> {
        let paths = JournalPaths::new(dir);
        match (paths.key_file.exists(), paths.database.exists()) {
            (false, false) => return Err(JournalError::NotFound(paths.dir)),
            (false, true) => {
                return Err(JournalError::Damaged(format!(
                    "the key file {} is missing, so the database cannot be decrypted (was the journal wiped, or init interrupted?)",
                    paths.key_file.display()
                )))
            }
            (true, false) => {
                return Err(JournalError::Damaged(format!("the database {} is missing", paths.database.display())))
            }
            (true, true) => {}
        }
        let key = keyfile::read(&paths.key_file, passphrase).map_err(|e| key_error(&paths, e))?;
        let store = Store::open(&paths.database, &key)?;
        let device = store.device()?;
        let mut journal = Journal {
            paths,
            key,
            store,
            device,
            taxonomy: Taxonomy::builtin(),
            alerts_cache: Default::default(),
            alert_checkpoint_every: crate::alerts::CHECKPOINT_EVERY,
        };
        if let Some(profile) = journal.profile()? {
            journal.taxonomy = profile.profile.taxonomy;
        }
        Ok(journal)
    }

    /// Where this journal's files are.
    pub fn paths(&self) -> &JournalPaths {
        &self.paths
    }

    /// The device and observer, without secrets.
    pub fn device(&self) -> DeviceSummary {
        DeviceSummary {
            device_id: self.device.device_id,
            observer: self.device.observer.clone(),
            team: self.device.team.clone(),
            role: self.device.role,
            fingerprint: self.device.signing_key.fingerprint(),
            created_at: self.device.created_at.clone(),
        }
    }

    /// The taxonomy observations are checked against.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Validates and durably saves a new observation given as a JSON object (schema v1).
    /// Fills `id` and `observed_at` when absent, and the device metadata.
    pub fn record(
        &mut self,
        input: Map<String, Value>,
    ) -> Result<ObservationRevision, JournalError> {
        let now = now();
        let defaults = NewObservationDefaults {
            id: Uuid::now_v7(),
            now,
        };
        let observation = Observation::from_new_json(input, defaults, &self.taxonomy)?;
        let revision = self.revision_of(observation, 1, now);
        self.store.insert_new(&revision)?;
        Ok(revision)
    }

    /// Adds a revision to an observation from a partial JSON object; the history is kept.
    pub fn amend(
        &mut self,
        id_or_prefix: &str,
        patch: Map<String, Value>,
    ) -> Result<ObservationRevision, JournalError> {
        let history = self.show(id_or_prefix)?;
        let current = history
            .last()
            .ok_or_else(|| JournalError::UnknownObservation(id_or_prefix.to_owned()))?;
        if current.device_id != self.device.device_id {
            return Err(JournalError::Refused(format!(
                "observation {} was recorded on another device ({}); only its observer can amend it",
                current.observation.id, current.observer
            )));
        }
        let observation = current.observation.amended(patch, &self.taxonomy)?;
        let revision = self.revision_of(observation, current.revision + 1, now());
        self.store.append_revision(&revision)?;
        Ok(revision)
    }

    fn revision_of(
        &self,
        observation: Observation,
        revision: u32,
        now: DateTime<FixedOffset>,
    ) -> ObservationRevision {
        ObservationRevision {
            observation,
            revision,
            recorded_at: now,
            device_id: self.device.device_id,
            observer: self.device.observer.clone(),
        }
    }

    /// Keeps an unfinished report (any partial JSON object, not validated) inside the encrypted
    /// journal, replacing the previous draft, so it survives closing the app.
    pub fn save_draft(&self, draft: &Map<String, Value>) -> Result<(), JournalError> {
        let body = Value::Object(draft.clone()).to_string();
        if body.len() > DRAFT_MAX_BYTES {
            return Err(JournalError::Refused(
                "the draft is larger than 1 MiB".into(),
            ));
        }
        Ok(self.store.save_draft(&body, &now().to_rfc3339())?)
    }

    /// The unfinished report and when it was saved, if there is one.
    pub fn draft(&self) -> Result<Option<Draft>, JournalError> {
        match self.store.draft()? {
            None => Ok(None),
            Some((body, saved_at)) => match serde_json::from_str(&body) {
                Ok(Value::Object(map)) => Ok(Some((map, saved_at))),
                _ => Err(JournalError::Damaged(
                    "the saved draft is unreadable".into(),
                )),
            },
        }
    }

    /// Discards the unfinished report.
    pub fn discard_draft(&self) -> Result<(), JournalError> {
        Ok(self.store.discard_draft()?)
    }

    /// The latest revision of every observation, newest first.
    pub fn list(&self, limit: Option<u32>) -> Result<Vec<ObservationRevision>, JournalError> {
        Ok(self.store.list_current(limit)?)
    }

    /// Every revision of one observation (by full id, or a unique beginning or end of it,
    /// optionally `@DEVICE` for an id that several devices used), oldest first.
    pub fn show(&self, id_or_prefix: &str) -> Result<Vec<ObservationRevision>, JournalError> {
        let key = self.store.resolve(id_or_prefix)?;
        Ok(self.store.history(key)?)
    }

    /// The observation `id_or_prefix` names (see [`Journal::show`]).
    pub fn resolve(&self, id_or_prefix: &str) -> Result<ObservationKey, JournalError> {
        Ok(self.store.resolve(id_or_prefix)?)
    }

    /// Which of `ids` have a revision saved on this device (a new observation or an
    /// amendment) that no bundle written so far carries ([`Self::unexported_ranges`]).
    /// Imported records never are.
    pub fn unexported_among(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashSet<Uuid>, JournalError> {
        let ranges = self.unexported_ranges()?;
        Ok(self.store.logged_in(&ranges, ids)?)
    }

    /// How many observations the journal holds.
    pub fn count(&self) -> Result<u64, JournalError> {
        Ok(self.store.count_observations()?)
    }

    /// Rewraps the database key with a new passphrase; the database is not rewritten.
    pub fn change_passphrase(&self, new: &SecretString, cost: KdfCost) -> Result<(), JournalError> {
        keyfile::check_new_passphrase(new).map_err(JournalError::Refused)?;
        keyfile::write(&self.paths.key_file, &self.key, new, cost)
            .map_err(|e| key_error(&self.paths, e))
    }

    /// Runs the full integrity checks: SQLite's and SQLCipher's, then the hash chains of this
    /// device's log and of every entry received, then the kept escalation alerts against the
    /// rules evaluated afresh. Returns the problems found; empty means healthy.
    pub fn check(&self) -> Result<Vec<String>, JournalError> {
        let mut problems = self.store.integrity_problems()?;
        if !problems.is_empty() {
            return Ok(problems);
        }
        let mut chain = ChainCheck::default();
        self.store
            .each_log_entry(1, i64::MAX as u64, |entry| -> Result<(), JournalError> {
                chain.entry("this device", &entry, &mut problems);
                Ok(())
            })?;
        let mut chain = ChainCheck::default();
        self.store
            .each_received_entry(|device, entry| -> Result<(), JournalError> {
                chain.entry(&format!("device {device}"), &entry, &mut problems);
                Ok(())
            })?;
        problems.extend(self.kept_alerts_problem()?);
        Ok(problems)
    }

    /// Emergency wipe of the journal in `dir`, without the passphrase: the wrapped key is
    /// overwritten, flushed and deleted first (after that nothing can decrypt the journal),
    /// then the database, WAL and SHM files are removed.
    pub fn wipe(dir: &Path) -> Result<WipeReport, JournalError> {
        let paths = JournalPaths::new(dir);
        let mut report = WipeReport::default();
        // Leftover temp key files from an interrupted passphrase change hold the key too.
        if let Ok(entries) = std::fs::read_dir(dir) {
            let prefix = format!(".{KEY_FILE}.tmp-");
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    fsutil::shred(&entry.path()).map_err(io_error("destroy", &entry.path()))?;
                }
            }
        }
        report.key_destroyed =
            fsutil::shred(&paths.key_file).map_err(io_error("destroy", &paths.key_file))?;
        let _ = fsutil::sync_dir(dir);
        for path in std::iter::once(paths.database.clone()).chain(paths.sidecars()) {
            if fsutil::remove_if_exists(&path).map_err(io_error("remove", &path))? {
                report.files_removed += 1;
            }
        }
        // The GUI's settings and failed-unlock count: not secret, but they say Truce was here.
        for name in [SETTINGS_FILE, UNLOCK_FAILURES_FILE] {
            let path = dir.join(name);
            if fsutil::remove_if_exists(&path).map_err(io_error("remove", &path))? {
                report.files_removed += 1;
            }
        }
        let _ = fsutil::sync_dir(dir);
        Ok(report)
    }
}

fn remove_database_files(paths: &JournalPaths) {
    for path in std::iter::once(paths.database.clone()).chain(paths.sidecars()) {
        let _ = fsutil::remove_if_exists(&path);
    }
}

/// Now, in local time with its offset, to the second (monitors never need finer).
pub(crate) fn now() -> DateTime<FixedOffset> {
    let now = Local::now().fixed_offset();
    now.with_nanosecond(0).unwrap_or(now)
}

fn check_profile(profile: Profile) -> Result<Profile, JournalError> {
    let observer = profile.observer.trim().to_owned();
    if observer.is_empty() {
        return Err(JournalError::Refused(
            "the observer name is empty; give the name that should appear on your records".into(),
        ));
    }
    let team = profile
        .team
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    for (what, text) in [
        ("observer name", Some(&observer)),
        ("team name", team.as_ref()),
    ] {
        if let Some(text) = text {
            if text.chars().count() > NAME_MAX_CHARS || text.chars().any(char::is_control) {
                return Err(JournalError::Refused(format!(
                    "the {what} must be at most {NAME_MAX_CHARS} characters, without control characters"
                )));
            }
        }
    }
    Ok(Profile {
        observer,
        team,
        role: profile.role,
    })
}

/// Checks log entries in order, one log after another: each hash against its record, and each
/// entry's link to the one before it when that one is held.
#[derive(Default)]
struct ChainCheck {
    last: Option<(String, u64, truce_sync::log::EntryHash)>,
}

impl ChainCheck {
    fn entry(
        &mut self,
        log: &str,
        entry: &truce_sync::log::StoredEntry<'_>,
        problems: &mut Vec<String>,
    ) {
        if !entry.hash_is_valid() {
            problems.push(format!(
                "entry {} of {log}: its record does not match its hash (altered after it was written)",
                entry.seq
            ));
        }
        if let Some((last_log, last_seq, last_hash)) = &self.last {
            if last_log == log && last_seq + 1 == entry.seq && *last_hash != entry.prev_hash {
                problems.push(format!(
                    "entry {} of {log}: it does not follow entry {last_seq} (the chain is broken)",
                    entry.seq
                ));
            }
        }
        self.last = Some((log.to_owned(), entry.seq, entry.hash));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfCost = KdfCost::WorkFactor(10);

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn profile() -> Profile {
        Profile {
            observer: " Ana ".into(),
            team: Some("Team 3".into()),
            role: Role::Monitor,
        }
    }

    fn obj(json: &str) -> Map<String, Value> {
        truce_sync::parse_object(json).expect("object")
    }

    #[test]
    fn init_record_reopen_amend() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal =
            Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
        assert_eq!(journal.device().observer, "Ana");
        let saved = journal
            .record(obj(
                r#"{"kind":"violation","category":"shelling","method":"heard"}"#,
            ))
            .expect("record");
        drop(journal);

        assert!(matches!(
            Journal::init(dir.path(), &pass("correct horse"), profile(), FAST),
            Err(JournalError::AlreadyExists(_))
        ));
        assert!(matches!(
            Journal::open(dir.path(), &pass("wrong horse")),
            Err(JournalError::WrongPassphrase(_))
        ));

        let mut journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
        let id = saved.observation.id.to_string();
        let amended = journal
            .amend(&id[..13], obj(r#"{"severity":3}"#))
            .expect("amend");
        assert_eq!(amended.revision, 2);
        let history = journal.show(&id).expect("show");
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].observation.severity, None);
        assert_eq!(history[1].observation.severity, Some(3));
        assert!(journal.check().expect("check").is_empty());
    }

    #[test]
    fn passphrase_change_rewraps_without_touching_the_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal =
            Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
        let db = journal.paths().database.clone();
        drop(journal);
        let before = std::fs::read(&db).expect("read db");
        let journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
        journal
            .change_passphrase(&pass("battery staple"), FAST)
            .expect("passwd");
        assert!(journal.change_passphrase(&pass("short"), FAST).is_err());
        drop(journal);
        assert_eq!(
            std::fs::read(&db).expect("read db"),
            before,
            "the database was not rewritten"
        );
        assert!(matches!(
            Journal::open(dir.path(), &pass("correct horse")),
            Err(JournalError::WrongPassphrase(_))
        ));
        Journal::open(dir.path(), &pass("battery staple")).expect("new passphrase opens");
    }

    #[test]
    fn wipe_leaves_nothing_that_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal =
            Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
        journal
            .record(obj(
                r#"{"kind":"incident","category":"mine_uxo","method":"seen"}"#,
            ))
            .expect("record");
        drop(journal);
        std::fs::write(dir.path().join(SETTINGS_FILE), "{}").expect("settings");
        std::fs::write(dir.path().join(UNLOCK_FAILURES_FILE), "2").expect("failures");
        let report = Journal::wipe(dir.path()).expect("wipe");
        assert!(report.key_destroyed);
        assert!(report.files_removed >= 1);
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
        assert!(matches!(
            Journal::open(dir.path(), &pass("correct horse")),
            Err(JournalError::NotFound(_))
        ));
    }

    #[test]
    fn drafts_survive_reopening_and_stay_encrypted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal =
            Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
        assert!(journal.draft().expect("draft").is_none());
        let marker = "draft-marker-7f3a9";
        journal
            .save_draft(&obj(&format!(
                r#"{{"kind":"violation","narrative":"{marker}"}}"#
            )))
            .expect("save");
        journal
            .save_draft(&obj(&format!(
                r#"{{"kind":"incident","narrative":"{marker} 2"}}"#
            )))
            .expect("replace");
        drop(journal);
        for entry in std::fs::read_dir(dir.path()).expect("ls") {
            let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "draft in plaintext on disk"
            );
        }
        let journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
        let (draft, _) = journal.draft().expect("draft").expect("kept");
        assert_eq!(draft["kind"], "incident");
        journal.discard_draft().expect("discard");
        assert!(journal.draft().expect("draft").is_none());
        assert_eq!(
            journal.count().expect("count"),
            0,
            "a draft is not a record"
        );
    }

    #[test]
    fn unexported_observations_are_those_logged_after_the_last_export() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal =
            Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
        let a = journal
            .record(obj(
                r#"{"kind":"incident","category":"mine_uxo","method":"seen"}"#,
            ))
            .expect("record")
            .observation
            .id;
        let b = journal
            .record(obj(
                r#"{"kind":"violation","category":"shelling","method":"heard"}"#,
            ))
            .expect("record")
            .observation
            .id;
        let other = Uuid::now_v7();
        let pending = journal.unexported_among(&[a, b, other]).expect("query");
        assert_eq!(pending.len(), 2);
        assert!(pending.contains(&a) && pending.contains(&b));
        // As if a bundle carried entries 1..=2 (the store records what `export` wrote).
        journal
            .store
            .record_export("bundle", &now().to_rfc3339(), 1, 2, "bundle.age")
            .expect("record the export");
        assert!(journal.unexported_among(&[a, b]).expect("query").is_empty());
        journal
            .amend(&a.to_string(), obj(r#"{"severity":2}"#))
            .expect("amend");
        let pending = journal.unexported_among(&[a, b]).expect("query");
        assert_eq!(
            pending.into_iter().collect::<Vec<_>>(),
            vec![a],
            "the amendment is new"
        );
        // A later range exported alone (entry 4) leaves the amendment (entry 3) pending.
        let c = journal
            .record(obj(
                r#"{"kind":"incident","category":"mine_uxo","method":"heard"}"#,
            ))
            .expect("record")
            .observation
            .id;
        journal
            .store
            .record_export("later", &now().to_rfc3339(), 4, 4, "later.age")
            .expect("record the export");
        let pending = journal.unexported_among(&[a, b, c]).expect("query");
        assert_eq!(pending.into_iter().collect::<Vec<_>>(), vec![a]);
        assert_eq!(journal.pending_export().expect("count"), 1);
        assert_eq!(journal.unexported_ranges().expect("ranges"), vec![(3, 3)]);
    }

    #[test]
    fn bad_profiles_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = Profile {
            observer: "  ".into(),
            ..profile()
        };
        assert!(matches!(
            Journal::init(dir.path(), &pass("correct horse"), empty, FAST),
            Err(JournalError::Refused(_))
        ));
        assert!(matches!(
            Journal::init(dir.path(), &pass("short"), profile(), FAST),
            Err(JournalError::Refused(_))
        ));
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("ls").count(),
            0,
            "nothing written"
        );
    }

    #[test]
    fn the_chain_check_finds_an_altered_record_and_a_broken_link() {
        use truce_sync::log::{EntryHash, LogEntry};
        let chain = |records: [&str; 3]| {
            let mut prev = EntryHash::GENESIS;
            let mut entries = Vec::new();
            for (i, record) in records.iter().enumerate() {
                let entry = LogEntry::new(i as u64 + 1, prev, (*record).to_owned()).expect("entry");
                prev = entry.hash;
                entries.push(entry);
            }
            entries
        };
        let problems = |entries: &[LogEntry]| {
            let mut check = ChainCheck::default();
            let mut found = Vec::new();
            for entry in entries {
                check.entry("device A", &entry.into(), &mut found);
            }
            found
        };
        let good = chain([r#"{"a":1}"#, r#"{"a":2}"#, r#"{"a":3}"#]);
        assert!(problems(&good).is_empty());

        let mut altered = chain([r#"{"a":1}"#, r#"{"a":2}"#, r#"{"a":3}"#]);
        altered[1] = LogEntry::stored(
            2,
            altered[1].prev_hash,
            altered[1].hash,
            r#"{"a":9}"#.into(),
        )
        .expect("entry");
        let found = problems(&altered);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("entry 2 of device A") && found[0].contains("hash"));

        let other = chain([r#"{"b":1}"#, r#"{"b":2}"#, r#"{"b":3}"#]);
        let spliced = [good[0].clone(), other[1].clone(), good[2].clone()];
        let found = problems(&spliced);
        assert_eq!(
            found.len(),
            2,
            "both links around the foreign entry: {found:?}"
        );
        assert!(found.iter().all(|p| p.contains("chain is broken")));
    }
}
