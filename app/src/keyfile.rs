//! The journal's database key and the key file that holds it wrapped by the passphrase (age scrypt).
//!
//! Key file format v1 (text header, then a binary age file):
//!
//! ```text
//! truce-journal-key v1
//! sha256 <hex SHA-256 of the age file that follows>
//! <age file, scrypt recipient, payload = 32-byte raw SQLCipher key>
//! ```
//!
//! The checksum covers only ciphertext, so it reveals nothing; it lets Truce tell a damaged key
//! file ("journal damaged") from a wrong passphrase, which age alone cannot.

use std::io::{Read, Write};
use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::fsutil;

const MAGIC: &str = "truce-journal-key v1";
/// Largest key file Truce will read; a real one is about 250 bytes.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The random 256-bit key SQLCipher uses as a raw key. Not `Clone`, not `Serialize`, redacted
/// in `Debug`, zeroized on drop.
pub struct DatabaseKey(Zeroizing<[u8; 32]>);

impl DatabaseKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyFileError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut bytes[..]).map_err(|e| KeyFileError::Random(e.to_string()))?;
        Ok(DatabaseKey(bytes))
    }

    /// The SQL statement that hands this key to SQLCipher as a raw key. Zeroized on drop.
    pub(crate) fn sqlcipher_pragma(&self) -> Zeroizing<String> {
        let mut hex = Zeroizing::new(hex::encode(&self.0[..]));
        let pragma = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", hex.as_str()));
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
    writer.write_all(&key.0[..]).map_err(io_err)?;
    writer.finish().map_err(io_err)?;
    let mut out =
        format!("{MAGIC}\nsha256 {}\n", hex::encode(Sha256::digest(&sealed))).into_bytes();
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
    let sealed = check_envelope(&bytes).map_err(|reason| damaged(path, reason))?;
    unwrap(sealed, passphrase).map_err(|e| match e {
        Unwrap::Passphrase => KeyFileError::WrongPassphrase,
        Unwrap::Damaged(reason) => damaged(path, reason),
    })
}

/// Checks the header and checksum; returns the age file inside.
fn check_envelope(bytes: &[u8]) -> Result<&[u8], String> {
    let mut lines = bytes.splitn(3, |b| *b == b'\n');
    let magic = lines.next().unwrap_or_default();
    if magic != MAGIC.as_bytes() {
        return Err("not a Truce key file: the header is missing".into());
    }
    let sum_line = lines.next().unwrap_or_default();
    let expected = sum_line
        .strip_prefix(b"sha256 ")
        .ok_or_else(|| "the checksum line is missing".to_owned())?;
    let sealed = lines.next().unwrap_or_default();
    if hex::encode(Sha256::digest(sealed)).as_bytes() != expected {
        return Err("its checksum does not match: bytes were changed or lost".into());
    }
    Ok(sealed)
}

enum Unwrap {
    Passphrase,
    Damaged(String),
}

fn unwrap(sealed: &[u8], passphrase: &SecretString) -> Result<DatabaseKey, Unwrap> {
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
    let bytes: [u8; 32] = key[..]
        .try_into()
        .map_err(|_| Unwrap::Damaged(format!("the key inside is {} bytes, not 32", key.len())))?;
    Ok(DatabaseKey(Zeroizing::new(bytes)))
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
        assert_eq!(&back.0[..], &key.0[..]);
        assert!(!std::fs::read(&path)
            .expect("read")
            .windows(32)
            .any(|w| w == &key.0[..]));
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
