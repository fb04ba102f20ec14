//! `truce export`: write signed, encrypted bundles of the device log for the coordinator.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use truce_core::model::{AttachmentMode, ExportRange, ExportReport};

use super::output::note;
use super::session::unlock;

/// Flags of `truce export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Folder to write the bundle into (a USB stick, a shared folder).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Export the whole device log again, not only what is pending.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    all: bool,
    /// First sequence number of a chosen range.
    #[arg(long, requires = "to", value_name = "SEQ")]
    from: Option<u64>,
    /// Last sequence number of a chosen range.
    #[arg(long, requires = "from", value_name = "SEQ")]
    to: Option<u64>,
    /// Text first, for a small stick: the records now, their photos, recordings and
    /// documents named as pending; the next export without this flag carries them.
    #[arg(long)]
    text_first: bool,
}

/// Writes the bundles; prints each one's path as soon as it is written.
pub fn run(args: ExportArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    super::input::out_folder(&args.out)?;
    let journal = unlock(dir)?;
    let mode = if args.text_first {
        AttachmentMode::TextFirst
    } else {
        AttachmentMode::WithFiles
    };
    let range = match (args.all, args.from, args.to) {
        (true, _, _) => Some(ExportRange::All),
        (false, Some(a), Some(b)) => Some(ExportRange::Seqs(a, b)),
        _ => None,
    };
    let mut printed = Ok(());
    let mut report_one = |report: &ExportReport| {
        if printed.is_ok() {
            printed = writeln!(out, "{}", report.path.display()).and_then(|()| out.flush());
        }
        let files = match (report.attachments, report.pending_attachments) {
            (0, 0) => String::new(),
            (n, 0) => format!(" with {n} attached file(s)"),
            (_, p) => format!(", text first: {p} attached file(s) left for the next export"),
        };
        let again = if report.media_for_earlier {
            " (sent text first before; now with their files)"
        } else {
            ""
        };
        note!(
            "Exported entries {}-{}{again}{files} to {}.",
            report.first_seq,
            report.last_seq,
            report.path.display()
        );
    };
    // Pending: one bundle per range no export carried yet (a bundle holds one contiguous
    // range), so one command sends everything that never left the device.
    let written: Vec<_> = match range {
        Some(range) => journal
            .export_with(&args.out, range, mode)?
            .inspect(&mut report_one)
            .into_iter()
            .collect(),
        None => journal.export_pending_with(&args.out, mode, &mut report_one)?,
    };
    printed?;
    if written.is_empty() {
        note!("Nothing new to export. Use --all to export everything again.");
    }
    Ok(())
}
