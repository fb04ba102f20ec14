//! Where a journal's files are: the database, its key files and its sidecars.

use std::path::{Path, PathBuf};

use crate::fsutil;

/// File name of the encrypted database inside the data directory.
pub const DATABASE_FILE: &str = "journal.db";
/// File name of the wrapped database key inside the data directory.
pub const KEY_FILE: &str = "journal.key";
/// File name of the next wrapped key while the passphrase changes: the new database key under
/// the new passphrase, kept beside the current key file until the database has been
/// re-encrypted with it and the key file replaced.
pub const NEXT_KEY_FILE: &str = "journal.key.next";
/// The folder inside the data directory that holds the encrypted attachment files.
pub const ATTACHMENTS_FOLDER: &str = "attachments";

/// Where a journal's files are.
#[derive(Debug, Clone)]
pub struct JournalPaths {
    /// The data directory.
    pub dir: PathBuf,
    /// The SQLCipher database.
    pub database: PathBuf,
    /// The wrapped key.
    pub key_file: PathBuf,
    /// The next wrapped key, present only while a passphrase change is under way (or was
    /// interrupted).
    pub next_key_file: PathBuf,
    /// The encrypted attachment files (the evidence module writes them).
    pub attachments: PathBuf,
}

impl JournalPaths {
    /// The journal's files inside `dir`.
    pub fn new(dir: &Path) -> Self {
        JournalPaths {
            dir: dir.to_path_buf(),
            database: dir.join(DATABASE_FILE),
            key_file: dir.join(KEY_FILE),
            next_key_file: dir.join(NEXT_KEY_FILE),
            attachments: dir.join(ATTACHMENTS_FOLDER),
        }
    }

    /// The database's write-ahead log, shared-memory file and rollback journal (SQLite keeps
    /// one while the database is created, before it switches to WAL).
    pub(super) fn sidecars(&self) -> [PathBuf; 3] {
        ["-wal", "-shm", "-journal"].map(|suffix| {
            let mut path = self.database.as_os_str().to_owned();
            path.push(suffix);
            PathBuf::from(path)
        })
    }
}

/// The temp files an atomic write of `name` in `dir` left behind when it was interrupted.
pub(super) fn temp_files_of(dir: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!(".{name}.tmp-");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn remove_database_files(paths: &JournalPaths) {
    for path in std::iter::once(paths.database.clone()).chain(paths.sidecars()) {
        let _ = fsutil::remove_if_exists(&path);
    }
}
