//! `truce check`: the full integrity checks on the journal.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Result};
use truce_core::journal::JournalError;

use super::session::unlock;

/// Runs the checks; prints `ok`, or fails naming every problem found.
pub fn run(dir: &Path, out: &mut impl Write) -> Result<()> {
    let journal = unlock(dir)?;
    let problems = journal.check()?;
    if !problems.is_empty() {
        bail!(JournalError::Damaged(format!(
            "the integrity check found: {}",
            problems.join("; ")
        )));
    }
    writeln!(out, "ok")?;
    Ok(())
}
