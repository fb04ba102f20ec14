//! The journal's database key and the key file that holds it wrapped by the passphrase (age scrypt).
//!
//! Key file format v2 (text header, then a binary age file):
//!
//! ```text
//! truce-journal-key v2
//! page-auth hmac-sha256
//! sha256 <hex SHA-256 of the age file that follows>
//! <age file, scrypt recipient, payload = 32-byte raw SQLCipher key>
//! ```
//!
//! `page-auth` says how SQLCipher authenticates the journal's pages; it is chosen when the
//! journal is created and never changes. Version 1 has no such line: its journals use
//! SQLCipher's default, HMAC-SHA-512, and are kept in version 1 when the passphrase changes.
//!
//! The checksum covers only ciphertext, so it reveals nothing; it lets Truce tell a damaged key
//! file ("journal damaged") from a wrong passphrase, which age alone cannot.

use std::io::{Read, Write};
use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::fsutil;

const MAGIC_V1: &str = "truce-journal-key v1";
const MAGIC_V2: &str = "truce-journal-key v2";
/// Largest key file Truce will read; a real one is about 250 bytes.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// How SQLCipher authenticates each page of a journal. Chosen when the journal is created, kept
/// in its key file, and the same for the journal's whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAuth {
    /// HMAC-SHA-512, SQLCipher 4's default: journals created before key file version 2.
    HmacSha512,
    /// HMAC-SHA-256: journals created since. A 256-bit key and tag, so as strong against
    /// forged pages as the threat model asks; reading and writing pages costs about a third
    /// of SHA-512's time on CPUs with SHA-256 instructions (docs/performance.md).
    HmacSha256,
}

impl PageAuth {
    /// The value of SQLCipher's `cipher_hmac_algorithm` pragma.
    fn sqlcipher_name(self) -> &'static str {
        match self {
            PageAuth::HmacSha512 => "HMAC_SHA512",
            PageAuth::HmacSha256 => "HMAC_SHA256",
        }
    }
}

/// The random 256-bit key SQLCipher uses as a raw key, and how the journal's pages are
/// authenticated. Not `Clone`, not `Serialize`, redacted in `Debug`, zeroized on drop.
pub struct DatabaseKey {
    bytes: Zeroizing<[u8; 32]>,
    page_auth: PageAuth,
}

impl DatabaseKey {
    /// A fresh key from the operating system's random source, for a new journal.
    pub fn generate() -> Result<Self, KeyFileError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut bytes[..]).map_err(|e| KeyFileError::Random(e.to_string()))?;
        Ok(DatabaseKey {
            bytes,
            page_auth: PageAuth::HmacSha256,
        })
    }

    /// The same key with another page authentication, as a journal created by an earlier
    /// version has: for tests of those journals.
    #[cfg(test)]
    pub(crate) fn with_page_auth(mut self, page_auth: PageAuth) -> Self {
        self.page_auth = page_auth;
        self
    }

    /// The same key bytes with `page_auth`: for tests that open one journal both ways.
    #[cfg(test)]
    pub(crate) fn same_bytes(&self, page_auth: PageAuth) -> Self {
        DatabaseKey {
            bytes: self.bytes.clone(),
            page_auth,
        }
    }

    /// The SQL statements that hand this key to SQLCipher as a raw key, with the journal's page
    /// authentication. Zeroized on drop.
    pub(crate) fn sqlcipher_pragma(&self) -> Zeroizing<String> {
        let mut hex = Zeroizing::new(hex::encode(&self.bytes[..]));
        let pragma = Zeroizing::new(format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA cipher_hmac_algorithm = {};",
            hex.as_str(),
            self.page_auth.sqlcipher_name()
        ));
        hex.zeroize();
        pragma
    }
}

impl std::fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(<redacted>)")
    }
}

/// How hard the passphrase is stretched (scrypt's log2 N).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KdfCost {
    /// age's own calibration: about one second on this machine.
    #[default]
    Calibrated,
    /// A fixed work factor. Only tests should go below age's calibration.
    WorkFactor(u8),
}

/// What can go wrong with the key file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The passphrase does not unwrap the key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The file is not a Truce key file, or its bytes changed.
    #[error("the key file {path} is damaged ({reason})")]
    Damaged {
        /// Where the key file is.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system gave no randomness.
    #[error("no randomness available from the operating system: {0}")]
    Random(String),
    /// Reading or writing the file failed.
    #[error("cannot {action} the key file {path}: {cause}")]
    Io {
        /// read or write
        action: &'static str,
        /// Where the key file is.
        path: String,
        /// The underlying error.
        cause: std::io::Error,
    },
}

