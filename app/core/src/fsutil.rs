//! File-system helpers that keep promises: atomic replace (temp file, fsync, rename, fsync dir), renames that survive power loss, and shredding.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, rename over the
/// target, fsync of the folder. A crash leaves either the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file that appears under its name only when complete: written to a hidden temp file in
/// the same folder, then fsynced and renamed by [`AtomicFile::commit`]. Dropped uncommitted, the
/// temp file is removed.
pub struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    file: File,
    committed: bool,
}

impl AtomicFile {
    /// Starts writing `target`.
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        let dir = parent_dir(target);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "truce".into());
        let mut suffix = [0u8; 6];
        getrandom::getrandom(&mut suffix).map_err(io::Error::other)?;
        let tmp = dir.join(format!(".{name}.tmp-{}", hex::encode(suffix)));
        let file = private_options().write(true).create_new(true).open(&tmp)?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
            file,
            committed: false,
        })
    }

    /// Flushes to disk and gives the file its name.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.sync_all()?;
        fs::rename(&self.tmp, &self.target)?;
        self.committed = true;
        sync_dir(&parent_dir(&self.target))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Renames `from` over `to` (atomic: `to` is the old file or the new one, never neither), then
/// flushes the folder so the rename survives a power loss. Both must be in the same folder.
pub fn replace(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    sync_dir(&parent_dir(to))
}

/// Open options for files only the owner may read (0600 on Unix).
pub fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates `dir` (and parents) readable by the owner only (0700 on Unix).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

/// Flushes a folder's entries (new names, renames, removals) to disk. A no-op where folders
/// cannot be opened (Windows).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Overwrites a file's bytes with randomness, fsyncs, then deletes it. Returns whether the file
/// existed. Used for the wrapped key, whose destruction makes the journal unreadable.
pub fn shred(path: &Path) -> io::Result<bool> {
    let len = match fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    {
        let mut file = OpenOptions::new().write(true).open(path)?;
        let mut noise = vec![0u8; usize::try_from(len).unwrap_or(4096).min(1 << 20)];
        getrandom::getrandom(&mut noise).map_err(io::Error::other)?;
        let mut written = 0u64;
        while written < len {
            let n = noise
                .len()
                .min(usize::try_from(len - written).unwrap_or(noise.len()));
            file.write_all(&noise[..n])?;
            written += n as u64;
        }
        file.sync_all()?;
    }
    fs::remove_file(path)?;
    Ok(true)
}

/// Removes a file if it exists; returns whether it did.
pub fn remove_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether an I/O error means the disk (or the user's quota) is full: the one test every
/// layer uses to say "free some space" rather than "damaged".
pub fn is_disk_full(e: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k");
        write_atomic(&path, b"first").expect("write");
        write_atomic(&path, b"second").expect("rewrite");
        assert_eq!(fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(names.len(), 1, "no temp file left behind");
    }

    #[test]
    fn shred_overwrites_then_removes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k");
        fs::write(&path, vec![0x41u8; 5000]).expect("write");
        assert!(shred(&path).expect("shred"));
        assert!(!path.exists());
        assert!(!shred(&path).expect("second shred is a no-op"));
    }
}
