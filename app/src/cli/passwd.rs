//! `truce passwd`: change the passphrase and re-encrypt the journal with a new key.

use std::path::Path;

use anyhow::Result;

use super::output::note;
use super::session::{kdf_cost, new_passphrase, unlock, NEW_PASSPHRASE_ENV};

/// Asks the current passphrase, then the new one, and re-keys the journal.
pub fn run(dir: &Path) -> Result<()> {
    let cost = kdf_cost()?;
    let mut journal = unlock(dir)?;
    let new = new_passphrase(NEW_PASSPHRASE_ENV)?;
    journal.change_passphrase(&new, cost)?;
    note!(
        "Passphrase changed, and the journal re-encrypted with a new key: the old passphrase no longer opens it, not even with an old copy of its key file. (Backups made before keep their old key and passphrase.)"
    );
    Ok(())
}
