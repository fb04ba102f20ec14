//! Reading what the user gives besides flags: a JSON object (an observation, an amendment) on
//! stdin or from a file, size-limited text files (a mission profile), and the folder a command
//! writes into.

use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use truce_core::journal::JournalError;

use super::error::usage;
use super::output::note;

/// Largest observation JSON accepted on stdin or from a file.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// Checks that `path`, where a command writes (a stick), is a folder; says what to do if not.
pub fn out_folder(path: &Path) -> Result<()> {
    if !path.is_dir() {
        bail!(
            "{} is not a folder: create it (or mount the stick) and try again",
            path.display()
        );
    }
    Ok(())
}

/// Reads one JSON object from `path`, or from stdin when `path` is None.
pub fn read_object(path: Option<&Path>, what: &str) -> Result<Map<String, Value>> {
    let mut text = String::new();
    match path {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            file.take(MAX_INPUT_BYTES + 1)
                .read_to_string(&mut text)
                .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                note!("Type the {what} as JSON, then press Ctrl-D:");
            }
            stdin
                .lock()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_string(&mut text)
                .context("standard input is not UTF-8 text")?;
        }
    }
    if text.len() as u64 > MAX_INPUT_BYTES {
        bail!("the {what} is larger than 1 MiB; send one observation at a time");
    }
    if text.trim().is_empty() {
        return Err(usage(format!(
            "no {what} given: send a JSON object on stdin or with --json FILE (see `truce record --help`)"
        )));
    }
    Ok(truce_sync::parse_object(&text).map_err(JournalError::Invalid)?)
}

/// Reads a text file of at most `max` bytes; `what` names it in errors.
pub fn read_limited(path: &Path, max: u64, what: &str) -> Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut text = String::new();
    file.take(max + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("{} is not a {what}: it is not UTF-8 text", path.display()))?;
    if text.len() as u64 > max {
        bail!("{} is too large to be a {what}", path.display());
    }
    Ok(text)
}
