//! End-to-end test support: finding (and building) the `truce` binary, and looking at the files a journal leaves on disk.

pub mod corpus;
pub mod receipt_corpus;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Path of the `truce` binary built from `app/` with the same profile (and target) as the
/// running test executable. The first call in a process brings the binary up to date by running
/// `cargo build -p truce --bin truce` once, because cargo does not build a dependency's binaries
/// for another package's tests. The build is silent unless it fails; then this panics with
/// cargo's output.
pub fn truce_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(build_truce).clone()
}

/// Where cargo put the running test executable: `<target-dir>[/<triple>]/<profile-dir>/deps/`.
struct Layout {
    target_dir: PathBuf,
    triple: Option<OsString>,
    profile_dir: PathBuf,
}

fn layout() -> Layout {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the test executable lives in a folder");
    // Under `deps/` for `cargo test`; one level up for executables copied next to the binaries.
    let profile_dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps/ has a parent").to_path_buf()
    } else {
        deps.to_path_buf()
    };
    let above = profile_dir
        .parent()
        .expect("the profile folder has a parent")
        .to_path_buf();
    // cargo marks its target directory with CACHEDIR.TAG; with `--target <triple>`, the profile
    // folder sits one level deeper, under the triple.
    if !above.join("CACHEDIR.TAG").exists()
        && above
            .parent()
            .is_some_and(|t| t.join("CACHEDIR.TAG").exists())
    {
        return Layout {
            target_dir: above.parent().map(Path::to_path_buf).unwrap_or_default(),
            triple: above.file_name().map(ToOwned::to_owned),
            profile_dir,
        };
    }
    Layout {
        target_dir: above,
        triple: None,
        profile_dir,
    }
}

fn build_truce() -> PathBuf {
    let layout = layout();
    let bin = layout
        .profile_dir
        .join(format!("truce{}", std::env::consts::EXE_SUFFIX));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(&cargo);
    build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "--quiet",
            "-p",
            "truce",
            "--bin",
            "truce",
            "--target-dir",
        ])
        .arg(&layout.target_dir);
    // Build with the profile the tests were built with: `debug/` is the dev (and test) profile,
    // `release/` the release profile, any other folder a custom profile of that name.
    match layout.profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(custom) => {
            build.args(["--profile", custom]);
        }
        None => panic!(
            "unexpected test executable location: {}",
            layout.profile_dir.display()
        ),
    }
    if let Some(triple) = &layout.triple {
        build.arg("--target").arg(triple);
    }
    match build.output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`cargo build -p truce --bin truce` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        // No cargo here (the test executable was run by hand): use the binary if there is one.
        Err(_) if bin.exists() => {}
        Err(e) => panic!(
            "cannot run {:?} to build the truce binary ({e}), and {} does not exist; run `cargo build -p truce` first",
            cargo,
            bin.display()
        ),
    }
    assert!(
        bin.is_file(),
        "cargo built truce, but {} is missing",
        bin.display()
    );
    bin
}

/// Every regular file under `dir` (recursively), by path relative to `dir`, with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for path in files_under(dir) {
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let relative = path.strip_prefix(dir).expect("under dir").to_path_buf();
        files.insert(relative, bytes);
    }
    files
}

/// Every regular file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()));
        for entry in entries {
            let entry = entry.expect("directory entry");
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Inverts every bit of the byte at `offset` in the file at `path`.
pub fn flip_byte(path: &Path, offset: usize) {
    let mut bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        offset < bytes.len(),
        "{} has {} bytes; cannot flip byte {offset}",
        path.display(),
        bytes.len()
    );
    bytes[offset] ^= 0xff;
    std::fs::write(path, &bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Copies every regular file of `from` (not recursively) into `to`, which must exist.
pub fn copy_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("list the source folder") {
        let entry = entry.expect("directory entry");
        if entry.file_type().expect("file type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy a file");
        }
    }
}

/// A string that occurs nowhere else: a fixed prefix, the process id and the time in nanoseconds.
pub fn unique_marker(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("QXZ{label}{}x{nanos}QXZ", std::process::id())
}

/// Whether `text` is a UUID in canonical hyphenated form (lowercase hex, 8-4-4-4-12).
pub fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("0192f0c4-7d2a-7b3c-9d4e-5f6a7b8c9d0e"));
        assert!(!is_uuid("0192f0c4-7d2a-7b3c-9d4e-5f6a7b8c9d0"));
        assert!(!is_uuid("0192F0C4-7d2a-7b3c-9d4e-5f6a7b8c9d0e"));
        assert!(!is_uuid("0192f0c4x7d2a-7b3c-9d4e-5f6a7b8c9d0e"));
    }

    #[test]
    fn byte_search() {
        assert!(contains_bytes(b"abcdef", b"cde"));
        assert!(!contains_bytes(b"abcdef", b"ced"));
        assert!(!contains_bytes(b"abc", b""));
    }
}
