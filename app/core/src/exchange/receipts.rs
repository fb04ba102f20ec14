//! Receipts, the way back: a coordinator writes one per device it holds entries of; a device
//! applies those addressed to it (confirms entries, installs a newer profile, owes the missing
//! ranges again) and passes over the rest.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use truce_sync::profile::SignedProfile;
use truce_sync::receipt::{self, OpenedReceipt, Receipt, ReceiptError};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::export::{bundle_file_name, uncovered};
use crate::fsutil;
use crate::journal::{now, Journal, JournalError};
use crate::model::{
    DeliveryState, DeliverySummary, ReceiptApplied, ReceiptRefused, ReceiptWritten, ReceiptsRead,
};
use crate::store::ReceiptRow;

/// This device's own age identity: receipts are encrypted to its recipient. Not `Clone`,
/// redacted in `Debug`; the age crate zeroizes the secret on drop.
pub struct DeviceAgeIdentity {
    pub(super) identity: age::x25519::Identity,
}

impl std::fmt::Debug for DeviceAgeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeviceAgeIdentity(<redacted>, {})",
            self.identity.to_public()
        )
    }
}

impl From<ReceiptError> for JournalError {
    fn from(e: ReceiptError) -> Self {
        match e {
            ReceiptError::Io(e) => JournalError::io("write", Path::new("the receipt"), e),
            other => JournalError::Refused(other.to_string()),
        }
    }
}

impl Journal {
    /// This device's age identity, made on first use and kept in the encrypted journal.
    pub(crate) fn device_age_identity(&self) -> Result<DeviceAgeIdentity, JournalError> {
        if let Some(secret) = self.store.device_age_secret()? {
            let identity = age::x25519::Identity::from_str(&secret).map_err(|e| {
                JournalError::Damaged(format!("the device's receipt key is unreadable: {e}"))
            })?;
            return Ok(DeviceAgeIdentity { identity });
        }
        let identity = age::x25519::Identity::generate();
        let secret = Zeroizing::new(identity.to_string().expose_secret().to_owned());
        self.store
            .set_device_age_secret(&secret, &now().to_rfc3339())?;
        Ok(DeviceAgeIdentity { identity })
    }

    /// The device's age identity if it has one (it is made by the first export that names
    /// it), without making one.
    fn existing_device_age_identity(&self) -> Result<Option<DeviceAgeIdentity>, JournalError> {
        if self.store.device_age_secret()?.is_none() {
            return Ok(None);
        }
        self.device_age_identity().map(Some)
    }

    /// Writes one receipt per device whose bundles named a return path, into `out_dir`, each
    /// atomically: what this coordinator holds of its log, what is missing, the profile in
    /// force. Encrypted to the device and to every coordinator of the profile, signed with
    /// this coordinator's key, which the profile must list.
    pub fn write_receipts(
        &self,
        out_dir: &Path,
        mut on_written: impl FnMut(&ReceiptWritten),
    ) -> Result<Vec<ReceiptWritten>, JournalError> {
        self.require_coordinator("writing receipts")?;
        let profile = self.profile.as_ref().ok_or_else(|| {
            JournalError::Refused("no mission profile is installed: create one with `truce profile create` before writing receipts".into())
        })?;
        let own_key = self.device.signing_key.verifying_key();
        let coordinator = match profile.profile.coordinator_with_key(&own_key) {
            Some(c) => c.name.clone(),
            None if profile.signer_key == own_key || profile.profile.successor() == Some(own_key) => {
                self.device.observer.clone()
            }
            None => {
                return Err(JournalError::Refused(
                    "the mission profile does not list this coordinator's key, so devices would refuse its receipts: ask HQ to list it (`truce profile create --coordinator CARD`) and install that profile".into(),
                ))
            }
        };
        let Some(mission_id) = profile.profile.mission_id else {
            return Err(JournalError::Refused(
                "the mission profile is version 1, which devices cannot take receipts under: issue a new profile with `truce profile create`".into(),
            ));
        };
        let coordinators = profile.profile.age_recipients()?;
        let revocations = self.store.revocations()?;
        let held: HashMap<Uuid, crate::model::KnownDevice> = self
            .devices()?
            .into_iter()
            .map(|d| (d.device_id, d))
            .collect();
        let mut written = Vec::new();
        for address in self.store.receipt_addresses()? {
            let Some(device) = held.get(&address.device_id) else {
                continue;
            };
            let device_recipient = address
                .recipient
                .parse::<age::x25519::Recipient>()
                .map_err(|e| {
                    JournalError::Damaged(format!(
                        "device {}'s recipient is unreadable: {e}",
                        address.device_id
                    ))
                })?;
            let mut id = [0u8; 16];
            getrandom::getrandom(&mut id).map_err(JournalError::NoRandomness)?;
            let issued_at = chrono::Utc::now().fixed_offset();
            let missing: Vec<(u64, u64)> = device
                .gaps
                .iter()
                .copied()
                .take(receipt::MAX_MISSING_RANGES)
                .collect();
            let receipt = Receipt {
                receipt_id: hex::encode(id),
                mission: profile.profile.mission.clone(),
                mission_id,
                device_id: address.device_id,
                device_key: address.device_key.clone(),
                issued_at,
                coordinator: coordinator.clone(),
                held_through: device.last_seq,
                missing: missing.iter().map(|&(a, b)| [a, b]).collect(),
                profile: Some(profile.text.clone()),
                revocations: revocations.clone(),
            };
            let mut recipients = vec![device_recipient];
            recipients.extend(coordinators.iter().cloned());
            let path = write_sealed_file(out_dir, |file| {
                Ok(receipt::write_receipt(
                    file,
                    &receipt,
                    &self.device.signing_key,
                    &recipients,
                )?)
            })?;
            let report = ReceiptWritten {
                path,
                device_id: address.device_id,
                observer: address.observer,
                held_through: device.last_seq,
                missing,
            };
            on_written(&report);
            written.push(report);
        }
        Ok(written)
    }

