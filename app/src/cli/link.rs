//! `truce link`: coordinators link reports of the same event.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;

use super::session::unlock;

/// Flags of `truce link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// Two or more observation ids (or unique beginnings or ends).
    #[arg(required = true, num_args = 2.., value_name = "ID")]
    ids: Vec<String>,
}

/// Links the observations; prints the event id.
pub fn run(args: LinkArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let mut journal = unlock(dir)?;
    let event = journal.link(&args.ids)?;
    writeln!(out, "{event}")?;
    Ok(())
}
