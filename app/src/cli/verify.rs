//! `truce verify`: coordinators give an observation a verification status with a note.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;

use super::filter::status_code;
use super::session::unlock;

/// Flags of `truce verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The observation id, or a unique beginning or end of it.
    id: String,
    /// unverified, corroborated, verified, disputed or unfounded.
    #[arg(long)]
    status: String,
    /// Why: the evidence or the reason.
    #[arg(long)]
    note: String,
}

/// Saves the status; prints it.
pub fn run(args: VerifyArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let status = status_code(&args.status)?;
    let journal = unlock(dir)?;
    let event = journal.verify(&args.id, status, &args.note)?;
    writeln!(out, "{}", event.status.code())?;
    Ok(())
}
