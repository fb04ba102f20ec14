//! `truce keys`: the keys to give to others, and the coordinator's age identity out and in.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::output::note;
use super::session::unlock;

/// Flags of `truce keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// Coordinators only: write the age identity to FILE (age's own format), for stock
    /// `age -d -i FILE`. Anyone with this file can read every bundle.
    #[arg(long, value_name = "FILE", conflicts_with = "import_secret")]
    export_secret: Option<PathBuf>,
    /// Coordinators only: restore the age identity from FILE (made by --export-secret),
    /// into a journal that has none yet.
    #[arg(long, value_name = "FILE")]
    import_secret: Option<PathBuf>,
    /// Coordinators only: write this coordinator's card (name and public keys) to FILE, for
    /// HQ to list it in the mission profile (`truce profile create --coordinator FILE`).
    #[arg(long, value_name = "FILE")]
    card: Option<PathBuf>,
}

/// Prints the public keys; restores or writes the coordinator's secret first when asked.
pub fn run(args: KeysArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let journal = unlock(dir)?;
    if let Some(path) = args.import_secret {
        let recipient = journal.import_coordinator_secret(&path)?;
        note!(
            "Restored the coordinator key {recipient}. Delete {} now.",
            path.display()
        );
    }
    let keys = journal.keys()?;
    if let Some(recipient) = &keys.recipient {
        writeln!(out, "recipient:   {recipient}")?;
    }
    writeln!(out, "fingerprint: {}", keys.fingerprint)?;
    writeln!(out, "device key:  {}", keys.device_key)?;
    if let Some(minisign) = &keys.publication_key {
        writeln!(
            out,
            "minisign public key (checks what you publish; readers save these two lines as truce.pub):"
        )?;
        write!(out, "{minisign}")?;
    }
    if let Some(path) = args.card {
        let card = journal.coordinator_card()?;
        if path.exists() {
            anyhow::bail!("{} already exists; choose another file", path.display());
        }
        truce_core::fsutil::write_atomic(&path, card.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        note!(
            "Coordinator card written to {}. Give it to HQ with your fingerprint {}; HQ lists you with `truce profile create --coordinator {}`.",
            path.display(),
            keys.fingerprint,
            path.display()
        );
    }
    if let Some(path) = args.export_secret {
        journal.export_coordinator_secret(&path)?;
        note!(
            "warning: {} now holds your coordinator secret key. Anyone with it can read every bundle of the mission. Keep it offline and delete it when done.",
            path.display()
        );
    }
    Ok(())
}
