//! `JournalError`: everything a journal use case can fail with, each message saying what to
//! do, and the mappings into it from the store, the key file and the file system.

use std::path::{Path, PathBuf};

use truce_sync::bundle::BundleError;
use truce_sync::profile::ProfileError;
use truce_sync::SchemaError;
use uuid::Uuid;

use super::paths::JournalPaths;
use crate::fsutil;
use crate::keyfile::KeyFileError;
use crate::store::StoreError;

/// A database error the journal has no better words for (the store's own, kept as the source
/// so that its cause, SQLite's error, is not lost).
#[derive(Debug)]
pub struct DatabaseError(StoreError);

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DatabaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
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
    /// The duress passphrase was given: `Journal::open` wipes the journal and then reports
    /// what a fresh install says ([`JournalError::NotFound`]); never shown as such.
    #[error("wrong passphrase for the journal in {0}. Nothing was changed; try again, checking the keyboard layout and Caps Lock")]
    DuressPassphrase(PathBuf),
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
    /// A receipt was refused: not addressed to this device, damaged, forged, or for another
    /// device or mission. Nothing changed.
    #[error("{} was not applied: {reason}. Nothing was changed", file.display())]
    Receipt {
        /// The receipt file.
        file: PathBuf,
        /// Why.
        #[source]
        reason: truce_sync::receipt::ReceiptError,
    },
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
    Store(#[source] DatabaseError),
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
            other => JournalError::Store(DatabaseError(other)),
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

pub(super) fn io_error<'a>(
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

pub(super) fn key_error(paths: &JournalPaths, e: KeyFileError) -> JournalError {
    key_error_at(paths, &paths.key_file, e)
}

/// `key_error` for the key file at `path` (the key file, or the next one).
pub(super) fn key_error_at(paths: &JournalPaths, path: &Path, e: KeyFileError) -> JournalError {
    match e {
        KeyFileError::WrongPassphrase => JournalError::WrongPassphrase(paths.dir.clone()),
        // Said as a wrong passphrase until `Journal::open` has wiped the journal.
        KeyFileError::Duress => JournalError::DuressPassphrase(paths.dir.clone()),
        KeyFileError::Damaged { reason, .. } => JournalError::Damaged(format!(
            "the key file {} is unusable: {reason}",
            path.display()
        )),
        KeyFileError::Io { cause, .. } => io_error("use the key file", path)(cause),
        other => JournalError::KeyFile(other),
    }
}
