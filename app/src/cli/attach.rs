//! `truce attach`: attach evidence files (photos, recordings, video, PDF) to an observation of
//! this device, as a new revision; and `truce save-copy`: write an attachment's original out.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::output::note;
use super::session::unlock;
use super::show::observation_ref;

/// Flags of `truce attach`.
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The observation id, or a unique beginning or end of it (as `list` shows).
    id: String,
    /// The files to attach: JPEG, PNG, WebP, HEIC, Ogg/Opus, M4A, MP3, WAV, MP4 or PDF (the
    /// type is read from the content), each at most 200 MiB.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Attaches the files; prints only the new revision number.
pub fn run(args: AttachArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let id = observation_ref(args.id, None);
    let mut journal = unlock(dir)?;
    let saved = journal.attach(&id, &args.files)?;
    writeln!(out, "{}", saved.revision)?;
    note!(
        "Saved revision {} of {}: {} attachment(s), encrypted in the journal. The files you attached are unchanged; delete them if they should not stay on this device in the clear.",
        saved.revision,
        saved.observation.id,
        saved.observation.attachments.len()
    );
    Ok(())
}

/// Flags of `truce save-copy`.
#[derive(Debug, Args)]
pub struct SaveCopyArgs {
    /// The attachment's SHA-256, as `truce show ID` lists it.
    sha256: String,
    /// The new file to write the original to (an existing file is not replaced).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Writes the copy; prints its path.
pub fn run_save_copy(args: SaveCopyArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let journal = unlock(dir)?;
    let size = journal.save_attachment_copy(&args.sha256, &args.out)?;
    writeln!(out, "{}", args.out.display())?;
    note!(
        "warning: {} ({size} bytes) is a copy in the clear, NOT encrypted. Anyone with this device or folder can open it; delete it when done.",
        args.out.display()
    );
    Ok(())
}
