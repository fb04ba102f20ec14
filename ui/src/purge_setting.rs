//! The Settings screen's purge after receipt, on a monitor's device: the delay in force, the
//! mission's, and the device's own setting, which may only make it sooner.

use std::rc::Rc;

use slint::ComponentHandle;
use truce_core::journal::JournalError;
use truce_sync::profile::MAX_PURGE_DAYS;

use crate::state::{on_app_with, App, Event};
use crate::ui::{AppWindow, SettingsAdapter};

/// What the section shows: the delay in force, the mission's, the device's own (days).
type Purge = (Option<u32>, Option<u32>, Option<u32>);

fn read(journal: &truce_core::Journal) -> Result<Purge, JournalError> {
    Ok((
        journal.purge_after_days()?,
        journal
            .profile()?
            .and_then(|p| p.profile.purge)
            .map(|p| p.after_receipt_days),
        journal.device_purge_setting()?,
    ))
}

fn days_text(days: Option<u32>) -> slint::SharedString {
    days.map(|d| d.to_string()).unwrap_or_default().into()
}

fn show(w: &AppWindow, (in_force, mission, own): Purge) {
    let adapter = w.global::<SettingsAdapter>();
    adapter.set_purge_in_force(days_text(in_force));
    adapter.set_purge_mission(days_text(mission));
    adapter.set_purge_days(days_text(own));
}

/// The field: empty follows the mission, else whole days from 0 to [`MAX_PURGE_DAYS`].
fn parse(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) if days <= MAX_PURGE_DAYS => Ok(Some(days)),
        _ => Err(format!(
            "“{text}” is not a number of days: write a whole number from 0 (at once) to {MAX_PURGE_DAYS}, or leave it empty to follow the mission"
        )),
    }
}

/// Reads the purge facts into the screen on the journal thread.
fn load(app: &Rc<App>) {
    app.submit_quiet(Box::new(|journal| {
        let purge = journal.as_ref().map(read);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match purge {
                Some(Ok(purge)) if app.is_unlocked() => show(&w, purge),
                Some(Err(e)) => tracing::warn!("cannot read the purge setting: {e}"),
                _ => {}
            }
        })
    }));
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let adapter = window.global::<SettingsAdapter>();
    clear(window);
    adapter.on_set_purge(on_app_with(app, |app, text: slint::SharedString| {
        let Some(w) = app.window() else { return };
        let adapter = w.global::<SettingsAdapter>();
        let days = match parse(&text) {
            Ok(days) => days,
            Err(message) => {
                adapter.set_purge_message(message.into());
                return;
            }
        };
        adapter.set_purge_message("".into());
        app.submit(Box::new(move |journal| {
            let result = journal.as_mut().ok_or(JournalError::Locked).and_then(|j| {
                j.set_device_purge_setting(days)?;
                read(j)
            });
            Box::new(move |app: &Rc<App>| {
                let Some(w) = app.window() else { return };
                let adapter = w.global::<SettingsAdapter>();
                match result {
                    Ok(purge) => {
                        show(&w, purge);
                        adapter.set_purge_message("saved".into());
                    }
                    Err(e) => adapter.set_purge_message(e.to_string().into()),
                }
            })
        }));
    }));
    app.subscribe(|app, event| {
        let Some(w) = app.window() else { return };
        match event {
            Event::Unlocked(session) => {
                w.global::<SettingsAdapter>()
                    .set_monitor(!session.coordinator);
                if !session.coordinator {
                    load(app);
                }
            }
            Event::Locked => clear(&w),
            _ => {}
        }
    });
}

fn clear(window: &AppWindow) {
    let adapter = window.global::<SettingsAdapter>();
    adapter.set_monitor(false);
    adapter.set_purge_in_force("".into());
    adapter.set_purge_mission("".into());
    adapter.set_purge_days("".into());
    adapter.set_purge_message("".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_empty_or_whole_days_within_the_limit() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse(" 3 "), Ok(Some(3)));
        assert!(parse("soon").is_err());
        assert!(parse(&(MAX_PURGE_DAYS + 1).to_string()).is_err());
    }
}
