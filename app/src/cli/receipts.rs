//! `truce receipts --out DIR`: coordinators write one receipt per device they hold entries
//! of, for the courier to carry back.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::output::note;
use super::session::unlock;
use super::status::ranges_text;
use crate::terminal::terminal_line;

/// Flags of `truce receipts`.
#[derive(Debug, Args)]
pub struct ReceiptsArgs {
    /// The folder to write the receipts into (the courier's stick); it must exist.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes the receipts and prints each one's path and what it confirms.
pub fn run(args: ReceiptsArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    super::input::out_folder(&args.out)?;
    let journal = unlock(dir)?;
    let mut printed = Ok(());
    let written = journal.write_receipts(&args.out, |r| {
        if printed.is_ok() {
            let missing = if r.missing.is_empty() {
                String::new()
            } else {
                format!("; missing {}", ranges_text(&r.missing))
            };
            printed = writeln!(
                out,
                "{}: {} ({}): held through {}{missing}",
                r.path.display(),
                terminal_line(&r.observer),
                r.device_id,
                r.held_through
            );
        }
    })?;
    printed?;
    if written.is_empty() {
        note!("No receipts written: no device's bundles named a return path yet (devices send one under a profile that lists its coordinators).");
    } else {
        note!(
            "{} receipt(s) written. Each opens only on its device (and for the coordinators); devices take them with `truce import`.",
            written.len()
        );
    }
    Ok(())
}
