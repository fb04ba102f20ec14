//! The coordinator's age identities: the current one, made on first use and kept in the
//! encrypted journal, and every earlier one (rotated away, or imported from the coordinator it
//! succeeds), which still open what was sealed to them; all exported to or imported from one
//! file in age's own format.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use truce_sync::{fingerprint, Role};
use zeroize::Zeroizing;

use crate::fsutil;
use crate::journal::{now, Journal, JournalError};
use crate::model::{Keys, SecretImport};

/// The coordinator's age identities: the current one (what new profiles name) and the earlier
/// ones. Not `Clone`, redacted in `Debug`; the secret texts are zeroized on drop. As an
/// [`age::Identity`] it opens what was sealed to any of them.
pub struct CoordinatorIdentity {
    pub(super) identity: age::x25519::Identity,
    pub(super) earlier: Vec<age::x25519::Identity>,
}

impl std::fmt::Debug for CoordinatorIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CoordinatorIdentity(<redacted>, {}, {} earlier)",
            self.identity.to_public(),
            self.earlier.len()
        )
    }
}

impl age::Identity for CoordinatorIdentity {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        std::iter::once(&self.identity)
            .chain(&self.earlier)
            .find_map(|id| id.unwrap_stanza(stanza))
    }
}

/// Parses an identity kept in the journal.
fn parse_kept(secret: &str) -> Result<age::x25519::Identity, JournalError> {
    age::x25519::Identity::from_str(secret)
        .map_err(|e| JournalError::Damaged(format!("a coordinator key is unreadable: {e}")))
}

/// The secret text of `identity`, zeroized on drop.
fn secret_text(identity: &age::x25519::Identity) -> Zeroizing<String> {
    Zeroizing::new(identity.to_string().expose_secret().to_owned())
}

impl Journal {
    /// The coordinator's age identity, created on first use and kept in the encrypted journal.
    pub fn coordinator_identity(&self) -> Result<CoordinatorIdentity, JournalError> {
        self.require_coordinator("a coordinator key")?;
        let identity = match self.store.coordinator_secret()? {
            Some(secret) => parse_kept(&secret)?,
            None => {
                let identity = age::x25519::Identity::generate();
                self.store
                    .set_coordinator_secret(&secret_text(&identity), &now().to_rfc3339())?;
                identity
            }
        };
        let earlier = self
            .store
            .earlier_coordinator_secrets()?
            .iter()
            .map(|s| parse_kept(s))
            .collect::<Result<_, _>>()?;
        Ok(CoordinatorIdentity { identity, earlier })
    }

    /// Replaces the coordinator's age identity with a new one and keeps the old one among the
    /// earlier identities, so bundles already sealed to it still open. Devices go on sealing
    /// to the old one until a new profile (`truce profile create`) names the new one.
    /// Returns the new recipient.
    pub fn rotate_coordinator_identity(&mut self) -> Result<String, JournalError> {
        let old = self.coordinator_identity()?;
        let new = age::x25519::Identity::generate();
        self.store.rotate_coordinator_secret(
            &old.identity.to_public().to_string(),
            &secret_text(&new),
            &now().to_rfc3339(),
        )?;
        Ok(new.to_public().to_string())
    }

    /// The public keys to give to others.
    pub fn keys(&self) -> Result<Keys, JournalError> {
        let (recipient, earlier_recipients) = match self.device.role {
            Role::Coordinator => {
                let identity = self.coordinator_identity()?;
                (
                    Some(identity.identity.to_public().to_string()),
                    identity
                        .earlier
                        .iter()
                        .map(|e| e.to_public().to_string())
                        .collect(),
                )
            }
            Role::Monitor => (None, Vec::new()),
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
            earlier_recipients,
        })
    }

    /// Restores the coordinator identities saved with `keys --export-secret` (a new laptop at
    /// the same office, a backup, or the coordinator this one succeeds). Into a journal without
    /// an identity, the file's first becomes the current one; every other, and all of them
    /// into a journal that has one, are kept as earlier identities, which open what was sealed
    /// to them but are never named in a new profile. Nothing is ever replaced.
    pub fn import_coordinator_secret(&self, path: &Path) -> Result<SecretImport, JournalError> {
        self.require_coordinator("a coordinator key")?;
        let mut text = Zeroizing::new(String::new());
        std::io::Read::read_to_string(
            &mut std::io::Read::take(
                File::open(path).map_err(|e| JournalError::io("read", path, e))?,
                1024 * 1024,
            ),
            &mut text,
        )
        .map_err(|e| JournalError::io("read", path, e))?;
        let mut identities = Vec::new();
        for (n, line) in text.lines().map(str::trim).enumerate() {
            if !line.starts_with("AGE-SECRET-KEY-") {
                continue;
            }
            let identity = age::x25519::Identity::from_str(line).map_err(|e| {
                JournalError::Refused(format!(
                    "line {} of {} holds an unreadable age identity ({e}); export it again with `truce keys --export-secret`",
                    n + 1,
                    path.display()
                ))
            })?;
            identities.push(identity);
        }
        if identities.is_empty() {
            return Err(JournalError::Refused(format!(
                "{} holds no age identity (AGE-SECRET-KEY-1...); give the file `truce keys --export-secret` wrote",
                path.display()
            )));
        }
        let at = now().to_rfc3339();
        let mut current = None;
        let mut rest = identities.as_slice();
        if self.store.coordinator_secret()?.is_none() {
            if let Some((first, others)) = identities.split_first() {
                self.store
                    .set_coordinator_secret(&secret_text(first), &at)?;
                current = Some(first.to_public().to_string());
                rest = others;
            }
        }
        let held = self
            .coordinator_identity()?
            .identity
            .to_public()
            .to_string();
        let mut earlier_added = 0;
        for identity in rest {
            let recipient = identity.to_public().to_string();
            if recipient != held
                && self.store.keep_earlier_coordinator_secret(
                    &recipient,
                    &secret_text(identity),
                    "imported",
                    &at,
                )?
            {
                earlier_added += 1;
            }
        }
        if current.is_none() && earlier_added == 0 {
            return Err(JournalError::Refused(format!(
                "this journal already has every identity in {}; nothing to import",
                path.display()
            )));
        }
        Ok(SecretImport {
            current,
            earlier_added,
        })
    }

    /// Writes every coordinator identity in age's own format (for stock `age -d -i FILE`,
    /// which tries each), the current one first, readable by the owner only. Refuses to
    /// overwrite a file. Returns how many identities it wrote.
    pub fn export_coordinator_secret(&self, path: &Path) -> Result<usize, JournalError> {
        let identity = self.coordinator_identity()?;
        let mut text = Zeroizing::new(format!(
            "# Truce coordinator identities for {}, the current one first\n# public key: {}\n{}\n",
            self.device.observer,
            identity.identity.to_public(),
            secret_text(&identity.identity).as_str()
        ));
        for earlier in &identity.earlier {
            text.push_str(&format!(
                "# earlier identity (opens what was sealed to it), public key: {}\n{}\n",
                earlier.to_public(),
                secret_text(earlier).as_str()
            ));
        }
        let mut file = fsutil::private_options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| JournalError::io("create", path, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| JournalError::io("write", path, e))?;
        file.sync_all()
            .map_err(|e| JournalError::io("write", path, e))?;
        Ok(1 + identity.earlier.len())
    }
}
