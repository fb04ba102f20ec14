//! `truce man` (hidden): the man pages, generated from the clap definition, for packaging.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

/// Flags of `truce man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write truce.1 and one page per subcommand into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// The date in the pages' footer (default: today, UTC); packages pass their own.
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
}

/// Prints or writes the pages of `root`, the `truce` command as clap defines it.
pub fn run(args: ManArgs, root: clap::Command) -> Result<()> {
    crate::manpage::run(root, args.out_dir.as_deref(), args.date.as_deref())
}