    /// Applies the receipts among `files` that are addressed to this device, in order, and
    /// passes over the others (bundles, receipts for other devices) without a word. A file that
    /// fails a check (forged, damaged, for another mission, not a Truce file) is refused with
    /// its reason and changes nothing, and the rest are still read. Only a fault of the
    /// journal itself (the disk) stops the run; receipts applied before it stay applied.
    pub fn import_receipts(
        &mut self,
        files: &[PathBuf],
        mut on_applied: impl FnMut(&ReceiptApplied),
    ) -> Result<ReceiptsRead, JournalError> {
        let mut read = ReceiptsRead::default();
        for path in files {
            match self.import_receipt(path) {
                Ok(report) => {
                    on_applied(&report);
                    read.applied.push(report);
                }
                Err(JournalError::Receipt {
                    reason: ReceiptError::NotForThisDevice,
                    ..
                }) => read.passed_over += 1,
                // A forged, damaged or foreign file is refused like a hostile bundle: named
                // with its reason, and the others are still read.
                Err(JournalError::Receipt { file, reason }) => read.refused.push(ReceiptRefused {
                    file,
                    reason: reason.to_string(),
                }),
                Err(e) => return Err(e),
            }
        }
        Ok(read)
    }

    /// Applies one receipt: decrypts it with this device's key, checks who signed it (a
    /// coordinator the installed profile lists), that it answers this device of this mission,
    /// and the profile it carries; then keeps it, and installs that profile if it is newer,
    /// in one transaction. A receipt applied before changes nothing.
    pub fn import_receipt(&mut self, path: &Path) -> Result<ReceiptApplied, JournalError> {
        let refused = |reason: ReceiptError| JournalError::Receipt {
            file: path.to_path_buf(),
            reason,
        };
        if self.device.role != truce_sync::Role::Monitor {
            return Err(JournalError::Refused(
                "receipts are for monitors' devices; a coordinator imports bundles".into(),
            ));
        }
        let identity = self
            .existing_device_age_identity()?
            .ok_or_else(|| refused(ReceiptError::NotForThisDevice))?;
        let file = File::open(path).map_err(|e| JournalError::io("read", path, e))?;
        let opened = receipt::open_receipt(file, &identity.identity).map_err(refused)?;
        let installed = self.profile.clone().ok_or_else(|| {
            refused(ReceiptError::Invalid(
                "this device has no mission profile to check its signer against".into(),
            ))
        })?;
        let new_profile = self
            .check_receipt(&opened, &installed)
            .map_err(|reason| refused(ReceiptError::Invalid(reason)))?;
        let r = &opened.receipt;
        let before = self.delivery_ranges()?.0;
        let row = ReceiptRow {
            receipt_id: r.receipt_id.clone(),
            signer_key: hex::encode(opened.signer_key.as_bytes()),
            coordinator: r.coordinator.clone(),
            issued_at: r.issued_at.to_rfc3339(),
            applied_at: now().to_rfc3339(),
            held_through: r.held_through,
            missing: r.missing.iter().map(|&[a, b]| (a, b)).collect(),
            exports_before: self.store.last_export_row()?,
        };
        let at = now().to_rfc3339();
        let fresh = self.store.apply_receipt(
            &row,
            new_profile.as_ref().map(|p| (p.text.as_str(), at.as_str())),
        )?;
        let mut profile_installed = None;
        if fresh {
            if let Some(p) = new_profile {
                profile_installed = p.profile.sequence;
                self.taxonomy = p.profile.taxonomy.clone();
                self.profile = Some(p);
            }
        }
        let after = self.delivery_ranges()?.0;
        Ok(ReceiptApplied {
            file: path.to_path_buf(),
            coordinator: r.coordinator.clone(),
            held_through: r.held_through,
            missing: row.missing,
            newly_confirmed: count(&after).saturating_sub(count(&before)),
            profile_installed,
            applied_already: !fresh,
        })
    }