fn damaged(path: &Path, reason: impl Into<String>) -> KeyFileError {
    KeyFileError::Damaged {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Wraps `key` with `passphrase` and writes the key file atomically.
pub fn write(
    path: &Path,
    key: &DatabaseKey,
    passphrase: &SecretString,
    cost: KdfCost,
) -> Result<(), KeyFileError> {
    let bytes = wrap(key, passphrase, cost)?;
    fsutil::write_atomic(path, &bytes).map_err(|cause| KeyFileError::Io {
        action: "write",
        path: path.display().to_string(),
        cause,
    })
}

/// The key file's bytes for `key` wrapped by `passphrase`.
fn wrap(
    key: &DatabaseKey,
    passphrase: &SecretString,
    cost: KdfCost,
) -> Result<Vec<u8>, KeyFileError> {
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    if let KdfCost::WorkFactor(log_n) = cost {
        recipient.set_work_factor(log_n);
    }
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(|e| KeyFileError::Random(e.to_string()))?;
    let mut sealed = Vec::with_capacity(256);
    let io_err = |cause| KeyFileError::Io {
        action: "encrypt",
        path: "(memory)".into(),
        cause,
    };
    let mut writer = encryptor.wrap_output(&mut sealed).map_err(io_err)?;
    writer.write_all(&key.bytes[..]).map_err(io_err)?;
    writer.finish().map_err(io_err)?;
    let header = match key.page_auth {
        PageAuth::HmacSha512 => format!("{MAGIC_V1}\n"),
        PageAuth::HmacSha256 => format!("{MAGIC_V2}\npage-auth hmac-sha256\n"),
    };
    let mut out = format!("{header}sha256 {}\n", hex::encode(Sha256::digest(&sealed))).into_bytes();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Reads the key file and unwraps the database key with `passphrase`. Changes nothing on disk.
pub fn read(path: &Path, passphrase: &SecretString) -> Result<DatabaseKey, KeyFileError> {
    let io_err = |cause| KeyFileError::Io {
        action: "read",
        path: path.display().to_string(),
        cause,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(damaged(path, "far too large to be a key file"));
    }
    let (page_auth, sealed) = check_envelope(&bytes).map_err(|reason| damaged(path, reason))?;
    let bytes = unwrap(sealed, passphrase).map_err(|e| match e {
        Unwrap::Passphrase => KeyFileError::WrongPassphrase,
        Unwrap::Damaged(reason) => damaged(path, reason),
    })?;
    Ok(DatabaseKey { bytes, page_auth })
}

/// Checks the header and checksum; returns the page authentication and the age file inside.
fn check_envelope(bytes: &[u8]) -> Result<(PageAuth, &[u8]), String> {
    let mut lines = bytes.splitn(2, |b| *b == b'\n');
    let magic = lines.next().unwrap_or_default();
    let rest = lines.next().unwrap_or_default();
    let (page_auth, rest) = if magic == MAGIC_V1.as_bytes() {
        (PageAuth::HmacSha512, rest)
    } else if magic == MAGIC_V2.as_bytes() {
        let mut lines = rest.splitn(2, |b| *b == b'\n');
        let auth = match lines.next().unwrap_or_default() {
            b"page-auth hmac-sha256" => PageAuth::HmacSha256,
            b"page-auth hmac-sha512" => PageAuth::HmacSha512,
            _ => return Err("its page-auth line is missing or unknown".into()),
        };
        (auth, lines.next().unwrap_or_default())
    } else if magic.starts_with(b"truce-journal-key v") {
        return Err(format!(
            "it is a key file of a later version ({}): use the Truce version that created this journal, or a newer one",
            String::from_utf8_lossy(magic)
        ));
    } else {
        return Err("not a Truce key file: the header is missing".into());
    };
    let mut lines = rest.splitn(2, |b| *b == b'\n');
    let sum_line = lines.next().unwrap_or_default();
    let expected = sum_line
        .strip_prefix(b"sha256 ")
        .ok_or_else(|| "the checksum line is missing".to_owned())?;
    let sealed = lines.next().unwrap_or_default();
    if hex::encode(Sha256::digest(sealed)).as_bytes() != expected {
        return Err("its checksum does not match: bytes were changed or lost".into());
    }
    Ok((page_auth, sealed))
}

enum Unwrap {
    Passphrase,
    Damaged(String),
}

fn unwrap(sealed: &[u8], passphrase: &SecretString) -> Result<Zeroizing<[u8; 32]>, Unwrap> {
    let decryptor = age::Decryptor::new(sealed).map_err(|e| Unwrap::Damaged(e.to_string()))?;
    if !decryptor.is_scrypt() {
        return Err(Unwrap::Damaged("it is not wrapped by a passphrase".into()));
    }
    let identity = age::scrypt::Identity::new(passphrase.clone());
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                Unwrap::Passphrase
            }
            other => Unwrap::Damaged(other.to_string()),
        })?;
    let mut key = Zeroizing::new(Vec::with_capacity(33));
    reader
        .read_to_end(&mut key)
        .map_err(|e| Unwrap::Damaged(e.to_string()))?;
    if key.len() != 32 {
        return Err(Unwrap::Damaged(format!(
            "the key inside is {} bytes, not 32",
            key.len()
        )));
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    bytes.copy_from_slice(&key[..]);
    Ok(bytes)
}

/// Passphrase length below which Truce refuses to create or set a passphrase.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Refuses passphrases too short to resist guessing, with advice.
pub fn check_new_passphrase(passphrase: &SecretString) -> Result<(), String> {
    let n = passphrase.expose_secret().chars().count();
    if n < MIN_PASSPHRASE_CHARS {
        return Err(format!(
            "the passphrase has {n} characters; use at least {MIN_PASSPHRASE_CHARS}, ideally four or more random words"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfCost = KdfCost::WorkFactor(10);

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn wrap_then_unwrap_gives_the_same_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.key");
        let key = DatabaseKey::generate().expect("random");
        write(&path, &key, &pass("correct horse"), FAST).expect("write");
        let back = read(&path, &pass("correct horse")).expect("unwraps");
        assert_eq!(&back.bytes[..], &key.bytes[..]);
        assert_eq!(back.page_auth, PageAuth::HmacSha256);
        assert!(!std::fs::read(&path)
            .expect("read")
            .windows(32)
            .any(|w| w == &key.bytes[..]));
    }

    #[test]
    fn wrong_passphrase_and_damage_are_told_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.key");
        write(
            &path,
            &DatabaseKey::generate().expect("random"),
            &pass("correct horse"),
            FAST,
        )
        .expect("write");
        assert!(matches!(
            read(&path, &pass("wrong horse")),
            Err(KeyFileError::WrongPassphrase)
        ));

        let good = std::fs::read(&path).expect("read");
        for at in [0, 25, 60, good.len() / 2, good.len() - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            std::fs::write(&path, &bad).expect("write");
            let err =
                read(&path, &pass("correct horse")).expect_err("flipped byte must be refused");
            assert!(
                matches!(err, KeyFileError::Damaged { .. }),
                "byte {at}: {err}"
            );
        }
        std::fs::write(&path, &good[..good.len() - 10]).expect("truncate");
        assert!(matches!(
            read(&path, &pass("correct horse")),
            Err(KeyFileError::Damaged { .. })
        ));
    }

    #[test]
    fn a_version_1_key_file_reads_as_hmac_sha512_and_stays_version_1() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.key");
        let key = DatabaseKey::generate()
            .expect("random")
            .with_page_auth(PageAuth::HmacSha512);
        write(&path, &key, &pass("correct horse"), FAST).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        assert!(
            bytes.starts_with(b"truce-journal-key v1\nsha256 "),
            "the old layout"
        );
        let back = read(&path, &pass("correct horse")).expect("unwraps");
        assert_eq!(back.page_auth, PageAuth::HmacSha512);
        assert_eq!(&back.bytes[..], &key.bytes[..]);
        assert!(back.sqlcipher_pragma().contains("HMAC_SHA512"));

        // A new key file says how pages are authenticated; a later version is named as such.
        let fresh = DatabaseKey::generate().expect("random");
        assert!(fresh.sqlcipher_pragma().contains("HMAC_SHA256"));
        write(&path, &fresh, &pass("correct horse"), FAST).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        assert!(bytes.starts_with(b"truce-journal-key v2\npage-auth hmac-sha256\nsha256 "));
        let mut later = bytes.clone();
        later[19] = b'3';
        std::fs::write(&path, &later).expect("write");
        let err = read(&path, &pass("correct horse")).expect_err("a later version");
        assert!(err.to_string().contains("later version"), "{err}");
    }

    #[test]
    fn debug_is_redacted() {
        let key = DatabaseKey::generate().expect("random");
        assert_eq!(format!("{key:?}"), "DatabaseKey(<redacted>)");
    }

    #[test]
    fn short_passphrases_are_refused() {
        assert!(check_new_passphrase(&pass("short")).is_err());
        assert!(check_new_passphrase(&pass("long enough")).is_ok());
    }
}
