//! `truce keys`: the keys to give to others, and the coordinator's age identities: rotated,
//! written out and read back in.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::output::note;
use super::session::unlock;

/// Flags of `truce keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// Coordinators only: write every age identity (the current one first, then the earlier
    /// ones) to FILE in age's own format, for stock `age -d -i FILE`. Anyone with this file
    /// can read every bundle.
    #[arg(long, value_name = "FILE", conflicts_with = "import_secret")]
    export_secret: Option<PathBuf>,
    /// Coordinators only: restore the age identities from FILE (made by --export-secret).
    /// A journal without one takes the first as its own; every other is kept as an earlier
    /// identity that opens what was sealed to it (the coordinator this one succeeds).
    #[arg(long, value_name = "FILE")]
    import_secret: Option<PathBuf>,
    /// Coordinators only: make a new age identity and keep the current one as an earlier
    /// identity, so bundles already sealed to it still open. Issue a new profile
    /// (`truce profile create`) so devices seal to the new one.
    #[arg(long, conflicts_with_all = ["import_secret", "export_secret"])]
    rotate: bool,
    /// Coordinators only: write this coordinator's card (name and public keys) to FILE, for
    /// HQ to list it in the mission profile (`truce profile create --coordinator FILE`).
    #[arg(long, value_name = "FILE")]
    card: Option<PathBuf>,
}

/// Prints the public keys; restores or writes the coordinator's secret first when asked.
pub fn run(args: KeysArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let mut journal = unlock(dir)?;
    if let Some(path) = args.import_secret {
        let restored = journal.import_coordinator_secret(&path)?;
        if let Some(recipient) = &restored.current {
            note!("Restored the coordinator key {recipient}.");
        }
        if restored.earlier_added > 0 {
            note!(
                "Kept {} earlier identit{}: bundles sealed to {} open here too.",
                restored.earlier_added,
                if restored.earlier_added == 1 {
                    "y"
                } else {
                    "ies"
                },
                if restored.earlier_added == 1 {
                    "it"
                } else {
                    "them"
                }
            );
        }
        note!("Delete {} now.", path.display());
    }
    if args.rotate {
        let recipient = journal.rotate_coordinator_identity()?;
        note!(
            "New coordinator key {recipient}; the previous one is kept and still opens bundles sealed to it. Issue a new profile with `truce profile create` so devices seal to the new key."
        );
    }
    let keys = journal.keys()?;
    if let Some(recipient) = &keys.recipient {
        writeln!(out, "recipient:   {recipient}")?;
    }
    for earlier in &keys.earlier_recipients {
        writeln!(out, "earlier:     {earlier}")?;
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
        let count = journal.export_coordinator_secret(&path)?;
        note!(
            "warning: {} now holds your coordinator secret key{}. Anyone with it can read every bundle of the mission. Keep it offline and delete it when done.",
            path.display(),
            if count == 1 { String::new() } else { format!("s ({count}: the current one and the earlier ones)") }
        );
    }
    Ok(())
}
