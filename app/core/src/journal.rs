//! Journal use cases: init, unlock, record, amend, list, show, change passphrase, wipe, check.
//! Plain Rust types in and out, so the CLI, the GUI and tests share them.

use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use chrono::{DateTime, FixedOffset, Local, Timelike};
use serde_json::{Map, Value};
use truce_sync::bundle::BundleError;
use truce_sync::profile::{ProfileError, SignedProfile};
use truce_sync::{
    DeviceSigningKey, NewObservationDefaults, Observation, ObservationKey, ObservationRevision,
    Role, SchemaError, Taxonomy,
};
use uuid::Uuid;

use crate::fsutil;
use crate::keyfile::{self, DatabaseKey, KdfCost, KeyFileError};
use crate::model::ThisDevice;
use crate::store::{DeviceIdentity, Store, StoreError};
pub use crate::unlock_policy::{SETTINGS_FILE, UNLOCK_FAILURES_FILE};

/// File name of the encrypted database inside the data directory.
pub const DATABASE_FILE: &str = "journal.db";
/// File name of the wrapped database key inside the data directory.
pub const KEY_FILE: &str = "journal.key";
/// File name of the next wrapped key while the passphrase changes: the new database key under
/// the new passphrase, kept beside the current key file until the database has been
/// re-encrypted with it and the key file replaced.
pub const NEXT_KEY_FILE: &str = "journal.key.next";
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
    /// The next wrapped key, present only while a passphrase change is under way (or was
    /// interrupted).
    pub next_key_file: PathBuf,
}

impl JournalPaths {
    /// The journal's files inside `dir`.
    pub fn new(dir: &Path) -> Self {
        JournalPaths {
            dir: dir.to_path_buf(),
            database: dir.join(DATABASE_FILE),
            key_file: dir.join(KEY_FILE),
            next_key_file: dir.join(NEXT_KEY_FILE),
        }
    }

