//! `truce forward --out DIR`: a regional office writes the bundle files HQ has not had from it
//! yet, byte for byte, for the courier to HQ.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::output::note;
use super::session::unlock;

/// Flags of `truce forward`.
#[derive(Debug, Args)]
pub struct ForwardArgs {
    /// The folder to write the bundles into (the stick for HQ); it must exist.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes the bundles and prints each path.
pub fn run(args: ForwardArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    super::input::out_folder(&args.out)?;
    let journal = unlock(dir)?;
    let written = journal.forward(&args.out)?;
    for b in &written {
        writeln!(out, "{}", b.path.display())?;
    }
    let (unconfirmed, _) = journal.forwarding_status()?;
    note!(
        "{} bundle(s) written for HQ; {unconfirmed} kept until HQ's receipts confirm them.",
        written.len()
    );
    Ok(())
}
