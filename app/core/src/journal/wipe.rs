//! The emergency wipe: key files destroyed first (crypto-shredding), then every file of the
//! journal and the traces of Truce beside it.

use std::path::Path;

use super::error::{io_error, JournalError};
use super::paths::{temp_files_of, JournalPaths, KEY_FILE, NEXT_KEY_FILE};
use super::Journal;
use crate::fsutil;
use crate::unlock_policy::{SETTINGS_FILE, UNLOCK_FAILURES_FILE};

/// What `wipe` found and destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WipeReport {
    /// The wrapped key was overwritten and deleted.
    pub key_destroyed: bool,
    /// Database files (database, WAL, SHM) removed.
    pub files_removed: usize,
}

impl Journal {
    /// Emergency wipe of the journal in `dir`, without the passphrase: the wrapped key (and
    /// the next one, while a passphrase change is unfinished) is overwritten, flushed and
    /// deleted first (after that nothing can decrypt the journal, nor the attachments, whose
    /// key the journal holds), then the database, its WAL, SHM and rollback journal files and
    /// the attachment files are removed.
    pub fn wipe(dir: &Path) -> Result<WipeReport, JournalError> {
        let paths = JournalPaths::new(dir);
        let mut report = WipeReport::default();
        // Every file that holds the key first: temp key files an interrupted write left, the
        // next key file of an unfinished passphrase change, then the key file.
        for name in [KEY_FILE, NEXT_KEY_FILE] {
            for path in temp_files_of(dir, name) {
                fsutil::shred(&path).map_err(io_error("destroy", &path))?;
            }
        }
        let next_destroyed = fsutil::shred(&paths.next_key_file)
            .map_err(io_error("destroy", &paths.next_key_file))?;
        report.key_destroyed = fsutil::shred(&paths.key_file)
            .map_err(io_error("destroy", &paths.key_file))?
            || next_destroyed;
        let _ = fsutil::sync_dir(dir);
        for path in std::iter::once(paths.database.clone()).chain(paths.sidecars()) {
            if fsutil::remove_if_exists(&path).map_err(io_error("remove", &path))? {
                report.files_removed += 1;
            }
        }
        // The GUI's settings and failed-unlock count, and their temp files: not secret, but
        // they say Truce was here.
        for name in [
            SETTINGS_FILE,
            UNLOCK_FAILURES_FILE,
            crate::unlock_policy::UNLOCK_POLICY_FILE,
        ] {
            for path in std::iter::once(dir.join(name)).chain(temp_files_of(dir, name)) {
                if fsutil::remove_if_exists(&path).map_err(io_error("remove", &path))? {
                    report.files_removed += 1;
                }
            }
        }
        // The attachment files: unreadable already (their key was in the database), removed
        // so that nothing says how many there were.
        // So are a regional office's bundle files kept for HQ (sealed to the coordinators).
        for folder in [paths.attachments.clone(), dir.join("forward")] {
            if !folder.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&folder)
                .map_err(io_error("remove", &folder))?
                .flatten()
            {
                if fsutil::remove_if_exists(&entry.path())
                    .map_err(io_error("remove", &entry.path()))?
                {
                    report.files_removed += 1;
                }
            }
            let _ = std::fs::remove_dir(&folder);
        }
        let _ = fsutil::sync_dir(dir);
        Ok(report)
    }
}
