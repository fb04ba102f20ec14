//! The journal: the unlocked `Journal` every use case is a method of, with unlock and set-up
//! here and the journal's own use cases in one file each (records, passphrase, check, wipe).
//! Plain Rust types in and out, so the CLI, the GUI and tests share them.

mod check;
mod error;
mod key_switch;
mod passphrase;
mod paths;
mod records;
#[cfg(test)]
mod tests;
mod wipe;

pub use crate::unlock_policy::{SETTINGS_FILE, UNLOCK_FAILURES_FILE};
pub use error::{DatabaseError, JournalError};
pub use paths::{JournalPaths, DATABASE_FILE, KEY_FILE, NEXT_KEY_FILE};
pub use records::{Draft, DRAFT_MAX_BYTES};
pub use wipe::WipeReport;

use std::path::Path;

use age::secrecy::SecretString;
use chrono::{DateTime, FixedOffset, Local, Timelike};
use truce_sync::profile::SignedProfile;
use truce_sync::{DeviceSigningKey, Role, Taxonomy};
use uuid::Uuid;

use crate::fsutil;
use crate::keyfile::{self, DatabaseKey, KdfCost};
use crate::model::ThisDevice;
use crate::store::{DeviceIdentity, Store};

use error::{io_error, key_error};
use key_switch::unlock_after_interruption;
use paths::remove_database_files;

/// Longest observer or team name.
pub const NAME_MAX_CHARS: usize = 100;

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
            // The duress passphrase: the emergency wipe, then what a fresh install says.
            Err(JournalError::DuressPassphrase(_)) => {
                Journal::wipe(dir)?;
                crate::unlock_policy::reset_failures(dir);
                Err(JournalError::NotFound(dir.to_path_buf()))
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
