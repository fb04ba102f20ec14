//! Switching key files when the passphrase changes: the steps, finishing an interrupted change
//! at unlock, and promoting or discarding the next key file.

use age::secrecy::SecretString;

use super::error::{key_error, JournalError};
use super::paths::JournalPaths;
use crate::fsutil;
use crate::keyfile::{self, DatabaseKey, KeyFileError};
use crate::store::Store;

/// Where a passphrase change can stop early, for the tests that simulate a crash there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(super) enum PasswdStep {
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
pub(super) fn unlock_after_interruption(
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
pub(super) fn promote_next_key_file(paths: &JournalPaths) -> Result<(), JournalError> {
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
pub(super) fn discard_next_key_file(paths: &JournalPaths) {
    let _ = fsutil::shred(&paths.next_key_file);
    let _ = fsutil::sync_dir(&paths.dir);
}
