//! The Sync screen's first mission profile, for a coordinator without one: the mission's name,
//! a regional office's card, the purge policy and required enrolment, signed and written into
//! the stick's folder for every device.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use slint::ComponentHandle;
use truce_core::journal::JournalError;
use truce_sync::profile::{
    CoordinatorRole, EnrolmentPolicy, MissionProfile, PurgePolicy, MAX_PURGE_DAYS,
};

use crate::files::{read_card, stick_folder};
use crate::state::{on_app, App};
use crate::ui::{SyncAdapter, SyncOutcome};

pub(crate) fn connect(adapter: &SyncAdapter<'_>, app: &Rc<App>) {
    adapter.on_create_profile(on_app(app, create_profile));
}

/// Forgets what was typed.
pub(crate) fn clear(adapter: &SyncAdapter<'_>) {
    adapter.set_new_mission("".into());
    adapter.set_new_office_card("".into());
    adapter.set_new_purge_days("".into());
    adapter.set_new_require_enrolment(false);
}

/// What the form asks for, checked.
struct NewMission {
    name: String,
    office_card: Option<PathBuf>,
    purge_days: Option<u32>,
    require_enrolment: bool,
}

/// The purge field: empty is never, else whole days from 0 to [`MAX_PURGE_DAYS`].
fn parse_purge_days(text: &str) -> Result<Option<u32>, JournalError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) if days <= MAX_PURGE_DAYS => Ok(Some(days)),
        _ => Err(JournalError::Refused(format!(
            "“{text}” is not a number of days: write a whole number from 0 (at once) to {MAX_PURGE_DAYS}, or leave it empty so devices keep every record"
        ))),
    }
}

/// Signs the profile and writes it into `dir`; returns the file written.
fn sign_into(
    journal: &mut truce_core::Journal,
    dir: &Path,
    mission: &NewMission,
) -> Result<PathBuf, JournalError> {
    stick_folder(dir, "signed profiles")?;
    let cards = match &mission.office_card {
        Some(path) => vec![(read_card(path)?, CoordinatorRole::Regional)],
        None => Vec::new(),
    };
    let mut template = MissionProfile::new(
        &mission.name,
        uuid::Uuid::nil(),
        chrono::Utc::now().fixed_offset(),
        Vec::new(),
    );
    template.set_purge(mission.purge_days.map(|days| PurgePolicy {
        after_receipt_days: days,
    }));
    if mission.require_enrolment {
        template.set_enrolment(Some(EnrolmentPolicy { required: true }));
    }
    journal.create_profile_into(dir, &mission.name, Some(template), &cards)
}

fn create_profile(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<SyncAdapter>();
    adapter.set_outcome(SyncOutcome::None);
    adapter.set_outcome_detail("".into());
    let purge_days = match parse_purge_days(&adapter.get_new_purge_days()) {
        Ok(days) => days,
        Err(e) => {
            adapter.set_outcome(SyncOutcome::Error);
            adapter.set_outcome_detail(e.to_string().into());
            return;
        }
    };
    let card = adapter.get_new_office_card().trim().to_owned();
    let mission = NewMission {
        name: adapter.get_new_mission().trim().to_owned(),
        office_card: (!card.is_empty()).then(|| PathBuf::from(card)),
        purge_days,
        require_enrolment: adapter.get_new_require_enrolment(),
    };
    let dir = PathBuf::from(adapter.get_import_path().trim());
    app.submit(Box::new(move |journal| {
        let result = journal.as_mut().ok_or(JournalError::Locked).and_then(|j| {
            let path = sign_into(j, &dir, &mission)?;
            let signer = j
                .profile()?
                .map(|p| truce_sync::fingerprint(&p.signer_key))
                .unwrap_or_default();
            Ok((path, signer))
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<SyncAdapter>();
            match result {
                Ok((path, signer)) => {
                    adapter.set_mission(mission.name.as_str().into());
                    adapter.set_profile_signer(signer.into());
                    adapter.set_can_hand_over(true);
                    clear(&adapter);
                    adapter.set_outcome(SyncOutcome::ProfileCreated);
                    adapter.set_outcome_detail(path.display().to_string().into());
                }
                Err(e) => {
                    adapter.set_outcome(SyncOutcome::Error);
                    adapter.set_outcome_detail(e.to_string().into());
                }
            }
        })
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_days_are_empty_or_whole_days_within_the_limit() {
        assert_eq!(parse_purge_days("").ok(), Some(None));
        assert_eq!(parse_purge_days(" 7 ").ok(), Some(Some(7)));
        assert_eq!(parse_purge_days("0").ok(), Some(Some(0)));
        assert!(parse_purge_days("seven").is_err());
        assert!(parse_purge_days("-1").is_err());
        assert!(parse_purge_days(&(MAX_PURGE_DAYS + 1).to_string()).is_err());
    }
}
