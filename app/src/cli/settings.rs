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
    /// Monitors: remove records from this device N days after a coordinator's receipt
    /// confirmed them (0: at once), or `mission` to follow the mission profile. It can only
    /// make the mission's policy stricter.
    #[arg(long, value_name = "N|mission")]
    purge_after_days: Option<String>,
    /// Set a duress passphrase (typed twice, or TRUCE_DURESS_PASSPHRASE): given at unlock
    /// instead of the passphrase, it wipes the journal, which then looks like a fresh install.
    #[arg(long, conflicts_with = "no_duress")]
    duress: bool,
    /// Remove the duress passphrase.
    #[arg(long)]
    no_duress: bool,
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
    if let Some(days) = &args.purge_after_days {
        let days = match days.as_str() {
            "mission" => None,
            n => Some(n.parse::<u32>().map_err(|_| {
                usage(format!(
                    "--purge-after-days {n} is not a number of days; give one (0: at once) or `mission`"
                ))
            })?),
        };
        let mut journal = unlock(dir)?;
        journal.set_device_purge_setting(days)?;
        match journal.purge_after_days()? {
            Some(d) => writeln!(
                out,
                "purge:       confirmed records leave this device {d} day(s) after their receipt"
            )?,
            None => writeln!(out, "purge:       off")?,
        }
    }
    if args.duress || args.no_duress {
        let (journal, passphrase) = super::session::unlock_keeping_passphrase(dir)?;
        let duress = if args.duress {
            Some(super::session::new_passphrase(
                super::session::DURESS_PASSPHRASE_ENV,
            )?)
        } else {
            None
        };
        journal.set_duress_passphrase(&passphrase, duress.as_ref())?;
        writeln!(
            out,
            "duress:      {}",
            if args.duress {
                "set (typed at unlock, it wipes the journal)"
            } else {
                "removed"
            }
        )?;
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
