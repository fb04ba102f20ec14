//! Relay through a regional office: the office keeps each bundle file it imported, byte for
//! byte, writes the ones HQ has not had yet for the courier (`truce forward`), and learns from
//! HQ's receipts which it may let go. HQ verifies the device signatures itself.

use std::path::{Path, PathBuf};

use truce_sync::profile::CoordinatorRole;
use truce_sync::receipt::{self, ReceiptError};

use crate::fsutil;
use crate::journal::{now, Journal, JournalError};
use crate::model::{ForwardedBundle, ImportReport};
use crate::store::KeptBundle;

/// The journal's folder of bundle files kept for HQ.
const FORWARD_FOLDER: &str = "forward";

impl Journal {
    /// Whether the installed profile lists this coordinator as a regional office.
    pub fn is_regional_office(&self) -> bool {
        let own = self.device.signing_key.verifying_key();
        self.device.role == truce_sync::Role::Coordinator
            && self
                .profile
                .as_ref()
                .and_then(|p| p.profile.coordinator_with_key(&own).map(|c| c.role))
                == Some(CoordinatorRole::Regional)
    }

    fn forward_folder(&self) -> PathBuf {
        self.paths.dir.join(FORWARD_FOLDER)
    }

    /// Keeps an imported bundle's file as it arrived, for HQ.
    pub(super) fn keep_for_forwarding(&self, report: &ImportReport) -> Result<(), JournalError> {
        let (Some(device_id), Some((bundle_id, first_seq, last_seq))) =
            (report.device_id, report.bundle.clone())
        else {
            return Ok(());
        };
        let folder = self.forward_folder();
        fsutil::create_private_dir(&folder).map_err(|e| JournalError::io("create", &folder, e))?;
        let file = format!("{device_id}-{bundle_id}-{first_seq}-{last_seq}.age");
        let target = folder.join(&file);
        if !target.exists() {
            let bytes = std::fs::read(&report.file)
                .map_err(|e| JournalError::io("read", &report.file, e))?;
            fsutil::write_atomic(&target, &bytes)
                .map_err(|e| JournalError::io("write", &target, e))?;
        }
        let name = report
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.clone());
        self.store.keep_forward_bundle(
            &KeptBundle {
                device_id,
                bundle_id,
                first_seq,
                last_seq,
                file,
                name,
            },
            &now().to_rfc3339(),
        )?;
        Ok(())
    }

    /// Writes every kept bundle HQ has not had from this office into `out_dir`, byte for byte
    /// under the name it arrived with, each atomically; they count as forwarded once written.
    pub fn forward(&self, out_dir: &Path) -> Result<Vec<ForwardedBundle>, JournalError> {
        if !self.is_regional_office() {
            return Err(JournalError::Refused(
                "only a regional office forwards bundles: the installed profile does not list this coordinator as one".into(),
            ));
        }
        let folder = self.forward_folder();
        let mut written = Vec::new();
        for kept in self.store.bundles_to_forward()? {
            let from = folder.join(&kept.file);
            let bytes = std::fs::read(&from).map_err(|e| JournalError::io("read", &from, e))?;
            let to = out_dir.join(&kept.name);
            fsutil::write_atomic(&to, &bytes).map_err(|e| JournalError::io("write", &to, e))?;
            self.store.mark_forwarded(&kept.file, &now().to_rfc3339())?;
            written.push(ForwardedBundle {
                path: to,
                device_id: kept.device_id,
                first_seq: kept.first_seq,
                last_seq: kept.last_seq,
            });
        }
        Ok(written)
    }

    /// HQ's receipts among `files` (sealed to every coordinator): what HQ holds of each
    /// device; the kept bundles it holds whole are let go. A receipt not signed by HQ is
    /// ignored. Returns how many kept bundles HQ confirmed.
    pub(super) fn take_upstream_receipts(&self, files: &[PathBuf]) -> Result<u64, JournalError> {
        let Some(profile) = self.profile.clone() else {
            return Ok(0);
        };
        let identity = self.coordinator_identity()?;
        let at = now().to_rfc3339();
        for path in files {
            let Ok(file) = std::fs::File::open(path) else {
                continue;
            };
            let opened = match receipt::open_receipt(file, &identity) {
                Ok(opened) => opened,
                Err(ReceiptError::OtherFormat(_) | ReceiptError::NotForThisDevice) => continue,
                Err(_) => continue,
            };
            let by_hq = opened.signer_key == profile.signer_key
                || profile
                    .profile
                    .coordinator_with_key(&opened.signer_key)
                    .is_some_and(|c| c.role == CoordinatorRole::Hq);
            if !by_hq || profile.profile.mission_id != Some(opened.receipt.mission_id) {
                continue;
            }
            let r = &opened.receipt;
            let missing: Vec<(u64, u64)> = r.missing.iter().map(|&[a, b]| (a, b)).collect();
            self.store.keep_upstream_receipt(
                r.device_id,
                r.held_through,
                &missing,
                &r.receipt_id,
                &at,
            )?;
        }
        let mut confirmed = 0;
        let folder = self.forward_folder();
        for kept in self.store.unconfirmed_forward_bundles()? {
            let Some((held, missing)) = self.store.upstream_receipt(kept.device_id)? else {
                continue;
            };
            let whole = kept.last_seq <= held
                && !missing
                    .iter()
                    .any(|&(a, b)| a <= kept.last_seq && b >= kept.first_seq);
            if whole {
                self.store.mark_confirmed_upstream(&kept.file, &at)?;
                fsutil::remove_if_exists(&folder.join(&kept.file))
                    .map_err(|e| JournalError::io("remove", &folder.join(&kept.file), e))?;
                confirmed += 1;
            }
        }
        Ok(confirmed)
    }

    /// Kept bundles HQ has not confirmed yet, and of those, how many were never forwarded.
    pub fn forwarding_status(&self) -> Result<(u64, u64), JournalError> {
        Ok((
            self.store.unconfirmed_forward_bundles()?.len() as u64,
            self.store.bundles_to_forward()?.len() as u64,
        ))
    }
}
