//! Device identity: the signing key a device uses to vouch for what it exports, and its fingerprint.

use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A device's Ed25519 signing key. Not `Clone`, not `Serialize`; prints as redacted and is
/// zeroized on drop (ed25519-dalek's `zeroize` feature).
pub struct DeviceSigningKey(SigningKey);

/// What a device is for: recording in the field, or receiving and verifying as a coordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A field monitor or observer.
    #[default]
    Monitor,
    /// A coordinator at a regional office or HQ.
    Coordinator,
}

impl Role {
    /// The role's code, as stored and as typed on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::Monitor => "monitor",
            Role::Coordinator => "coordinator",
        }
    }

    /// The role for a code, if it is one.
    pub fn from_code(code: &str) -> Option<Role> {
        match code {
            "monitor" => Some(Role::Monitor),
            "coordinator" => Some(Role::Coordinator),
            _ => None,
        }
    }
}

/// The key bytes have the wrong length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a device signing key is 32 bytes, found {0}; the journal's device identity is damaged")]
pub struct KeyLengthError(pub usize);

impl DeviceSigningKey {
    /// Builds the key from 32 secret bytes (fresh randomness at `init`, or the stored key).
    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        DeviceSigningKey(SigningKey::from_bytes(secret))
    }

    /// Builds the key from a stored slice, refusing any length but 32.
    pub fn from_slice(secret: &[u8]) -> Result<Self, KeyLengthError> {
        let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
            secret
                .try_into()
                .map_err(|_| KeyLengthError(secret.len()))?,
        );
        Ok(Self::from_bytes(&bytes))
    }

    /// The secret bytes, to be stored inside the encrypted journal only.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The key itself, for signing inside this crate.
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.0
    }

    /// The public half, which coordinators use to check signatures.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// A short, human-comparable fingerprint of the public key.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.verifying_key())
    }
}

impl std::fmt::Debug for DeviceSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeviceSigningKey(<redacted>, fingerprint {})",
            self.fingerprint()
        )
    }
}

/// Fingerprint of a device's public key: the first 16 bytes of its SHA-256, as 4-character groups
/// (`3f2a 91c0 ...`), easy to read aloud over a radio or phone.
pub fn fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex = hex::encode(&digest[..16]);
    hex.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_bytes_round_trip() {
        let secret = [7u8; 32];
        let key = DeviceSigningKey::from_bytes(&secret);
        let debug = format!("{key:?}");
        assert!(debug.contains("redacted"));
        assert!(!debug.contains(&hex::encode(secret)));
        let again = DeviceSigningKey::from_slice(&key.secret_bytes()[..]).expect("32 bytes");
        assert_eq!(again.verifying_key(), key.verifying_key());
        assert_eq!(again.fingerprint(), key.fingerprint());
        assert_eq!(key.fingerprint().len(), 32 + 7);
    }

    #[test]
    fn wrong_length_is_refused() {
        assert_eq!(
            DeviceSigningKey::from_slice(&[1u8; 31]).err(),
            Some(KeyLengthError(31))
        );
    }

    #[test]
    fn different_keys_have_different_fingerprints() {
        let a = DeviceSigningKey::from_bytes(&[1u8; 32]);
        let b = DeviceSigningKey::from_bytes(&[2u8; 32]);
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
