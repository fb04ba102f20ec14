//! `truce init`: create a new encrypted journal and this device's identity.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::{Args, ValueEnum};
use truce_core::journal::{Journal, Profile};
use truce_sync::Role;

use super::output::note;
use super::session::{kdf_cost, new_passphrase, PASSPHRASE_ENV};

/// Flags of `truce init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Your name, as it will appear on your records.
    #[arg(long)]
    observer: String,
    /// Your team.
    #[arg(long)]
    team: Option<String>,
    /// What this device is for.
    #[arg(long, value_enum, default_value_t = RoleArg::Monitor)]
    role: RoleArg,
}

/// The role given to `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A field monitor or observer.
    Monitor,
    /// A coordinator who imports and verifies bundles.
    Coordinator,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Monitor => Role::Monitor,
            RoleArg::Coordinator => Role::Coordinator,
        }
    }
}

/// Creates the journal in `dir`; prints the new device id.
pub fn run(args: InitArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let cost = kdf_cost()?;
    let passphrase = new_passphrase(PASSPHRASE_ENV)?;
    let journal = Journal::init(
        dir,
        &passphrase,
        Profile {
            observer: args.observer,
            team: args.team,
            role: args.role.into(),
        },
        cost,
    )?;
    let device = journal.device();
    writeln!(out, "{}", device.device_id)?;
    note!(
        "Created an encrypted journal in {} for {} ({}). Device fingerprint: {}",
        dir.display(),
        device.observer,
        device.role.code(),
        device.fingerprint
    );
    Ok(())
}
