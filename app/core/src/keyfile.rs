//! The journal's database key and the key file that holds it wrapped by the passphrase (age scrypt).
//!
//! Key file format v4 (text header, then two binary age files of the same length):
//!
//! ```text
//! truce-journal-key v4
//! page-auth hmac-sha256
//! page-size 16384
//! sha256 <hex SHA-256 of the two age files that follow>
//! <age file, scrypt recipient, payload = 32-byte raw SQLCipher key>
//! <age file, scrypt recipient of the same work factor, payload = 32 random bytes>
//! ```
//!
//! The second slot is the duress slot: when a duress passphrase is set, it opens that slot, and
//! unlocking with it wipes the journal. Without one, the slot is sealed to a random passphrase
//! nobody knows. Every unlock tries both slots, so it costs the same either way, and the file
//! looks the same either way. Version 3 is version 4 with the first slot alone.
//!
//! `page-auth` says how SQLCipher authenticates the journal's pages and `page-size` how large
//! they are; both are chosen when the journal is created and never change (SQLCipher cannot
//! read them from the encrypted file). Version 2 has no `page-size` line: its pages are 4096
//! bytes. Version 1 has neither line: HMAC-SHA-512 and 4096 bytes. A key file keeps its
//! version when the passphrase changes.
//!
//! The checksum covers only ciphertext, so it reveals nothing; it lets Truce tell a damaged key
//! file ("journal damaged") from a wrong passphrase, which age alone cannot.

use std::io::{Read, Write};
use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::fsutil;
use crate::secure_memory::LockedKey;

/// Test-only: scrypt work factor (log2 N) for new key files. Weakens the passphrase; only debug
/// builds (the tests) honour it, and release builds refuse to run with it set.
pub const KDF_WORK_FACTOR_ENV: &str = "TRUCE_INSECURE_KDF_WORK_FACTOR";

const MAGIC_V1: &str = "truce-journal-key v1";
const MAGIC_V2: &str = "truce-journal-key v2";
const MAGIC_V3: &str = "truce-journal-key v3";
const MAGIC_V4: &str = "truce-journal-key v4";
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
    /// Its name on the key file's `page-auth` line.
    fn key_file_name(self) -> &'static str {
        match self {
            PageAuth::HmacSha512 => "hmac-sha512",
            PageAuth::HmacSha256 => "hmac-sha256",
        }
    }
}

/// SQLCipher's page size, and the only one journals had before key file version 3.
pub const DEFAULT_PAGE_SIZE: u32 = 4096;

/// The page size of a new journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSize {
    /// 4096 bytes, for a monitor's journal: it saves one record per transaction, and each
    /// page a transaction touches is written whole to the log.
    Standard,
    /// 16 KiB, for a coordinator's journal. A coordinator imports hundreds of thousands of
    /// entries at a time; with pages four times as large, SQLite splits, encrypts and
    /// authenticates a quarter as many pages per entry (docs/performance.md).
    Large,
}

impl PageSize {
    /// In bytes.
    pub fn bytes(self) -> u32 {
        match self {
            PageSize::Standard => DEFAULT_PAGE_SIZE,
            PageSize::Large => 16_384,
        }
    }
}

/// The random 256-bit key SQLCipher uses as a raw key, and how the journal's pages are
/// authenticated and sized. Not `Clone`, not `Serialize`, redacted in `Debug`, zeroized on
/// drop.
pub struct DatabaseKey {
    bytes: LockedKey,
    page_auth: PageAuth,
    /// The page size the key file names (version 3); `None` for versions 1 and 2, whose
    /// journals have SQLCipher's default of 4096 bytes.
    page_size: Option<u32>,
}