    /// The database's write-ahead log, shared-memory file and rollback journal (SQLite keeps
    /// one while the database is created, before it switches to WAL).
    fn sidecars(&self) -> [PathBuf; 3] {
        ["-wal", "-shm", "-journal"].map(|suffix| {
            let mut path = self.database.as_os_str().to_owned();
            path.push(suffix);
            PathBuf::from(path)
        })
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
    /// Wrong passphrases reached the limit of the unlock policy: the journal was wiped.
    #[error("{0} wrong passphrases in a row: the journal in {1} was wiped, as its unlock policy says. Nothing of it can be recovered; set up a new journal with `truce init`")]
    WipedAfterFailedUnlocks(u32, PathBuf),
    /// A passphrase change was interrupted after the database took its new key, and the
    /// passphrase given is the one it replaced.
    #[error("a passphrase change on the journal in {0} was interrupted after it took effect, so the previous passphrase no longer opens it: unlock it with the new passphrase. Nothing was changed")]
    PassphraseChanged(PathBuf),
    /// A passphrase change was interrupted before the database took its new key, and the
    /// passphrase given is the one it was to set.
    #[error("a passphrase change on the journal in {0} was interrupted before it took effect, so the new passphrase does not open it yet: unlock it with the previous passphrase, then change the passphrase again. Nothing was changed")]
    PassphraseNotChanged(PathBuf),
    /// A passphrase change stopped half-way, and the journal must be unlocked again.
    #[error("the passphrase change did not finish ({0}). Nothing is lost: unlock the journal again, with the new passphrase, or with the previous one if the new one does not open it")]
    UnfinishedPassphraseChange(String),
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
    Invalid(#[source] SchemaError),
    /// What was asked is not acceptable as given (a name, a passphrase, a range, a note...),
    /// and nothing changed. The text says what to change.
    #[error("{0}")]
    Refused(String),
    /// A mission profile is refused: unsigned, signed by another key, older, or from a newer
    /// Truce.
    #[error("{0}")]
    Profile(#[source] ProfileError),
    /// A bundle could not be written (not the disk: see `Io` and `DiskFull`).
    #[error("cannot write the bundle: {0}. Nothing was exported; the records stay pending")]
    BundleWrite(#[source] BundleError),
    /// The key file is not one this build can use.
    #[error("the key file cannot be used: {0}")]
    KeyFile(#[source] KeyFileError),
    /// The system gave no randomness, so no key or id could be made.
    #[error("the system gave no randomness ({0}), so nothing was made and nothing changed; try again, and if it goes on, the system's random source is broken")]
    NoRandomness(#[source] getrandom::Error),
    /// A fault in Truce itself, not in the user's data or input.
    #[error("Truce could not {what}: {source}. This is a fault in Truce, not in your data; nothing was changed. Please report it")]
    Internal {
        /// What Truce was doing.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The journal is locked (the GUI dropped it after inactivity or on request).
    #[error("the journal is locked; unlock it and try again. Nothing was changed")]
    Locked,
    /// A coordinator's use case was asked of a monitor's journal.
    #[error("{0} is for coordinators; this journal was created with --role monitor")]
    CoordinatorsOnly(String),
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
        #[source]
        cause: std::io::Error,
    },
    /// Any other database error.
    #[error("{0}")]
    Store(#[source] StoreError),
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
    move |cause| JournalError::io(action, path, cause)
}

impl JournalError {
    /// An I/O failure while doing `action` on `path`: [`JournalError::DiskFull`] when the disk
    /// is full (the one place that says so), else [`JournalError::Io`].
    pub(crate) fn io(action: &'static str, path: &Path, cause: std::io::Error) -> JournalError {
        if fsutil::is_disk_full(&cause) {
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
    key_error_at(paths, &paths.key_file, e)
}

/// `key_error` for the key file at `path` (the key file, or the next one).
fn key_error_at(paths: &JournalPaths, path: &Path, e: KeyFileError) -> JournalError {
    match e {
        KeyFileError::WrongPassphrase => JournalError::WrongPassphrase(paths.dir.clone()),
        KeyFileError::Damaged { reason, .. } => JournalError::Damaged(format!(
            "the key file {} is unusable: {reason}",
            path.display()
        )),
        KeyFileError::Io { cause, .. } => io_error("use the key file", path)(cause),
        other => JournalError::KeyFile(other),
    }
}

/// An unlocked journal. Holds the database key and the device's signing key in memory until
/// dropped; both are zeroized then.
#[derive(Debug)]
pub struct Journal {
    pub(crate) paths: JournalPaths,
    pub(crate) key: DatabaseKey,
    pub(crate) store: Store,
    pub(crate) device: DeviceIdentity,
    pub(crate) taxonomy: Taxonomy,
    /// The installed mission profile, read and verified once at unlock and replaced when a
    /// newer one is installed.
    pub(crate) profile: Option<SignedProfile>,
    /// The last alerts evaluated, with what they were evaluated over (see `Journal::alerts`).
    pub(crate) alerts_cache: std::cell::RefCell<Option<crate::alerts::AlertsCache>>,
    /// How often the alert sweep takes a checkpoint (tests take them often).
    pub(crate) alert_checkpoint_every: usize,
}

impl Journal {
    /// Refuses `what` unless this is a coordinator's journal: the one role check.
    pub(crate) fn require_coordinator(&self, what: &str) -> Result<(), JournalError> {
        match self.device.role {
            Role::Coordinator => Ok(()),
            _ => Err(JournalError::CoordinatorsOnly(what.to_string())),
        }
    }
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
        getrandom::getrandom(&mut secret[..]).map_err(JournalError::NoRandomness)?;
        let device = DeviceIdentity {
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
            profile: None,
            alerts_cache: Default::default(),
            alert_checkpoint_every: crate::alerts::CHECKPOINT_EVERY,
        })
    }

    /// Unlocks the journal in `dir`, under its unlock policy ([`crate::unlock_policy`]): with the
    /// policy on, a wrong passphrase is counted, and the one that reaches the limit wipes the
    /// journal ([`JournalError::WipedAfterFailedUnlocks`]); an unlock starts the count again.
    /// Otherwise a wrong passphrase changes nothing on disk.
    pub fn open(dir: &Path, passphrase: &SecretString) -> Result<Journal, JournalError> {
        match Journal::open_unguarded(dir, passphrase) {
            Ok(journal) => {
                crate::unlock_policy::reset_failures(dir);
                Ok(journal)
            }
            Err(e @ (JournalError::WrongPassphrase(_) | JournalError::PassphraseChanged(_))) => {
                let Some(failures) = crate::unlock_policy::wrong_passphrase(dir) else {
                    return Err(e);
                };
                tracing::info!(
                    "wiping the journal after {failures} failed unlocks, as its unlock policy says"
                );
                Journal::wipe(dir)?;
                Err(JournalError::WipedAfterFailedUnlocks(
                    failures,
                    dir.to_path_buf(),
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// [`Journal::open`] without the unlock policy.
    fn open_unguarded(dir: &Path, passphrase: &SecretString) -> Result<Journal, JournalError> {
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
        let (key, store) = if paths.next_key_file.exists() {
            unlock_after_interruption(&paths, passphrase)?
        } else {
            let key =
                keyfile::read(&paths.key_file, passphrase).map_err(|e| key_error(&paths, e))?;
            let store = Store::open(&paths.database, &key)?;
            (key, store)
        };
        let device = store.device()?;
        let profile = match store.profile_text()? {
            None => None,
            Some(text) => Some(SignedProfile::open_installed(&text).map_err(|e| {
                JournalError::Damaged(format!("the installed mission profile is unreadable: {e}"))
            })?),
        };
        let taxonomy = profile
            .as_ref()
            .map_or_else(Taxonomy::builtin, |p| p.profile.taxonomy.clone());
        Ok(Journal {
            paths,
            key,
            store,
            device,
            taxonomy,
            profile,
            alerts_cache: Default::default(),
            alert_checkpoint_every: crate::alerts::CHECKPOINT_EVERY,
        })
    }

    /// Where this journal's files are.
    pub fn paths(&self) -> &JournalPaths {
        &self.paths
    }

    /// The device and observer, without secrets.
    pub fn device(&self) -> ThisDevice {
        ThisDevice {
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

    /// Whether `passphrase` is this journal's passphrase: it unwraps the key file, and the key
    /// inside is the one the journal is open with. For asking again before a passphrase change.
    pub fn confirm_passphrase(&self, passphrase: &SecretString) -> Result<(), JournalError> {
        let key = keyfile::read(&self.paths.key_file, passphrase)
            .map_err(|e| key_error(&self.paths, e))?;
        if key.same_key(&self.key) {
            Ok(())
        } else {
            Err(JournalError::Refused(
                "the journal's key changed since it was unlocked (was the passphrase changed elsewhere?): lock the journal, unlock it again and retry".into(),
            ))
        }
    }

    /// Changes the passphrase and re-encrypts the database with a fresh random key (same page
    /// authentication and size, same key file version), so that an old copy of the key file,
    /// with the old passphrase, no longer opens the journal. The journal stays open, under the
    /// new key.
    ///
    /// Crash-safe: the log is checkpointed; the next key file (new key, new passphrase) is
    /// written beside the key file and flushed; the database is re-encrypted in one
    /// transaction; a new connection with the new key confirms it; only then does the next key
    /// file replace the key file (a rename). A crash at any point leaves a journal that opens
    /// with the old passphrase or the new one, whole: `open` tries both key files.
    pub fn change_passphrase(
        &mut self,
        new: &SecretString,
        cost: KdfCost,
    ) -> Result<(), JournalError> {
        self.change_passphrase_until(new, cost, None)
    }

    /// `change_passphrase`, which tests can stop right after `stop`, as a crash there would
    /// (the connections of the moment are left open and unflushed, not closed).
    fn change_passphrase_until(
        &mut self,
        new: &SecretString,
        cost: KdfCost,
        stop: Option<PasswdStep>,
    ) -> Result<(), JournalError> {
        keyfile::check_new_passphrase(new).map_err(JournalError::Refused)?;
        let paths = self.paths.clone();
        let next = self.key.fresh_like().map_err(|e| key_error(&paths, e))?;
        // 1. An empty log: the re-encryption is then one transaction over the database alone.
        self.store.checkpoint()?;
        // 2. The next key file is on disk before the database takes its key.
        keyfile::write(&paths.next_key_file, &next, new, cost)
            .map_err(|e| key_error_at(&paths, &paths.next_key_file, e))?;
        if stop == Some(PasswdStep::NextKeyFileWritten) {
            return Ok(());
        }
        // 3. The re-encryption, on a connection of its own (see `Store::rekey_in_place`).
        let worker = match Store::open(&paths.database, &self.key) {
            Ok(worker) => worker,
            Err(e) => {
                discard_next_key_file(&paths);
                return Err(e.into());
            }
        };
        let rekeyed = worker.rekey_in_place(&next);
        if stop == Some(PasswdStep::Rekeyed) {
            std::mem::forget(worker);
            return Ok(());
        }
        // The new pages go from the log into the database (a raw copy of the pages, sound
        // whatever the rekey did); the log is emptied.
        let _ = worker.checkpoint();
        drop(worker);
        if stop == Some(PasswdStep::Checkpointed) {
            return Ok(());
        }
        // 4. Only a new connection keyed with the new key proves that the change took.
        let store = match rekeyed.and_then(|()| Store::open(&paths.database, &next)) {
            Ok(store) => store,
            // The database kept its old key: nothing changed, and the next key file goes.
            // SQLCipher does not report why a re-encryption failed (a full disk, most likely:
            // the log must hold a copy of every page), so the new key just does not open it.
            Err(e) if self.store.readable() => {
                discard_next_key_file(&paths);
                return Err(match e {
                    StoreError::Damaged(_) => JournalError::Refused(
                        "the journal could not be re-encrypted, so its passphrase is unchanged. Re-encrypting needs free disk space about the size of the journal: free some and try again".into(),
                    ),
                    other => other.into(),
                });
            }
            Err(e) => return Err(JournalError::UnfinishedPassphraseChange(e.to_string())),
        };
        if stop == Some(PasswdStep::Confirmed) {
            std::mem::forget(store);
            return Ok(());
        }
        // 5. The journal is under the new key, in memory and then in the key file.
        self.store = store;
        self.key = next;
        promote_next_key_file(&paths)?;
        // Should the worker's checkpoint have been kept from finishing (a reader in another
        // process), the database file still holds pages under the old key: try once more.
        let _ = self.store.checkpoint();
        Ok(())
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

    /// Emergency wipe of the journal in `dir`, without the passphrase: the wrapped key (and
    /// the next one, while a passphrase change is unfinished) is overwritten, flushed and
    /// deleted first (after that nothing can decrypt the journal), then the database, its WAL,
    /// SHM and rollback journal files are removed.
    pub fn wipe(dir: &Path) -> Result<WipeReport, JournalError> {
        let paths = JournalPaths::new(dir);
        let mut report = WipeReport::default();
        // Every file that holds the key first: temp key files an interrupted write left, the
        // next key file of an unfinished passphrase change, then the key file.
        for name in [KEY_FILE, NEXT_KEY_FILE] {
            for path in temp_files_of(dir, name) {
                fsutil::shred(&path).map_err(io_error("destroy", &path))?;
            }
        }
        let next_destroyed = fsutil::shred(&paths.next_key_file)
            .map_err(io_error("destroy", &paths.next_key_file))?;
        report.key_destroyed = fsutil::shred(&paths.key_file)
            .map_err(io_error("destroy", &paths.key_file))?
            || next_destroyed;
        let _ = fsutil::sync_dir(dir);
        for path in std::iter::once(paths.database.clone()).chain(paths.sidecars()) {
            if fsutil::remove_if_exists(&path).map_err(io_error("remove", &path))? {
                report.files_removed += 1;
            }
        }
        // The GUI's settings and failed-unlock count, and their temp files: not secret, but
        // they say Truce was here.
        for name in [
            SETTINGS_FILE,
            UNLOCK_FAILURES_FILE,
            crate::unlock_policy::UNLOCK_POLICY_FILE,
        ] {
            for path in std::iter::once(dir.join(name)).chain(temp_files_of(dir, name)) {
                if fsutil::remove_if_exists(&path).map_err(io_error("remove", &path))? {
                    report.files_removed += 1;
                }
            }
        }
        let _ = fsutil::sync_dir(dir);
        Ok(report)
    }
}

/// Where a passphrase change can stop early, for the tests that simulate a crash there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
enum PasswdStep {
    /// The next key file is on disk; the database is untouched.
    NextKeyFileWritten,
    /// The database's re-encryption is committed to its log, not yet checkpointed.
    Rekeyed,
    /// The re-encrypted pages are in the database.
    Checkpointed,
    /// A connection with the new key opened the database; the key file is the old one.
    Confirmed,
}

/// Unlocks a journal whose data directory holds a next key file: a passphrase change was
/// interrupted (or is under way in another process). The key file or the next key file,
/// whichever the passphrase unwraps and whose key decrypts the database, opens it; a next key
/// file that does is promoted to be the key file, which finishes the change. Keys are tried
/// read-only first, so a passphrase that opens nothing changes nothing on disk.
fn unlock_after_interruption(
    paths: &JournalPaths,
    passphrase: &SecretString,
) -> Result<(DatabaseKey, Store), JournalError> {
    let current = match keyfile::read(&paths.key_file, passphrase) {
        // The change never reached the database. The next key file encrypts nothing; it stays
        // for the next passphrase change to replace (another process may be changing the
        // passphrase right now), and the wipe destroys it.
        Ok(key) if Store::opens_with(&paths.database, &key)? => {
            let store = Store::open(&paths.database, &key)?;
            return Ok((key, store));
        }
        other => other,
    };
    let next = match keyfile::read(&paths.next_key_file, passphrase) {
        // The database took the new key: finish the change. The log may still hold the
        // re-encrypted pages, over pages under the old key in the database file.
        Ok(key) if Store::opens_with(&paths.database, &key)? => {
            let store = Store::open(&paths.database, &key)?;
            store.checkpoint()?;
            promote_next_key_file(paths)?;
            return Ok((key, store));
        }
        other => other,
    };
    Err(match (current, next) {
        (Ok(_), Err(KeyFileError::WrongPassphrase)) => {
            JournalError::PassphraseChanged(paths.dir.clone())
        }
        (Err(KeyFileError::WrongPassphrase), Ok(_)) => {
            JournalError::PassphraseNotChanged(paths.dir.clone())
        }
        (Ok(_), _) | (_, Ok(_)) => JournalError::Damaged(format!(
            "the database {} decrypts neither with the key of {} nor with that of {}, which a passphrase change left",
            paths.database.display(),
            paths.key_file.display(),
            paths.next_key_file.display()
        )),
        (Err(e), _) => key_error(paths, e),
    })
}

/// The next key file becomes the key file (one rename, flushed): the passphrase change is done.
fn promote_next_key_file(paths: &JournalPaths) -> Result<(), JournalError> {
    fsutil::replace(&paths.next_key_file, &paths.key_file).map_err(|cause| {
        JournalError::UnfinishedPassphraseChange(format!(
            "cannot rename {} to {}: {cause}",
            paths.next_key_file.display(),
            paths.key_file.display()
        ))
    })
}

/// Destroys the next key file of a passphrase change that did not reach the database. A
/// failure leaves it in place, where it does no harm: `open` tries it only when the key file
/// does not open the database, and the next change or the wipe replaces or destroys it.
fn discard_next_key_file(paths: &JournalPaths) {
    let _ = fsutil::shred(&paths.next_key_file);
    let _ = fsutil::sync_dir(&paths.dir);
}

/// The temp files an atomic write of `name` in `dir` left behind when it was interrupted.
fn temp_files_of(dir: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!(".{name}.tmp-");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

fn remove_database_files(paths: &JournalPaths) {
    for path in std::iter::once(paths.database.clone()).chain(paths.sidecars()) {
        let _ = fsutil::remove_if_exists(&path);
    }
}

/// Now, in local time with its offset, to the second (monitors never need finer).
pub fn now() -> DateTime<FixedOffset> {
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
    use truce_sync::profile::MissionProfile;

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
    fn a_coordinators_own_profile_takes_effect_at_once_and_after_unlock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let coordinator = Profile {
            role: Role::Coordinator,
            ..profile()
        };
        let mut journal =
            Journal::init(dir.path(), &pass("correct horse"), coordinator, FAST).expect("init");
        assert!(!journal.taxonomy().has_category("drone_strike"));
        let mut template = MissionProfile::new("Test", now(), vec![]);
        template
            .taxonomy
            .categories
            .push(truce_sync::taxonomy::Code {
                code: "drone_strike".into(),
                label: "Drone strike".into(),
            });
        journal
            .create_profile("Test mission", &[], Some(template))
            .expect("profile");
        assert!(journal.taxonomy().has_category("drone_strike"));
        let installed = journal.profile().expect("profile").expect("installed");
        assert_eq!(installed.profile.mission, "Test mission");
        drop(journal);
        let journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
        assert!(journal.taxonomy().has_category("drone_strike"));
        assert_eq!(
            journal.profile().expect("profile").map(|p| p.text),
            Some(installed.text)
        );
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

    fn record_some(journal: &mut Journal, n: usize) {
        for i in 0..n {
            journal
                .record(obj(&format!(
                    r#"{{"kind":"violation","category":"shelling","method":"heard","narrative":"impact {i}"}}"#
                )))
                .expect("record");
        }
    }

    /// Every observation with its history, to compare journals by.
    fn contents(journal: &Journal) -> Vec<Vec<ObservationRevision>> {
        journal
            .list(None)
            .expect("list")
            .iter()
            .map(|rev| journal.show(&rev.observation.id.to_string()).expect("show"))
            .collect()
    }

    /// The files of a data directory and their bytes, without SQLite's shared-memory index
    /// (rebuilt from the log by whoever opens the database first; it holds no data).
    fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("entry").path())
            .filter(|p| !p.to_string_lossy().ends_with("-shm"))
            .map(|p| {
                let name = p.file_name().expect("name").to_string_lossy().into_owned();
                (name, std::fs::read(&p).expect("read"))
            })
            .collect()
    }

    #[test]
    fn passphrase_change_re_encrypts_the_database_with_a_fresh_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal =
            Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
        record_some(&mut journal, 3);
        let before = contents(&journal);
        let paths = journal.paths().clone();
        let old_key_file = std::fs::read(&paths.key_file).expect("key file");
        assert!(matches!(
            journal.change_passphrase(&pass("short"), FAST),
            Err(JournalError::Refused(_))
        ));
        journal
            .change_passphrase(&pass("battery staple"), FAST)
            .expect("passwd");
        // The open journal carries on under the new key.
        assert_eq!(contents(&journal), before);
        record_some(&mut journal, 1);
        let after = contents(&journal);
        assert_eq!(after.len(), 4);
        let new_key = keyfile::read(&paths.key_file, &pass("battery staple")).expect("new key");
        assert!(new_key.same_key(&journal.key));
        assert!(journal.confirm_passphrase(&pass("battery staple")).is_ok());
        assert!(matches!(
            journal.confirm_passphrase(&pass("correct horse")),
            Err(JournalError::WrongPassphrase(_))
        ));
        drop(journal);

        let left: Vec<_> = files(dir.path()).into_keys().collect();
        assert_eq!(left, vec![DATABASE_FILE.to_owned(), KEY_FILE.to_owned()]);
        let new_key_file = std::fs::read(&paths.key_file).expect("key file");
        assert_ne!(new_key_file, old_key_file);
        assert!(matches!(
            Journal::open(dir.path(), &pass("correct horse")),
            Err(JournalError::WrongPassphrase(_))
        ));
        // The old key file with the old passphrase unwraps the old key, which opens nothing.
        std::fs::write(&paths.key_file, &old_key_file).expect("old key file back");
        assert!(matches!(
            Journal::open(dir.path(), &pass("correct horse")),
            Err(JournalError::Damaged(_))
        ));
        std::fs::write(&paths.key_file, &new_key_file).expect("new key file back");
        let journal = Journal::open(dir.path(), &pass("battery staple")).expect("new opens");
        assert_eq!(contents(&journal), after);
        assert!(journal.check().expect("check").is_empty());
    }

    #[test]
    fn passphrase_change_keeps_the_key_file_version_and_page_settings() {
        use keyfile::{PageAuth, PageSize};
        let cases = [
            (
                DatabaseKey::generate(PageSize::Standard)
                    .expect("random")
                    .with_page_auth(PageAuth::HmacSha512),
                "truce-journal-key v1\n",
            ),
            (
                DatabaseKey::generate(PageSize::Standard)
                    .expect("random")
                    .with_page_auth(PageAuth::HmacSha256),
                "truce-journal-key v2\npage-auth hmac-sha256\n",
            ),
            (
                DatabaseKey::generate(PageSize::Large).expect("random"),
                "truce-journal-key v3\npage-auth hmac-sha256\npage-size 16384\n",
            ),
        ];
        for (key, header) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let paths = JournalPaths::new(dir.path());
            let device = DeviceIdentity {
                device_id: Uuid::now_v7(),
                observer: "Ana".into(),
                team: None,
                role: Role::Monitor,
                signing_key: DeviceSigningKey::from_bytes(&[7u8; 32]),
                created_at: now().to_rfc3339(),
            };
            drop(Store::create(&paths.database, &key, &device).expect("create"));
            keyfile::write(&paths.key_file, &key, &pass("correct horse"), FAST).expect("key");
            let mut journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
            record_some(&mut journal, 2);
            journal
                .change_passphrase(&pass("battery staple"), FAST)
                .expect("passwd");
            drop(journal);
            let bytes = std::fs::read(&paths.key_file).expect("key file");
            assert!(bytes.starts_with(header.as_bytes()), "{header}");
            let back = keyfile::read(&paths.key_file, &pass("battery staple")).expect("unwraps");
            assert_eq!(
                (back.page_auth(), back.page_size()),
                (key.page_auth(), key.page_size())
            );
            assert!(!back.same_key(&key), "a fresh key");
            let journal = Journal::open(dir.path(), &pass("battery staple")).expect("opens");
            assert_eq!(journal.count().expect("count"), 2);
            assert!(journal.check().expect("check").is_empty());
        }
    }

    /// Copies every file of `from` into a new folder: the disk as a crash (SIGKILL) at this
    /// moment would leave it, connections and all.
    fn crash_image(from: &Path) -> tempfile::TempDir {
        let image = tempfile::tempdir().expect("tempdir");
        for entry in std::fs::read_dir(from).expect("ls") {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, image.path().join(path.file_name().expect("name"))).expect("copy");
        }
        image
    }

    #[test]
    fn a_passphrase_change_interrupted_anywhere_opens_with_one_of_the_two_passphrases() {
        let (old, new) = (pass("correct horse"), pass("battery staple"));
        // Where the change stops, whether to tear its last frame off the log (a crash while
        // the re-encryption was being committed), and whether the new passphrase opens then.
        let cases = [
            (PasswdStep::NextKeyFileWritten, false, false),
            (PasswdStep::Rekeyed, true, false),
            (PasswdStep::Rekeyed, false, true),
            (PasswdStep::Checkpointed, false, true),
            (PasswdStep::Confirmed, false, true),
        ];
        for (step, torn, new_opens) in cases {
            let case = format!("stopped after {step:?}{}", if torn { ", torn" } else { "" });
            let dir = tempfile::tempdir().expect("tempdir");
            let role = if torn {
                Role::Coordinator
            } else {
                Role::Monitor
            };
            let mut journal =
                Journal::init(dir.path(), &old, Profile { role, ..profile() }, FAST).expect("init");
            record_some(&mut journal, 40);
            let first = journal.list(Some(1)).expect("list")[0].observation.id;
            journal
                .amend(&first.to_string(), obj(r#"{"severity":4}"#))
                .expect("amend");
            let before = contents(&journal);
            journal
                .change_passphrase_until(&new, FAST, Some(step))
                .expect(&case);
            let image = crash_image(dir.path());
            drop(journal);
            let paths = JournalPaths::new(image.path());
            assert!(paths.next_key_file.exists(), "{case}");
            if torn {
                let mut wal = paths.database.as_os_str().to_owned();
                wal.push("-wal");
                let len = std::fs::metadata(&wal).expect("wal").len();
                let frame = 24 + u64::from(keyfile::PageSize::Large.bytes());
                assert!(len > 32 + frame, "{case}: the log holds the rekey");
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&wal)
                    .expect("wal");
                file.set_len(len - frame)
                    .expect("tear the commit frame off");
            }

            let (winner, loser) = if new_opens {
                (&new, &old)
            } else {
                (&old, &new)
            };
            let untouched = files(image.path());
            let err = Journal::open(image.path(), loser).expect_err(&case);
            if new_opens {
                assert!(
                    matches!(err, JournalError::PassphraseChanged(_)),
                    "{case}: {err}"
                );
            } else {
                assert!(
                    matches!(err, JournalError::PassphraseNotChanged(_)),
                    "{case}: {err}"
                );
            }
            assert_eq!(
                files(image.path()),
                untouched,
                "{case}: the failed unlock changed files"
            );
            assert!(matches!(
                Journal::open(image.path(), &pass("neither of them")),
                Err(JournalError::WrongPassphrase(_))
            ));
            assert_eq!(
                files(image.path()),
                untouched,
                "{case}: a wrong passphrase changed files"
            );

            let mut journal = Journal::open(image.path(), winner).expect(&case);
            assert_eq!(contents(&journal), before, "{case}");
            let problems = journal.check().expect("check");
            assert!(problems.is_empty(), "{case}: {problems:?}");
            if new_opens {
                assert!(
                    !paths.next_key_file.exists(),
                    "{case}: the change was finished"
                );
                assert!(keyfile::read(&paths.key_file, &new).is_ok(), "{case}");
            } else {
                // The next key file of a change that never reached the database stays until
                // the next change replaces it.
                journal
                    .change_passphrase(&pass("third passphrase"), FAST)
                    .expect(&case);
                assert!(!paths.next_key_file.exists(), "{case}");
            }
            record_some(&mut journal, 1);
            drop(journal);
            let winner = if new_opens {
                new.clone()
            } else {
                pass("third passphrase")
            };
            let journal = Journal::open(image.path(), &winner).expect(&case);
            assert_eq!(
                journal.count().expect("count"),
                before.len() as u64 + 1,
                "{case}"
            );
        }
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
        // An unfinished passphrase change: the next key file holds a key too.
        journal
            .change_passphrase_until(
                &pass("battery staple"),
                FAST,
                Some(PasswdStep::NextKeyFileWritten),
            )
            .expect("next key file");
        drop(journal);
        assert!(dir.path().join(NEXT_KEY_FILE).exists());
        std::fs::write(dir.path().join(SETTINGS_FILE), "{}").expect("settings");
        std::fs::write(dir.path().join(UNLOCK_FAILURES_FILE), "2").expect("failures");
        // What interrupted writes leave: temp files of the key files and of the settings, and
        // SQLite's rollback journal (kept while a database is created).
        for name in [
            ".journal.key.tmp-0a1b2c",
            ".journal.key.next.tmp-3d4e5f",
            ".settings.json.tmp-6a7b8c",
            ".unlock-failures.tmp-9d0e1f",
            "journal.db-journal",
        ] {
            std::fs::write(dir.path().join(name), "left behind").expect("leftover");
        }
        let report = Journal::wipe(dir.path()).expect("wipe");
        assert!(report.key_destroyed);
        assert!(report.files_removed >= 1);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
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
