//! The coordinator's age identity: made on first use and kept in the encrypted journal,
//! imported from or exported to a file for a second coordinator's machine.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use truce_sync::{fingerprint, Role};
use zeroize::Zeroizing;

use crate::fsutil;
use crate::journal::{now, Journal, JournalError};
use crate::model::Keys;

/// The coordinator's age identity. Not `Clone`, redacted in `Debug`; the secret text is
/// zeroized on drop.
pub struct CoordinatorIdentity {
    pub(super) identity: age::x25519::Identity,
}

impl std::fmt::Debug for CoordinatorIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CoordinatorIdentity(<redacted>, {})",
            self.identity.to_public()
        )
    }
}

impl Journal {
    /// The coordinator's age identity, created on first use and kept in the encrypted journal.
    pub fn coordinator_identity(&self) -> Result<CoordinatorIdentity, JournalError> {
        self.require_coordinator("a coordinator key")?;
        if let Some(secret) = self.store.coordinator_secret()? {
            let identity = age::x25519::Identity::from_str(&secret).map_err(|e| {
                JournalError::Damaged(format!("the coordinator key is unreadable: {e}"))
            })?;
            return Ok(CoordinatorIdentity { identity });
        }
        let identity = age::x25519::Identity::generate();
        let secret = Zeroizing::new(identity.to_string().expose_secret().to_owned());
        self.store
            .set_coordinator_secret(&secret, &now().to_rfc3339())?;
        Ok(CoordinatorIdentity { identity })
    }

    /// The public keys to give to others.
    pub fn keys(&self) -> Result<Keys, JournalError> {
        let recipient = match self.device.role {
            Role::Coordinator => Some(
                self.coordinator_identity()?
                    .identity
                    .to_public()
                    .to_string(),
            ),
            Role::Monitor => None,
        };
        let verifying = self.device.signing_key.verifying_key();
        let publication_key = match self.device.role {
            Role::Coordinator => Some(self.publication_key()?),
            Role::Monitor => None,
        };
        Ok(Keys {
            recipient,
            fingerprint: fingerprint(&verifying),
            device_key: hex::encode(verifying.as_bytes()),
            publication_key,
        })
    }

    /// Restores a coordinator identity saved with `keys --export-secret` (a new laptop at the
    /// same office, a backup). Only into a coordinator journal that has no identity yet.
    pub fn import_coordinator_secret(&self, path: &Path) -> Result<String, JournalError> {
        self.require_coordinator("a coordinator key")?;
        if self.store.coordinator_secret()?.is_some() {
            return Err(JournalError::Refused(
                "this journal already has a coordinator key; Truce never replaces one, as bundles sent to it could no longer be read".into(),
            ));
        }
        let mut text = Zeroizing::new(String::new());
        std::io::Read::read_to_string(
            &mut std::io::Read::take(
                File::open(path).map_err(|e| JournalError::io("read", path, e))?,
                64 * 1024,
            ),
            &mut text,
        )
        .map_err(|e| JournalError::io("read", path, e))?;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .ok_or_else(|| {
                JournalError::Refused(format!(
                    "{} holds no age identity (AGE-SECRET-KEY-1...)",
                    path.display()
                ))
            })?;
        let identity = age::x25519::Identity::from_str(line).map_err(|e| {
            JournalError::Refused(format!(
                "{} holds an unreadable age identity: {e}",
                path.display()
            ))
        })?;
        let secret = Zeroizing::new(identity.to_string().expose_secret().to_owned());
        self.store
            .set_coordinator_secret(&secret, &now().to_rfc3339())?;
        Ok(identity.to_public().to_string())
    }

    /// Writes the coordinator's identity in age's own format (for stock `age -d -i FILE`),
    /// readable by the owner only. Refuses to overwrite a file.
    pub fn export_coordinator_secret(&self, path: &Path) -> Result<(), JournalError> {
        let identity = self.coordinator_identity()?;
        let text = Zeroizing::new(format!(
            "# Truce coordinator identity for {}\n# public key: {}\n{}\n",
            self.device.observer,
            identity.identity.to_public(),
            identity.identity.to_string().expose_secret()
        ));
        let mut file = fsutil::private_options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| JournalError::io("create", path, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| JournalError::io("write", path, e))?;
        file.sync_all()
            .map_err(|e| JournalError::io("write", path, e))?;
        Ok(())
    }
}
