//! The devices a coordinator holds bundles from, accepting one after its fingerprint was
//! confirmed with its observer, and revoking one.

use crate::journal::{now, Journal, JournalError};
use crate::model::KnownDevice;

impl Journal {
    /// Every device bundles came from, with its gaps, those still pending first.
    pub fn devices(&self) -> Result<Vec<KnownDevice>, JournalError> {
        self.require_coordinator("the device list")?;
        Ok(self.store.known_devices()?)
    }

    /// Revokes a device (stolen, lost, no longer the mission's): its bundles that go past
    /// `after_seq` (by default the last entry held of it) are quarantined from now on, entries
    /// held past it are flagged, and the next profile and receipts carry the revocation. A
    /// device revoked already may only have its cut-off moved earlier.
    pub fn revoke_device(
        &mut self,
        device_part: &str,
        reason: &str,
        after_seq: Option<u64>,
    ) -> Result<truce_sync::profile::Revocation, JournalError> {
        self.require_coordinator("revoking devices")?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(JournalError::Refused(
                "say why the device is revoked (--reason), in at most 500 characters".into(),
            ));
        }
        if let Some(c) = truce_sync::text::line_control(reason) {
            return Err(JournalError::Refused(format!(
                "the reason {}",
                truce_sync::text::line_control_message(c)
            )));
        }
        let device = self.find_device(device_part)?;
        let after_seq = after_seq.unwrap_or(device.last_seq);
        let device_key = self
            .store
            .known_device_key(device.device_id)?
            .ok_or_else(|| JournalError::Refused("that device is not known".into()))?;
        let revocation = truce_sync::profile::Revocation {
            device_id: device.device_id,
            device_key,
            after_seq,
            revoked_at: chrono::Utc::now().fixed_offset(),
            reason: reason.to_owned(),
        };
        let kept = self.store.revoke_device(&revocation)?;
        *self.alerts_cache.borrow_mut() = None;
        Ok(kept)
    }

    /// The one known device `device_part` names: a unique beginning or end of its id.
    fn find_device(&self, device_part: &str) -> Result<KnownDevice, JournalError> {
        let wanted = device_part.trim().to_ascii_lowercase();
        let devices = self.devices()?;
        let matching: Vec<&KnownDevice> = devices
            .iter()
            .filter(|d| {
                let id = d.device_id.to_string();
                !wanted.is_empty() && (id.starts_with(&wanted) || id.ends_with(&wanted))
            })
            .collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(JournalError::Refused(format!(
                "no device matches `{device_part}`; `truce devices` lists the devices bundles came from"
            ))),
            _ => Err(JournalError::Refused(format!(
                "`{device_part}` matches more than one device; give more characters of its id"
            ))),
        }
    }

    /// Accepts a device after its fingerprint was confirmed with its observer (by phone, by
    /// radio, in person): from now on its records count in alerts, reports and exports.
    /// `device_part` is a unique beginning or end of its id. Returns the device as it now
    /// stands, and whether it was pending until now.
    pub fn accept_device(
        &mut self,
        device_part: &str,
    ) -> Result<(KnownDevice, bool), JournalError> {
        self.require_coordinator("accepting devices")?;
        let device = self.find_device(device_part)?;
        let was_pending = self
            .store
            .accept_device(device.device_id, &now().to_rfc3339())?;
        *self.alerts_cache.borrow_mut() = None;
        let accepted = self
            .devices()?
            .into_iter()
            .find(|d| d.device_id == device.device_id)
            .unwrap_or(device);
        Ok((accepted, was_pending))
    }
}
