//! Recording: new observations, amendments, drafts, and reading the journal back.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};
use truce_sync::{NewObservationDefaults, Observation, ObservationKey, ObservationRevision};
use uuid::Uuid;

use super::error::JournalError;
use super::{now, Journal};

/// An unfinished report (a partial schema v1 object) and when it was saved (RFC 3339).
pub type Draft = (Map<String, Value>, String);

/// Largest draft kept, in bytes of JSON.
pub const DRAFT_MAX_BYTES: usize = 1024 * 1024;

impl Journal {
    /// Validates and durably saves a new observation given as a JSON object (schema v1).
    /// Fills `id` and `observed_at` when absent, and the device metadata.
    pub fn record(
        &mut self,
        input: Map<String, Value>,
    ) -> Result<ObservationRevision, JournalError> {
        let now = now();
        let defaults = NewObservationDefaults {
            id: Uuid::now_v7(),
            now,
        };
        let observation = Observation::from_new_json(input, defaults, &self.taxonomy)?;
        self.require_held(&observation, &[])?;
        let revision = self.revision_of(observation, 1, now);
        self.store.insert_new(&revision, &[])?;
        Ok(revision)
    }

    /// Adds a revision to an observation from a partial JSON object; the history is kept.
    pub fn amend(
        &mut self,
        id_or_prefix: &str,
        patch: Map<String, Value>,
    ) -> Result<ObservationRevision, JournalError> {
        let current = self.own_latest(id_or_prefix)?;
        let observation = current.observation.amended(patch, &self.taxonomy)?;
        self.require_held(&observation, &[])?;
        let revision = self.revision_of(observation, current.revision + 1, now());
        self.store.append_revision(&revision, &[])?;
        Ok(revision)
    }

    /// The latest revision of an observation this device made; another device's is refused,
    /// as only its observer may change it.
    pub(crate) fn own_latest(
        &self,
        id_or_prefix: &str,
    ) -> Result<ObservationRevision, JournalError> {
        let mut history = self.show(id_or_prefix)?;
        let current = history
            .pop()
            .ok_or_else(|| JournalError::UnknownObservation(id_or_prefix.to_owned()))?;
        if current.device_id != self.device.device_id {
            return Err(JournalError::Refused(format!(
                "observation {} was recorded on another device ({}); only its observer can amend it",
                current.observation.id, current.observer
            )));
        }
        Ok(current)
    }

    pub(crate) fn revision_of(
        &self,
        observation: Observation,
        revision: u32,
        now: DateTime<FixedOffset>,
    ) -> ObservationRevision {
        ObservationRevision {
            observation,
            revision,
            recorded_at: now,
            device_id: self.device.device_id,
            observer: self.device.observer.clone(),
        }
    }

    /// Keeps an unfinished report (any partial JSON object, not validated) inside the encrypted
    /// journal, replacing the previous draft, so it survives closing the app.
    pub fn save_draft(&self, draft: &Map<String, Value>) -> Result<(), JournalError> {
        let body = Value::Object(draft.clone()).to_string();
        if body.len() > DRAFT_MAX_BYTES {
            return Err(JournalError::Refused(
                "the draft is larger than 1 MiB".into(),
            ));
        }
        Ok(self.store.save_draft(&body, &now().to_rfc3339())?)
    }

    /// The unfinished report and when it was saved, if there is one.
    pub fn draft(&self) -> Result<Option<Draft>, JournalError> {
        match self.store.draft()? {
            None => Ok(None),
            Some((body, saved_at)) => match serde_json::from_str(&body) {
                Ok(Value::Object(map)) => Ok(Some((map, saved_at))),
                _ => Err(JournalError::Damaged(
                    "the saved draft is unreadable".into(),
                )),
            },
        }
    }

    /// Discards the unfinished report.
    pub fn discard_draft(&self) -> Result<(), JournalError> {
        Ok(self.store.discard_draft()?)
    }

    /// The latest revision of every observation, newest first.
    pub fn list(&self, limit: Option<u32>) -> Result<Vec<ObservationRevision>, JournalError> {
        Ok(self.store.list_current(limit)?)
    }

    /// Every revision of one observation (by full id, or a unique beginning or end of it,
    /// optionally `@DEVICE` for an id that several devices used), oldest first.
    pub fn show(&self, id_or_prefix: &str) -> Result<Vec<ObservationRevision>, JournalError> {
        let key = self.store.resolve(id_or_prefix)?;
        Ok(self.store.history(key)?)
    }

    /// The observation `id_or_prefix` names (see [`Journal::show`]).
    pub fn resolve(&self, id_or_prefix: &str) -> Result<ObservationKey, JournalError> {
        Ok(self.store.resolve(id_or_prefix)?)
    }

    /// Which of `ids` have a revision saved on this device (a new observation or an
    /// amendment) that no bundle written so far carries ([`Self::unexported_ranges`]).
    /// Imported records never are.
    pub fn unexported_among(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashSet<Uuid>, JournalError> {
        let ranges = self.unexported_ranges()?;
        Ok(self.store.logged_in(&ranges, ids)?)
    }

    /// How many observations the journal holds.
    pub fn count(&self) -> Result<u64, JournalError> {
        Ok(self.store.count_observations()?)
    }
}
