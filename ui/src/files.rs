//! Files the screens read or suggest: a mission profile file (size-capped) and the default
//! folder to write exports to (the first removable medium).

use std::io::Read;
use std::path::{Path, PathBuf};

use truce_core::journal::JournalError;

/// The largest mission profile file read.
pub const PROFILE_MAX_BYTES: u64 = 1024 * 1024;

/// Reads a mission profile file, refusing anything larger than [`PROFILE_MAX_BYTES`].
pub(crate) fn read_profile(path: &Path) -> Result<String, JournalError> {
    let refused =
        |e: std::io::Error| JournalError::Refused(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(refused)?;
    let mut text = String::new();
    file.take(PROFILE_MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(refused)?;
    if text.len() as u64 > PROFILE_MAX_BYTES {
        return Err(JournalError::Refused(format!(
            "{} is larger than 1 MiB: it is not a mission profile",
            path.display()
        )));
    }
    Ok(text)
}

/// The first removable-media folder (USB stick, SD card) under `/media/$USER`,
/// `/run/media/$USER` or `/media`, else the home folder.
pub(crate) fn default_export_dir() -> Option<PathBuf> {
    let user = std::env::var("USER").unwrap_or_default();
    let mut roots = Vec::new();
    if !user.is_empty() {
        roots.push(Path::new("/media").join(&user));
        roots.push(Path::new("/run/media").join(&user));
    }
    roots.push(PathBuf::from("/media"));
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            // /media itself holds the per-user folders searched above.
            .filter(|p| user.is_empty() || p.file_name() != Some(user.as_ref()))
            .collect();
        dirs.sort();
        if let Some(first) = dirs.into_iter().next() {
            return Some(first);
        }
    }
    std::env::var_os("HOME").map(PathBuf::from)
}