    /// The checks of a decrypted, signature-verified receipt against this device and its
    /// installed profile; returns the newer profile it brings, if any.
    fn check_receipt(
        &self,
        opened: &OpenedReceipt,
        installed: &SignedProfile,
    ) -> Result<Option<SignedProfile>, String> {
        let r = &opened.receipt;
        let own_key = hex::encode(self.device.signing_key.verifying_key().as_bytes());
        if r.device_id != self.device.device_id || r.device_key != own_key {
            return Err(format!(
                "it answers device {}, not this one ({})",
                r.device_id, self.device.device_id
            ));
        }
        if installed.profile.mission_id != Some(r.mission_id) {
            return Err(format!(
                "it is for mission “{}” ({}), not this device's",
                r.mission, r.mission_id
            ));
        }
        // The profile the receipt carries, when it replaces the installed one (its signer, a
        // successor, or through the hand-overs it carries), is the one that lists who signs.
        let carried = match &r.profile {
            Some(text) => {
                let carried = SignedProfile::open(text).map_err(|e| format!("its profile: {e}"))?;
                match carried.may_replace(installed) {
                    Ok(()) => Some(carried),
                    _ if carried.text == installed.text => None,
                    // An older profile than the one installed: a receipt written before the
                    // device took the newer one. Its confirmations still hold.
                    Err(truce_sync::profile::ProfileError::Older { .. }) => None,
                    Err(e) => return Err(format!("its profile: {e}")),
                }
            }
            None => None,
        };
        let lists_signer = |p: &SignedProfile| {
            opened.signer_key == p.signer_key
                || p.profile.successor() == Some(opened.signer_key)
                || p.profile.coordinator_with_key(&opened.signer_key).is_some()
        };
        if !lists_signer(carried.as_ref().unwrap_or(installed)) {
            return Err(format!(
                "it is signed by a key the mission profile does not list ({}); only the mission's coordinators confirm",
                truce_sync::fingerprint(&opened.signer_key)
            ));
        }
        let head = self.store.log_head().map_err(|e| e.to_string())?;
        if r.held_through > head {
            return Err(format!(
                "it confirms entries up to {} and this device's log ends at {head}",
                r.held_through
            ));
        }
        Ok(carried)
    }

    /// The entries confirmed by any receipt, and those the newest receipt reported missing
    /// that no export since re-sent and no receipt confirmed: each as ranges in order.
    fn delivery_ranges(&self) -> Result<(Ranges, Ranges), JournalError> {
        let receipts = self.store.receipts()?;
        let mut held = Vec::new();
        for r in &receipts {
            held.extend(held_ranges(r.held_through, &r.missing));
        }
        let confirmed = merged(held);
        let owed = match receipts.last() {
            Some(newest) => {
                // Not what was never exported (the next export sends it anyway), nor what an
                // export since the receipt sent again.
                let mut covered = confirmed.clone();
                covered.extend(self.store.exported_ranges_after(newest.exports_before)?);
                covered.extend(self.unexported_ranges()?);
                subtract(&newest.missing, &covered)
            }
            None => Vec::new(),
        };
        Ok((confirmed, owed))
    }

    /// The ranges a receipt reported missing that the next export sends again.
    pub fn owed_again_ranges(&self) -> Result<Vec<(u64, u64)>, JournalError> {
        Ok(self.delivery_ranges()?.1)
    }

    /// What the device log holds, by where each entry stands: confirmed, awaiting, not
    /// exported; and what the next export sends again.
    pub fn delivery(&self) -> Result<DeliverySummary, JournalError> {
        let head = self.store.log_head()?;
        let (confirmed, owed_again) = self.delivery_ranges()?;
        let not_exported = count(&self.unexported_ranges()?);
        let confirmed = count(&confirmed).min(head);
        let receipts = self.store.receipts()?;
        let mut own: Vec<Uuid> = self
            .store
            .unpurged_log()?
            .into_iter()
            .filter_map(|(id, _)| Uuid::parse_str(&id).ok())
            .collect();
        own.sort_unstable();
        own.dedup();
        let unconfirmed_records = self
            .delivery_states(&own)?
            .values()
            .filter(|s| **s != DeliveryState::Received)
            .count() as u64;
        Ok(DeliverySummary {
            unconfirmed_records,
            purged_records: self.store.purged_count()?,
            entries: head,
            confirmed,
            awaiting: head.saturating_sub(confirmed).saturating_sub(not_exported),
            not_exported,
            owed_again,
            receipts: receipts.len() as u64,
            latest_receipt: receipts
                .last()
                .map(|r| (r.issued_at.clone(), r.coordinator.clone())),
        })
    }

