//! Verifying: the status a coordinator gives an observation, with a note, kept as a trail.

use truce_sync::verification::VerificationStatus;

use crate::journal::{now, Journal, JournalError};
use crate::model::VerificationEvent;

/// Longest verification note, in characters.
pub const NOTE_MAX_CHARS: usize = 2_000;

impl Journal {
    /// Gives an observation a verification status, with a note; kept with who and when. The
    /// record itself is not touched.
    pub fn verify(
        &self,
        id_part: &str,
        status: VerificationStatus,
        note: &str,
    ) -> Result<VerificationEvent, JournalError> {
        self.require_coordinator("verification")?;
        let note = note.trim();
        if note.is_empty() {
            return Err(JournalError::Refused(
                "a verification needs a note saying why (--note TEXT)".into(),
            ));
        }
        if note.chars().count() > NOTE_MAX_CHARS {
            return Err(JournalError::Refused(format!(
                "the note is longer than {NOTE_MAX_CHARS} characters"
            )));
        }
        let key = self.store.resolve(id_part)?;
        let event = VerificationEvent {
            status,
            note: note.to_owned(),
            by_observer: self.device.observer.clone(),
            by_device: self.device.device_id,
            at: now().to_rfc3339(),
        };
        self.store.add_verification(key, &event)?;
        Ok(event)
    }

    /// An observation's verification trail, oldest first (empty: unverified).
    pub fn verification_trail(
        &self,
        id_part: &str,
    ) -> Result<Vec<VerificationEvent>, JournalError> {
        let key = self.store.resolve(id_part)?;
        Ok(self.store.verification_trail(key)?)
    }
}
