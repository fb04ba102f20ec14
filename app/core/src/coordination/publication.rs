//! Detached signatures on what the mission publishes (public data exports, reports): minisign's
//! format, made with the coordinator's signing key, so that anyone can check a published file
//! with stock `minisign -V` and the key `truce keys` prints.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::fsutil;
use crate::journal::{now, Journal, JournalError};

/// minisign's algorithm tag for Ed25519 keys.
const ALGORITHM: &[u8; 2] = b"Ed";
/// minisign's checksum algorithm tag (BLAKE2b), written in the key structure.
const CHECKSUM_ALGORITHM: &[u8; 2] = b"B2";

/// The 8-byte key id minisign shows and matches signatures to keys by: the first 8 bytes of
/// the SHA-256 of the Ed25519 public key.
fn key_id(key: &VerifyingKey) -> [u8; 8] {
    let digest = Sha256::digest(key.as_bytes());
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    id
}

/// The key id as minisign prints it (`4F2A…`, 16 hex digits, the bytes read little-endian).
pub fn minisign_key_id(key: &VerifyingKey) -> String {
    format!("{:016X}", u64::from_le_bytes(key_id(key)))
}

/// `key` as a minisign public key file: an untrusted comment line and the key line, what a
/// reader saves as `truce.pub` for `minisign -V -p truce.pub -m FILE`.
pub fn minisign_public_key(key: &VerifyingKey) -> Result<String, JournalError> {
    let mut bytes = ALGORITHM.to_vec();
    bytes.extend_from_slice(&key_id(key));
    bytes.extend_from_slice(key.as_bytes());
    let public = minisign::PublicKey::from_bytes(&bytes).map_err(signing_error)?;
    let boxed = public.to_box().map_err(signing_error)?;
    Ok(boxed.to_string())
}

fn signing_error(e: minisign::PError) -> JournalError {
    JournalError::Internal {
        what: "make a minisign signature",
        source: Box::new(e),
    }
}

/// Where the signature of `file` goes: beside it, named as minisign expects (`FILE.minisig`).
pub fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".minisig");
    PathBuf::from(name)
}

impl Journal {
    /// The coordinator's signing key as a minisign public key file (see
    /// [`minisign_public_key`]); coordinators only, as only they publish.
    pub fn publication_key(&self) -> Result<String, JournalError> {
        self.require_coordinator("a publication key")?;
        minisign_public_key(&self.device.signing_key.verifying_key())
    }

    /// Writes `bytes` to `out` atomically (a report, say) and signs it as
    /// [`Journal::sign_publication`] does; returns the signature's path.
    pub fn write_publication(&self, out: &Path, bytes: &[u8]) -> Result<PathBuf, JournalError> {
        self.require_coordinator("publishing")?;
        fsutil::write_atomic(out, bytes).map_err(|e| JournalError::io("write", out, e))?;
        self.sign_publication(out)
    }

    /// Signs the published `file` with the coordinator's key and writes the detached minisign
    /// signature beside it (`FILE.minisig`, replaced atomically); returns its path. The
    /// trusted comment, which the signature also covers, names the mission, the file and the
    /// signer's fingerprint.
    pub fn sign_publication(&self, file: &Path) -> Result<PathBuf, JournalError> {
        self.require_coordinator("publishing")?;
        let key = &self.device.signing_key;
        let public = key.verifying_key();
        // minisign's secret key structure, unencrypted (the key lives in the encrypted
        // journal): algorithms, an empty KDF, the key id, seed and public key, no checksum.
        let mut secret = Zeroizing::new(Vec::with_capacity(158));
        secret.extend_from_slice(ALGORITHM);
        secret.extend_from_slice(&[0, 0]);
        secret.extend_from_slice(CHECKSUM_ALGORITHM);
        secret.extend_from_slice(&[0u8; 32 + 8 + 8]);
        secret.extend_from_slice(&key_id(&public));
        secret.extend_from_slice(key.secret_bytes().as_slice());
        secret.extend_from_slice(public.as_bytes());
        secret.extend_from_slice(&[0u8; 32]);
        let secret_key = minisign::SecretKey::from_bytes(&secret).map_err(signing_error)?;
        let public_key =
            minisign::PublicKey::from_secret_key(&secret_key).map_err(signing_error)?;

        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mission = self
            .profile
            .as_ref()
            .map_or("no mission profile", |p| p.profile.mission.as_str());
        // One line: minisign prints it after "Trusted comment:".
        let trusted = format!(
            "Truce publication: {} | mission {} | signed by coordinator {} at {}",
            name,
            mission,
            truce_sync::fingerprint(&public),
            now().to_rfc3339()
        )
        .replace(['\n', '\r'], " ");
        let reader =
            BufReader::new(File::open(file).map_err(|e| JournalError::io("read", file, e))?);
        let signature = minisign::sign(
            Some(&public_key),
            &secret_key,
            reader,
            Some(&trusted),
            Some(&format!(
                "signature from Truce coordinator key {}",
                minisign_key_id(&public)
            )),
        )
        .map_err(|e| match e.kind() {
            minisign::ErrorKind::Io => JournalError::Io {
                action: "read",
                path: file.to_path_buf(),
                cause: std::io::Error::other(e.to_string()),
            },
            _ => signing_error(e),
        })?;
        let out = signature_path(file);
        fsutil::write_atomic(&out, signature.to_string().as_bytes())
            .map_err(|e| JournalError::io("write", &out, e))?;
        Ok(out)
    }
}
