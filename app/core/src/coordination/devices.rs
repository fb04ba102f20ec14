//! The devices a coordinator holds bundles from, and accepting one after its fingerprint was
//! confirmed with its observer.

use crate::journal::{now, Journal, JournalError};
use crate::model::KnownDevice;

impl Journal {
    /// Every device bundles came from, with its gaps, those still pending first.
    pub fn devices(&self) -> Result<Vec<KnownDevice>, JournalError> {
        self.require_coordinator("the device list")?;
        Ok(self.store.known_devices()?)
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
        let wanted = device_part.trim().to_ascii_lowercase();
        let devices = self.devices()?;
        let matching: Vec<&KnownDevice> = devices
            .iter()
            .filter(|d| {
                let id = d.device_id.to_string();
                !wanted.is_empty() && (id.starts_with(&wanted) || id.ends_with(&wanted))
            })
            .collect();
        let device = match matching.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(JournalError::Refused(format!(
                    "no device matches `{device_part}`; `truce devices` lists the devices bundles came from"
                )))
            }
            _ => {
                return Err(JournalError::Refused(format!(
                    "`{device_part}` matches more than one device; give more characters of its id"
                )))
            }
        };
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
