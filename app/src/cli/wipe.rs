//! `truce wipe`: the emergency wipe (key first, then the database); needs no passphrase.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use truce_core::journal::Journal;

use super::error::usage;
use super::output::note;

/// Flags of `truce wipe`.
#[derive(Debug, Args)]
pub struct WipeArgs {
    /// Confirm that the journal must be destroyed.
    #[arg(long)]
    yes: bool,
}

/// Destroys the journal in `dir`, once `--yes` confirms it.
pub fn run(args: WipeArgs, dir: &Path) -> Result<()> {
    if !args.yes {
        return Err(usage(format!(
            "wipe destroys the journal in {} for good; run `truce wipe --yes` to confirm",
            dir.display()
        )));
    }
    let report = Journal::wipe(dir)?;
    if report.key_destroyed || report.files_removed > 0 {
        note!(
            "Wiped the journal in {}: key destroyed, {} database file(s) removed.",
            dir.display(),
            report.files_removed
        );
    } else {
        note!(
            "There was no journal in {}; nothing to wipe.",
            dir.display()
        );
    }
    Ok(())
}
