//! `truce settings`: show the unlock policy (wipe after N wrong passphrases), or set it.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::Args;
use truce_core::unlock_policy::{self, UnlockPolicy, WIPE_AFTER_CHOICES};

use super::error::usage;
use super::session::unlock;

/// Flags of `truce settings`.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Wipe the journal after N wrong passphrases in a row: 0 (off), 5, 10 or 20.
    #[arg(long, value_name = "N")]
    wipe_after: Option<u32>,
}

/// Sets the policy when asked (after the passphrase), then shows it.
pub fn run(args: SettingsArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    if let Some(n) = args.wipe_after {
        if !WIPE_AFTER_CHOICES.contains(&n) {
            return Err(usage(format!(
                "--wipe-after {n} is not offered; use 0 (off), 5, 10 or 20"
            )));
        }
        // Only whoever holds the passphrase changes the policy.
        drop(unlock(dir)?);
        UnlockPolicy { wipe_after: n }
            .save(dir)
            .with_context(|| format!("cannot save the unlock policy in {}", dir.display()))?;
    }
    let policy = UnlockPolicy::load(dir);
    if policy.wipe_after == 0 {
        writeln!(out, "wipe after:  off")?;
    } else {
        writeln!(
            out,
            "wipe after:  {} wrong passphrases in a row ({} so far)",
            policy.wipe_after,
            unlock_policy::failures(dir)
        )?;
    }
    Ok(())
}
