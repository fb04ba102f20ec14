//! Opening the journal from the command line: the data folder, the passphrase (prompt or
//! environment) and how hard new key files stretch it.

use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{anyhow, bail, Result};
use truce_core::journal::{Journal, JournalError};
use truce_core::keyfile::{KdfCost, KDF_WORK_FACTOR_ENV};
use truce_sync::profile::Area;

use super::error::usage;

/// Environment variable with the journal passphrase, for scripts (less safe than the prompt).
pub const PASSPHRASE_ENV: &str = "TRUCE_PASSPHRASE";
/// Environment variable with the new passphrase for `truce passwd`, for scripts.
pub const NEW_PASSPHRASE_ENV: &str = "TRUCE_NEW_PASSPHRASE";
/// The duress passphrase `settings --duress` sets, for scripts and tests.
pub const DURESS_PASSPHRASE_ENV: &str = "TRUCE_DURESS_PASSPHRASE";

/// The journal's folder: `--data-dir` (or `TRUCE_DATA_DIR`), else the platform's data folder.
pub fn data_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = given {
        if dir.as_os_str().is_empty() {
            return Err(usage(
                "--data-dir (or TRUCE_DATA_DIR) is empty; give a folder",
            ));
        }
        return Ok(dir);
    }
    directories::ProjectDirs::from("org", "Truce", "truce")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or_else(|| {
            anyhow!("cannot find a home directory for the journal; give one with --data-dir DIR")
        })
}

/// How hard new key files stretch the passphrase: age's calibration, unless a debug build
/// (the tests) is given a work factor in `TRUCE_INSECURE_KDF_WORK_FACTOR`.
pub fn kdf_cost() -> Result<KdfCost> {
    kdf_cost_from(
        std::env::var_os(KDF_WORK_FACTOR_ENV),
        cfg!(debug_assertions),
    )
}

/// `kdf_cost` for the variable's value, in a debug build or not. A release build refuses the
/// variable rather than ignore it, so nobody believes a weak key file is what they asked for.
fn kdf_cost_from(value: Option<std::ffi::OsString>, debug_build: bool) -> Result<KdfCost> {
    let Some(value) = value else {
        return Ok(KdfCost::Calibrated);
    };
    if !debug_build {
        return Err(usage(format!(
            "{KDF_WORK_FACTOR_ENV} is set, but it is for tests only: it would make the passphrase easy to guess, and this build refuses it. Unset it (`unset {KDF_WORK_FACTOR_ENV}`) and run the command again"
        )));
    }
    let n: u8 = value
        .to_str()
        .and_then(|text| text.parse().ok())
        .filter(|n| (1..=30).contains(n))
        .ok_or_else(|| {
            usage(format!(
                "{KDF_WORK_FACTOR_ENV} must be a number from 1 to 30"
            ))
        })?;
    Ok(KdfCost::WorkFactor(n))
}

/// Opens the journal in `dir` with the passphrase from the prompt or `TRUCE_PASSPHRASE`.
pub fn unlock(dir: &Path) -> Result<Journal> {
    Ok(unlock_keeping_passphrase(dir)?.0)
}

/// [`unlock`], returning the passphrase too, for a command that must show it again to the
/// journal (setting the duress passphrase).
pub fn unlock_keeping_passphrase(dir: &Path) -> Result<(Journal, SecretString)> {
    if !dir.join(truce_core::journal::KEY_FILE).exists()
        && !dir.join(truce_core::journal::DATABASE_FILE).exists()
    {
        return Err(JournalError::NotFound(dir.to_path_buf()).into());
    }
    let passphrase = passphrase(PASSPHRASE_ENV, "Passphrase: ")?;
    let mut journal = Journal::open(dir, &passphrase)?;
    // Purge after receipt: what the coordinators confirmed long enough ago leaves the device
    // now, while the passphrase is at hand to re-encrypt the journal.
    if let Some(purged) = journal.purge_due(&passphrase, kdf_cost()?)? {
        super::output::note!(
            "Removed {} record(s) the coordinators confirmed ({} log entries, {} attachment(s)), as the purge policy says; the journal was re-encrypted with a new key.",
            purged.observations,
            purged.entries,
            purged.attachments
        );
    }
    Ok((journal, passphrase))
}

fn passphrase(env: &str, prompt: &str) -> Result<SecretString> {
    if let Ok(value) = std::env::var(env) {
        return Ok(SecretString::from(value));
    }
    rpassword::prompt_password(prompt)
        .map(SecretString::from)
        .map_err(|_| {
            anyhow!("no passphrase: type it at the prompt in a terminal, or set {env} for scripts (less safe: other programs of yours can read it)")
        })
}

/// The areas of the installed mission profile (none without a profile).
pub fn profile_areas(journal: &Journal) -> Result<Vec<Area>> {
    Ok(journal
        .profile()?
        .map(|p| p.profile.areas)
        .unwrap_or_default())
}

/// A new passphrase: from `env` if set, else typed twice at the prompt.
pub fn new_passphrase(env: &str) -> Result<SecretString> {
    if std::env::var(env).is_ok() {
        return passphrase(env, "");
    }
    let first = passphrase(env, "New passphrase (at least 8 characters): ")?;
    let second = passphrase(env, "Repeat the passphrase: ")?;
    if first.expose_secret() != second.expose_secret() {
        bail!("the two passphrases differ; nothing was changed. Try again");
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::error::UsageError;

    #[test]
    fn the_insecure_work_factor_is_for_debug_builds_only() {
        let set = || Some(std::ffi::OsString::from("10"));
        assert_eq!(
            kdf_cost_from(None, false).expect("unset"),
            KdfCost::Calibrated
        );
        assert_eq!(
            kdf_cost_from(None, true).expect("unset"),
            KdfCost::Calibrated
        );
        assert_eq!(
            kdf_cost_from(set(), true).expect("debug build"),
            KdfCost::WorkFactor(10)
        );
        let refused = kdf_cost_from(set(), false).expect_err("release build");
        assert!(refused.downcast_ref::<UsageError>().is_some());
        let message = refused.to_string();
        assert!(
            message.contains(KDF_WORK_FACTOR_ENV) && message.contains("Unset it"),
            "{message}"
        );
        for bad in ["0", "31", "ten", ""] {
            assert!(
                kdf_cost_from(Some(bad.into()), true).is_err(),
                "{bad:?} must be refused"
            );
        }
    }
}