    /// Where each of `ids` that this device recorded stands: not exported while any of its
    /// revisions is in no bundle, received once a receipt confirms all of them. Records
    /// received from other devices have no state.
    pub fn delivery_states(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, DeliveryState>, JournalError> {
        let head = self.store.log_head()?;
        if head == 0 {
            return Ok(HashMap::new());
        }
        let own = self.store.logged_in(&[(1, head)], ids)?;
        let not_exported = self.unexported_among(ids)?;
        let (confirmed, _) = self.delivery_ranges()?;
        let unconfirmed = self.store.logged_in(&uncovered(confirmed, head), ids)?;
        Ok(ids
            .iter()
            .filter(|id| own.contains(id))
            .map(|id| {
                let state = if not_exported.contains(id) {
                    DeliveryState::NotExported
                } else if unconfirmed.contains(id) {
                    DeliveryState::AwaitingConfirmation
                } else {
                    DeliveryState::Received
                };
                (*id, state)
            })
            .collect())
    }
}

/// Sequence ranges `(first, last)`, in order.
type Ranges = Vec<(u64, u64)>;

/// Writes a sealed file (a receipt, an enrolment request) into `out_dir` atomically, named
/// like a bundle (a date and a random id); `seal` writes its bytes. Returns its path.
pub(super) fn write_sealed_file(
    out_dir: &Path,
    seal: impl FnOnce(
        std::io::BufWriter<fsutil::AtomicFile>,
    ) -> Result<std::io::BufWriter<fsutil::AtomicFile>, JournalError>,
) -> Result<PathBuf, JournalError> {
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id).map_err(JournalError::NoRandomness)?;
    let path = out_dir.join(bundle_file_name(&now(), &hex::encode(id)));
    let file =
        fsutil::AtomicFile::create(&path).map_err(|e| JournalError::io("create", &path, e))?;
    let file = seal(std::io::BufWriter::new(file))?
        .into_inner()
        .map_err(|e| JournalError::io("write", &path, e.into_error()))?;
    file.commit()
        .map_err(|e| JournalError::io("write", &path, e))?;
    Ok(path)
}

/// `1..=held_through` but for `missing`.
pub(super) fn held_ranges(held_through: u64, missing: &[(u64, u64)]) -> Vec<(u64, u64)> {
    subtract(&[(1, held_through)], missing)
}

/// Ranges sorted and joined where they overlap or touch.
pub(super) fn merged(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.retain(|(a, b)| a <= b);
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// What of `ranges` none of `covered` holds, in order.
fn subtract(ranges: &[(u64, u64)], covered: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let covered = merged(covered.to_vec());
    let mut out = Vec::new();
    for &(a, b) in &merged(ranges.to_vec()) {
        let mut next = a;
        for &(c, d) in &covered {
            if d < next || c > b {
                continue;
            }
            if c > next {
                out.push((next, c - 1));
            }
            next = d.saturating_add(1);
            if next > b {
                break;
            }
        }
        if next <= b {
            out.push((next, b));
        }
    }
    out
}

fn count(ranges: &[(u64, u64)]) -> u64 {
    ranges.iter().map(|(a, b)| b - a + 1).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_arithmetic() {
        assert_eq!(
            held_ranges(10, &[(3, 4), (8, 8)]),
            vec![(1, 2), (5, 7), (9, 10)]
        );
        assert_eq!(held_ranges(0, &[]), vec![]);
        assert_eq!(
            merged(vec![(5, 7), (1, 2), (3, 3), (9, 9)]),
            vec![(1, 3), (5, 7), (9, 9)]
        );
        assert_eq!(
            subtract(&[(1, 10)], &[(2, 3), (9, 12)]),
            vec![(1, 1), (4, 8)]
        );
        assert_eq!(subtract(&[(4, 6)], &[(1, 10)]), vec![]);
        assert_eq!(subtract(&[(4, 6)], &[]), vec![(4, 6)]);
        assert_eq!(count(&[(1, 3), (7, 7)]), 4);
    }
}
