//! Enrolment: a device writes a request for the coordinators (its keys, observer and team,
//! signed and sealed); a coordinator enrols it once the fingerprint it shows matches the one
//! the observer reads from the device.

use std::fs::File;
use std::path::{Path, PathBuf};

use truce_sync::enrolment::{self, EnrolmentError, EnrolmentRequest};
use truce_sync::{fingerprint, Role};

use super::receipts::write_sealed_file;
use crate::journal::{now, Journal, JournalError};
use crate::model::{EnrolmentCheck, KnownDevice};
use crate::store::DeviceRegistration;

impl From<EnrolmentError> for JournalError {
    fn from(e: EnrolmentError) -> Self {
        match e {
            EnrolmentError::Io(e) => {
                JournalError::io("write", Path::new("the enrolment request"), e)
            }
            other => JournalError::Refused(other.to_string()),
        }
    }
}

impl Journal {
    /// Writes this device's enrolment request into `out_dir`, atomically, sealed to the
    /// mission's coordinators (and a throwaway recipient, as bundles are). Returns its path.
    pub fn write_enrolment_request(&self, out_dir: &Path) -> Result<PathBuf, JournalError> {
        if self.device.role != Role::Monitor {
            return Err(JournalError::Refused(
                "enrolment requests come from monitors' devices".into(),
            ));
        }
        let profile = self.profile.as_ref().ok_or_else(|| {
            JournalError::Refused("install the mission profile first (`truce profile import FILE`): it names the coordinators to send the request to".into())
        })?;
        let mission_id = profile.profile.mission_id.ok_or_else(|| {
            JournalError::Refused(
                "the installed mission profile is version 1, which has no enrolment: ask the coordinator for a new profile".into(),
            )
        })?;
        let mut recipients = profile.profile.age_recipients()?;
        recipients.push(age::x25519::Identity::generate().to_public());
        let request = EnrolmentRequest {
            device_id: self.device.device_id,
            device_key: hex::encode(self.device.signing_key.verifying_key().as_bytes()),
            device_recipient: self.device_age_identity()?.identity.to_public().to_string(),
            observer: self.device.observer.clone(),
            team: self.device.team.clone(),
            mission_id,
            created_at: chrono::Utc::now().fixed_offset(),
        };
        write_sealed_file(out_dir, |file| {
            Ok(enrolment::write_request(
                file,
                &request,
                &self.device.signing_key,
                &recipients,
            )?)
        })
    }

    /// Opens an enrolment request with this coordinator's key and checks it, without
    /// enrolling: what to compare with the device's observer.
    pub fn inspect_enrolment(&self, path: &Path) -> Result<EnrolmentCheck, JournalError> {
        let (request, _) = self.open_enrolment(path)?;
        let key = truce_sync::bundle::parse_device_key(&request.device_key)
            .ok_or_else(|| JournalError::Refused("the request's key is unreadable".into()))?;
        Ok(EnrolmentCheck {
            device_id: request.device_id,
            observer: request.observer,
            team: request.team,
            fingerprint: fingerprint(&key),
        })
    }

    /// Enrols the device of the request at `path`, once `confirmed_fingerprint` (read by its
    /// observer from the device) matches the request's: registered with its key, accepted,
    /// with where its receipts go. Refused if the fingerprints differ, or a device of that id
    /// is known with another key.
    pub fn enrol_device(
        &mut self,
        path: &Path,
        confirmed_fingerprint: &str,
    ) -> Result<KnownDevice, JournalError> {
        let (request, key) = self.open_enrolment(path)?;
        let shown = fingerprint(&key);
        let same = |a: &str, b: &str| {
            let norm = |s: &str| {
                s.chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_lowercase()
            };
            norm(a) == norm(b)
        };
        if !same(&shown, confirmed_fingerprint) {
            return Err(JournalError::Refused(format!(
                "the fingerprint given ({}) is not the request's ({shown}): nothing was enrolled. Read it again from the device (`truce keys`), and if it still differs, the request is not from that device",
                confirmed_fingerprint.trim()
            )));
        }
        if let Some(known) = self.store.known_device_key(request.device_id)? {
            if known != request.device_key {
                return Err(JournalError::Refused(format!(
                    "device {} is known with another key; this request is signed by {shown}. Possible impersonation: nothing was enrolled",
                    request.device_id
                )));
            }
        }
        self.store.enrol_device(
            &DeviceRegistration {
                device_id: request.device_id,
                device_key: request.device_key.clone(),
                observer: request.observer.clone(),
                accepted: true,
                enrolled: true,
            },
            &request.device_recipient,
            request.team.as_deref(),
            &now().to_rfc3339(),
        )?;
        *self.alerts_cache.borrow_mut() = None;
        self.devices()?
            .into_iter()
            .find(|d| d.device_id == request.device_id)
            .ok_or_else(|| JournalError::Damaged("the device just enrolled is missing".into()))
    }

    fn open_enrolment(
        &self,
        path: &Path,
    ) -> Result<(EnrolmentRequest, ed25519_dalek::VerifyingKey), JournalError> {
        let identity = self.coordinator_identity()?;
        let file = File::open(path).map_err(|e| JournalError::io("read", path, e))?;
        let (request, key) = enrolment::open_request(file, &identity)?;
        let mission = self.profile.as_ref().and_then(|p| p.profile.mission_id);
        if mission != Some(request.mission_id) {
            return Err(JournalError::Refused(format!(
                "this request is for mission {}, not this coordinator's",
                request.mission_id
            )));
        }
        Ok((request, key))
    }
}
