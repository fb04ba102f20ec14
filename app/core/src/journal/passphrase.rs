//! Confirming and changing the passphrase: the database is re-encrypted with a fresh key, and
//! the key file replaced only once the new key is known to open it.

use age::secrecy::SecretString;

use super::error::{key_error, key_error_at, JournalError};
use super::key_switch::{discard_next_key_file, promote_next_key_file, PasswdStep};
use super::Journal;
use crate::keyfile::{self, KdfCost};
use crate::store::{Store, StoreError};

impl Journal {
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

    /// Sets the duress passphrase (or, with `None`, removes it): typed at unlock, it wipes the
    /// journal, which then looks like a fresh install. `passphrase` must be the journal's own,
    /// and the duress passphrase another. The key file looks the same with or without one.
    pub fn set_duress_passphrase(
        &self,
        passphrase: &SecretString,
        duress: Option<&SecretString>,
    ) -> Result<(), JournalError> {
        if let Some(d) = duress {
            keyfile::check_new_passphrase(d).map_err(JournalError::Refused)?;
        }
        self.confirm_passphrase(passphrase)?;
        keyfile::set_duress(&self.paths.key_file, passphrase, duress).map_err(|e| match e {
            keyfile::KeyFileError::Damaged { reason, .. } if reason.contains("duress passphrase is the journal") => {
                JournalError::Refused(
                    "the duress passphrase must differ from the journal's passphrase".into(),
                )
            }
            keyfile::KeyFileError::Damaged { reason, .. } if reason.contains("predates duress") => {
                JournalError::Refused(
                    "this journal was created before duress passphrases existed: its key file has no duress slot".into(),
                )
            }
            other => key_error(&self.paths, other),
        })
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
    pub(super) fn change_passphrase_until(
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
        keyfile::write_keeping_duress(&paths.next_key_file, &next, new, cost, &paths.key_file)
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
}
