//! `truce amend`: a partial JSON object becomes a new revision of an observation.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::input::read_object;
use super::output::note;
use super::session::unlock;
use super::show::observation_ref;

/// Flags of `truce amend`.
#[derive(Debug, Args)]
pub struct AmendArgs {
    /// The observation id, or a unique beginning or end of it (as `list` shows).
    id: String,
    /// The device that made it, when several devices used the id (see `show`).
    #[arg(long, value_name = "DEVICE")]
    device: Option<String>,
    /// Read the partial JSON object from FILE instead of stdin.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Saves the amendment; prints only the new revision number.
pub fn run(args: AmendArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let id = observation_ref(args.id, args.device);
    let patch = read_object(args.json.as_deref(), "amendment")?;
    let mut journal = unlock(dir)?;
    let saved = journal.amend(&id, patch)?;
    writeln!(out, "{}", saved.revision)?;
    note!(
        "Saved revision {} of {}.",
        saved.revision,
        saved.observation.id
    );
    Ok(())
}