impl DatabaseKey {
    /// A fresh key from the operating system's random source, for a new journal whose pages
    /// are `page_size`.
    pub fn generate(page_size: PageSize) -> Result<Self, KeyFileError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut bytes[..]).map_err(KeyFileError::Random)?;
        Ok(DatabaseKey {
            bytes: LockedKey::new(bytes),
            page_auth: PageAuth::HmacSha256,
            page_size: Some(page_size.bytes()),
        })
    }

    /// The journal's page size in bytes.
    pub fn page_size(&self) -> u32 {
        self.page_size.unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// The same key with another page authentication, as a journal created by an earlier
    /// version has: for tests of those journals.
    /// (Key files of versions 1 and 2 name no page size: such a key has none either.)
    #[cfg(test)]
    pub(crate) fn with_page_auth(mut self, page_auth: PageAuth) -> Self {
        self.page_auth = page_auth;
        self.page_size = None;
        self
    }

    /// The same key bytes with `page_auth`: for tests that open one journal both ways.
    #[cfg(test)]
    pub(crate) fn same_bytes(&self, page_auth: PageAuth) -> Self {
        DatabaseKey {
            bytes: LockedKey::new(Zeroizing::new(*self.bytes)),
            page_auth,
            page_size: self.page_size,
        }
    }

    /// The same key bytes and page authentication with another page size: for tests.
    #[cfg(test)]
    pub(crate) fn same_bytes_sized(&self, page_size: PageSize) -> Self {
        DatabaseKey {
            bytes: LockedKey::new(Zeroizing::new(*self.bytes)),
            page_auth: self.page_auth,
            page_size: Some(page_size.bytes()),
        }
    }

    /// A fresh random key for the same journal: the same page authentication and page size,
    /// and so the same key file version, as this one. For re-encrypting the journal when its
    /// passphrase changes.
    pub fn fresh_like(&self) -> Result<Self, KeyFileError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut bytes[..]).map_err(KeyFileError::Random)?;
        Ok(DatabaseKey {
            bytes: LockedKey::new(bytes),
            page_auth: self.page_auth,
            page_size: self.page_size,
        })
    }

    /// How the journal's pages are authenticated.
    pub fn page_auth(&self) -> PageAuth {
        self.page_auth
    }

    /// The raw 256-bit key, for the store to hand to SQLCipher (and nothing else).
    pub(crate) fn secret_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Whether both are the same key (compared without an early exit).
    pub(crate) fn same_key(&self, other: &DatabaseKey) -> bool {
        self.bytes
            .iter()
            .zip(other.bytes.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
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
    /// The passphrase opens the duress slot: the journal must be wiped.
    #[error("the duress passphrase")]
    Duress,
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
    Random(#[source] getrandom::Error),
    /// age could not encrypt the key to the passphrase.
    #[error("the key cannot be sealed with the passphrase: {0}")]
    Seal(#[source] age::EncryptError),
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

/// Wraps `key` with `passphrase` and writes the key file atomically, with a duress slot no
/// passphrase opens.
pub fn write(
    path: &Path,
    key: &DatabaseKey,
    passphrase: &SecretString,
    cost: KdfCost,
) -> Result<(), KeyFileError> {
    write_with_duress(path, key, passphrase, cost, None)
}

/// [`write`], keeping the duress slot of the key file at `previous` when it has one (a
/// passphrase change keeps the duress passphrase).
pub fn write_keeping_duress(
    path: &Path,
    key: &DatabaseKey,
    passphrase: &SecretString,
    cost: KdfCost,
    previous: &Path,
) -> Result<(), KeyFileError> {
    let kept = std::fs::read(previous).ok().and_then(|bytes| {
        let (_, _, sealed) = check_envelope(&bytes).ok()?;
        let (_, duress) = slots(sealed).ok()?;
        duress.map(<[u8]>::to_vec)
    });
    write_with_duress(path, key, passphrase, cost, kept)
}

fn write_with_duress(
    path: &Path,
    key: &DatabaseKey,
    passphrase: &SecretString,
    cost: KdfCost,
    duress: Option<Vec<u8>>,
) -> Result<(), KeyFileError> {
    let bytes = wrap(key, passphrase, cost, duress)?;
    fsutil::write_atomic(path, &bytes).map_err(|cause| KeyFileError::Io {
        action: "write",
        path: path.display().to_string(),
        cause,
    })
}

/// `payload` sealed with age's scrypt recipient for `passphrase`.
fn seal(payload: &[u8], passphrase: &SecretString, cost: KdfCost) -> Result<Vec<u8>, KeyFileError> {
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    if let KdfCost::WorkFactor(log_n) = cost {
        recipient.set_work_factor(log_n);
    }
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(KeyFileError::Seal)?;
    let mut sealed = Vec::with_capacity(256);
    let io_err = |cause| KeyFileError::Io {
        action: "encrypt",
        path: "(memory)".into(),
        cause,
    };
    let mut writer = encryptor.wrap_output(&mut sealed).map_err(io_err)?;
    writer.write_all(payload).map_err(io_err)?;
    writer.finish().map_err(io_err)?;
    Ok(sealed)
}

/// The scrypt work factor a sealed slot was made with (its stanza's last argument).
fn work_factor(sealed: &[u8]) -> Option<u8> {
    let header = String::from_utf8_lossy(&sealed[..sealed.len().min(512)]).into_owned();
    header
        .lines()
        .find_map(|l| l.strip_prefix("-> scrypt "))
        .and_then(|args| args.split(' ').nth(1)?.parse().ok())
}

/// A duress slot of the same work factor as `first`, opened by `duress`, or by a random
/// passphrase nobody keeps when `None`.
fn duress_slot(first: &[u8], duress: Option<&SecretString>) -> Result<Vec<u8>, KeyFileError> {
    let cost = work_factor(first).map_or(KdfCost::Calibrated, KdfCost::WorkFactor);
    let mut noise = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(&mut noise[..]).map_err(KeyFileError::Random)?;
    let random = SecretString::from(hex::encode(&noise[..]));
    seal(&noise[..], duress.unwrap_or(&random), cost)
}

/// The key file's bytes for `key` wrapped by `passphrase`; journals with a page size (those
/// created since key file version 3) get version 4, with `duress` as the second slot (a new
/// one no passphrase opens when `None`).
fn wrap(
    key: &DatabaseKey,
    passphrase: &SecretString,
    cost: KdfCost,
    duress: Option<Vec<u8>>,
) -> Result<Vec<u8>, KeyFileError> {
    let mut sealed = seal(&key.bytes[..], passphrase, cost)?;
    let header = match (key.page_auth, key.page_size) {
        (PageAuth::HmacSha512, None) => format!("{MAGIC_V1}\n"),
        (PageAuth::HmacSha256, None) => format!("{MAGIC_V2}\npage-auth hmac-sha256\n"),
        (auth, Some(size)) => {
            let second = match duress.filter(|d| d.len() == sealed.len()) {
                Some(kept) => kept,
                None => duress_slot(&sealed, None)?,
            };
            sealed.extend_from_slice(&second);
            format!(
                "{MAGIC_V4}\npage-auth {}\npage-size {size}\n",
                auth.key_file_name()
            )
        }
    };
    let mut out = format!("{header}sha256 {}\n", hex::encode(Sha256::digest(&sealed))).into_bytes();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// A version-4 body's two slots (of equal length), or a version 1-3 body's one.
fn slots(sealed: &[u8]) -> Result<(&[u8], Option<&[u8]>), String> {
    let starts = sealed
        .windows(b"age-encryption.org/".len())
        .filter(|w| *w == b"age-encryption.org/")
        .count();
    if starts < 2 {
        return Ok((sealed, None));
    }
    if !sealed.len().is_multiple_of(2) {
        return Err("its two slots differ in length".into());
    }
    let (first, second) = sealed.split_at(sealed.len() / 2);
    if !second.starts_with(b"age-encryption.org/") {
        return Err("its second slot is not where it should be".into());
    }
    Ok((first, Some(second)))
}

/// Sets the duress passphrase of the key file at `path` (or, with `None`, makes its duress
/// slot open to no passphrase again), keeping the key slot as it is. `passphrase` must be the
/// journal's own; the duress passphrase must not open the key slot.
pub fn set_duress(
    path: &Path,
    passphrase: &SecretString,
    duress: Option<&SecretString>,
) -> Result<(), KeyFileError> {
    let bytes = std::fs::read(path).map_err(|cause| KeyFileError::Io {
        action: "read",
        path: path.display().to_string(),
        cause,
    })?;
    let (page_auth, page_size, sealed) =
        check_envelope(&bytes).map_err(|reason| damaged(path, reason))?;
    let Some(size) = page_size else {
        return Err(damaged(
            path,
            "it predates duress slots (a journal created before key file version 3)",
        ));
    };
    let (first, _) = slots(sealed).map_err(|reason| damaged(path, reason))?;
    unwrap(first, passphrase).map_err(|e| match e {
        Unwrap::Passphrase => KeyFileError::WrongPassphrase,
        Unwrap::Damaged(reason) => damaged(path, reason),
    })?;
    if let Some(d) = duress {
        if unwrap(first, d).is_ok() {
            return Err(KeyFileError::Damaged {
                path: path.display().to_string(),
                reason: "the duress passphrase is the journal's passphrase; choose another".into(),
            });
        }
    }
    let mut body = first.to_vec();
    body.extend_from_slice(&duress_slot(first, duress)?);
    let mut out = format!(
        "{MAGIC_V4}\npage-auth {}\npage-size {size}\nsha256 {}\n",
        page_auth.key_file_name(),
        hex::encode(Sha256::digest(&body))
    )
    .into_bytes();
    out.extend_from_slice(&body);
    fsutil::write_atomic(path, &out).map_err(|cause| KeyFileError::Io {
        action: "write",
        path: path.display().to_string(),
        cause,
    })
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
    let (page_auth, page_size, sealed) =
        check_envelope(&bytes).map_err(|reason| damaged(path, reason))?;
    let (first, second) = slots(sealed).map_err(|reason| damaged(path, reason))?;
    // Both slots, always: an unlock costs the same whether a duress passphrase is set or not.
    let key = unwrap(first, passphrase);
    let duress = second.map(|second| unwrap(second, passphrase));
    if let Some(Ok(_)) = duress {
        return Err(KeyFileError::Duress);
    }
    let bytes = key.map_err(|e| match e {
        Unwrap::Passphrase => KeyFileError::WrongPassphrase,
        Unwrap::Damaged(reason) => damaged(path, reason),
    })?;
    Ok(DatabaseKey {
        bytes: LockedKey::new(bytes),
        page_auth,
        page_size,
    })
}

fn valid_page_size(size: u32) -> bool {
    (512..=65536).contains(&size) && size.is_power_of_two()
}

/// The first line of `bytes` and what follows it.
fn first_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    let mut lines = bytes.splitn(2, |b| *b == b'\n');
    (
        lines.next().unwrap_or_default(),
        lines.next().unwrap_or_default(),
    )
}

/// The `page-auth` line of versions 2 and 3.
fn page_auth_line(line: &[u8]) -> Result<PageAuth, String> {
    match line {
        b"page-auth hmac-sha256" => Ok(PageAuth::HmacSha256),
        b"page-auth hmac-sha512" => Ok(PageAuth::HmacSha512),
        _ => Err("its page-auth line is missing or unknown".into()),
    }
}

/// Checks the header and checksum; returns the page authentication, the page size (version 3)
/// and the age file inside.
fn check_envelope(bytes: &[u8]) -> Result<(PageAuth, Option<u32>, &[u8]), String> {
    let (magic, rest) = first_line(bytes);
    let (page_auth, page_size, rest) = if magic == MAGIC_V1.as_bytes() {
        (PageAuth::HmacSha512, None, rest)
    } else if magic == MAGIC_V2.as_bytes() {
        let (auth, rest) = first_line(rest);
        (page_auth_line(auth)?, None, rest)
    } else if magic == MAGIC_V3.as_bytes() || magic == MAGIC_V4.as_bytes() {
        let (auth, rest) = first_line(rest);
        let (size, rest) = first_line(rest);
        let size = size
            .strip_prefix(b"page-size ")
            .and_then(|n| std::str::from_utf8(n).ok()?.parse::<u32>().ok())
            .filter(|n| valid_page_size(*n))
            .ok_or("its page-size line is missing or not a page size")?;
        (page_auth_line(auth)?, Some(size), rest)
    } else if magic.starts_with(b"truce-journal-key v") {
        return Err(format!(
            "it is a key file of a later version ({}): use the Truce version that created this journal, or a newer one",
            String::from_utf8_lossy(magic)
        ));
    } else {
        return Err("not a Truce key file: the header is missing".into());
    };
    let (sum_line, sealed) = first_line(rest);
    let expected = sum_line
        .strip_prefix(b"sha256 ")
        .ok_or_else(|| "the checksum line is missing".to_owned())?;
    if hex::encode(Sha256::digest(sealed)).as_bytes() != expected {
        return Err("its checksum does not match: bytes were changed or lost".into());
    }
    Ok((page_auth, page_size, sealed))
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
        let key = DatabaseKey::generate(PageSize::Standard).expect("random");
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
            &DatabaseKey::generate(PageSize::Standard).expect("random"),
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
    fn the_duress_slot_wipes_looks_alike_and_a_version_3_file_still_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.key");
        let key = DatabaseKey::generate(PageSize::Large).expect("random");
        write(&path, &key, &pass("correct horse"), FAST).expect("write");
        let plain = std::fs::read(&path).expect("read");
        set_duress(
            &path,
            &pass("correct horse"),
            Some(&pass("carrot umbrella")),
        )
        .expect("set");
        let with = std::fs::read(&path).expect("read");
        assert_eq!(plain.len(), with.len(), "alike with or without");
        assert!(matches!(
            read(&path, &pass("carrot umbrella")),
            Err(KeyFileError::Duress)
        ));
        assert!(matches!(
            read(&path, &pass("wrong horse")),
            Err(KeyFileError::WrongPassphrase)
        ));
        assert_eq!(
            &read(&path, &pass("correct horse")).expect("key").bytes[..],
            &key.bytes[..]
        );
        // The journal's own passphrase cannot be the duress one; the wrong one sets nothing.
        assert!(set_duress(&path, &pass("correct horse"), Some(&pass("correct horse"))).is_err());
        assert!(matches!(
            set_duress(&path, &pass("wrong horse"), None),
            Err(KeyFileError::WrongPassphrase)
        ));
        // A passphrase change keeps the duress slot.
        let next = dir.path().join("journal.key.next");
        write_keeping_duress(&next, &key, &pass("battery staple"), FAST, &path).expect("write");
        assert!(matches!(
            read(&next, &pass("carrot umbrella")),
            Err(KeyFileError::Duress)
        ));
        // Version 3 (one slot), as earlier builds wrote it, still opens.
        let (_, _, sealed) = check_envelope(&plain).expect("v4");
        let (first, _) = slots(sealed).expect("slots");
        let mut v3 = format!(
            "truce-journal-key v3\npage-auth hmac-sha256\npage-size 16384\nsha256 {}\n",
            hex::encode(Sha256::digest(first))
        )
        .into_bytes();
        v3.extend_from_slice(first);
        std::fs::write(&path, &v3).expect("write");
        assert_eq!(
            &read(&path, &pass("correct horse")).expect("key").bytes[..],
            &key.bytes[..]
        );
    }

    #[test]
    fn earlier_key_file_versions_read_as_they_were_written_and_stay_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.key");
        let key = DatabaseKey::generate(PageSize::Standard)
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

        // Version 2 names the page authentication and no page size: 4096 bytes, and it stays
        // version 2.
        let v2 = DatabaseKey::generate(PageSize::Large)
            .expect("random")
            .with_page_auth(PageAuth::HmacSha256);
        write(&path, &v2, &pass("correct horse"), FAST).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        assert!(bytes.starts_with(b"truce-journal-key v2\npage-auth hmac-sha256\nsha256 "));
        let back = read(&path, &pass("correct horse")).expect("unwraps");
        assert_eq!(
            (back.page_auth, back.page_size),
            (PageAuth::HmacSha256, None)
        );
        assert_eq!(back.page_size(), 4096);
        write(&path, &back, &pass("other horse"), FAST).expect("rewrap");
        assert!(std::fs::read(&path)
            .expect("read")
            .starts_with(b"truce-journal-key v2\n"));

        // A new key file names both; a later version is named as such.
        for size in [PageSize::Standard, PageSize::Large] {
            let fresh = DatabaseKey::generate(size).expect("random");
            write(&path, &fresh, &pass("correct horse"), FAST).expect("write");
            let bytes = std::fs::read(&path).expect("read");
            let header = format!(
                "truce-journal-key v4\npage-auth hmac-sha256\npage-size {}\nsha256 ",
                size.bytes()
            );
            assert!(bytes.starts_with(header.as_bytes()), "{size:?}");
            let back = read(&path, &pass("correct horse")).expect("unwraps");
            assert_eq!(back.page_size(), size.bytes());
            assert_eq!(back.page_auth(), PageAuth::HmacSha256);
            let mut later = bytes.clone();
            later[19] = b'5';
            std::fs::write(&path, &later).expect("write");
            let err = read(&path, &pass("correct horse")).expect_err("a later version");
            assert!(err.to_string().contains("later version"), "{err}");
        }

        // A page size SQLCipher would not take, or none, is damage, named as such.
        let fresh = DatabaseKey::generate(PageSize::Large).expect("random");
        write(&path, &fresh, &pass("correct horse"), FAST).expect("write");
        let good_bytes = std::fs::read(&path).expect("read");
        for (from, to) in [
            (&b"page-size 16384\n"[..], &b"page-size 16385\n"[..]),
            (b"page-size 16384\n", b"page-size 131072\n"),
            (b"page-size 16384\n", b"page-size x\n"),
            (b"page-size 16384\n", b""),
        ] {
            let at = good_bytes
                .windows(from.len())
                .position(|w| w == from)
                .expect("the page-size line");
            let mut bad = good_bytes[..at].to_vec();
            bad.extend_from_slice(to);
            bad.extend_from_slice(&good_bytes[at + from.len()..]);
            std::fs::write(&path, &bad).expect("write");
            let err = read(&path, &pass("correct horse")).expect_err("refused");
            assert!(err.to_string().contains("page-size line"), "{err}");
        }
    }

    #[test]
    fn a_fresh_key_keeps_the_page_settings_and_so_the_key_file_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.key");
        let header = |key: &DatabaseKey| {
            write(&path, key, &pass("correct horse"), FAST).expect("write");
            let bytes = std::fs::read(&path).expect("read");
            let end = bytes
                .windows(7)
                .position(|w| w == b"sha256 ")
                .expect("the checksum line");
            bytes[..end].to_vec()
        };
        for key in [
            DatabaseKey::generate(PageSize::Standard)
                .expect("random")
                .with_page_auth(PageAuth::HmacSha512),
            DatabaseKey::generate(PageSize::Standard)
                .expect("random")
                .with_page_auth(PageAuth::HmacSha256),
            DatabaseKey::generate(PageSize::Standard).expect("random"),
            DatabaseKey::generate(PageSize::Large).expect("random"),
        ] {
            let fresh = key.fresh_like().expect("random");
            assert_ne!(&fresh.bytes[..], &key.bytes[..]);
            assert_eq!(
                (fresh.page_auth, fresh.page_size),
                (key.page_auth, key.page_size)
            );
            assert_eq!(header(&fresh), header(&key));
        }
    }

    #[test]
    fn debug_is_redacted() {
        let key = DatabaseKey::generate(PageSize::Standard).expect("random");
        assert_eq!(format!("{key:?}"), "DatabaseKey(<redacted>)");
    }

    #[test]
    fn short_passphrases_are_refused() {
        assert!(check_new_passphrase(&pass("short")).is_err());
        assert!(check_new_passphrase(&pass("long enough")).is_ok());
    }
}
