//! Adapter for `SettingsAdapter`: theme, auto-lock timeout, passphrase change, device facts and
//! the emergency wipe.

use std::rc::Rc;
use std::time::Duration;

use age::secrecy::SecretString;
use slint::ComponentHandle;

use crate::journal::{Journal, JournalError};
use crate::keyfile::MIN_PASSPHRASE_CHARS;

use super::session::session_error;
use super::ui::{AppAdapter, AppWindow, Screen, SessionError, SettingsAdapter, Theme};
use super::App;

/// What the wipe confirmation field must hold.
pub const WIPE_WORD: &str = "WIPE";

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>, auto_lock: Duration) {
    let adapter = window.global::<SettingsAdapter>();
    adapter.set_auto_lock_minutes(auto_lock.as_secs().div_ceil(60) as i32);
    clear(window);

    let weak = Rc::downgrade(app);
    adapter.on_set_auto_lock(move |minutes| {
        let Some(app) = weak.upgrade() else { return };
        let minutes = minutes.clamp(1, 24 * 60);
        app.auto_lock.set(Duration::from_secs(minutes as u64 * 60));
        if let Some(w) = app.window() {
            w.global::<SettingsAdapter>().set_auto_lock_minutes(minutes);
        }
        if app.unlocked.get() {
            app.start_lock_timer();
        }
    });

    let weak = Rc::downgrade(app);
    adapter.on_set_dark(move |dark| {
        if let Some(w) = weak.upgrade().and_then(|a| a.window()) {
            w.global::<Theme>().set_dark(dark);
        }
    });

    let weak = Rc::downgrade(app);
    adapter.on_set_language(move |language| {
        if let Some(w) = weak.upgrade().and_then(|a| a.window()) {
            set_language(&w, language.as_str());
        }
    });

    let weak = Rc::downgrade(app);
    adapter.on_change_passphrase(move |current, new, confirm| {
        let Some(app) = weak.upgrade() else { return };
        let Some(w) = app.window() else { return };
        let settings = w.global::<SettingsAdapter>();
        settings.set_passphrase_changed(false);
        let refuse = if new.chars().count() < MIN_PASSPHRASE_CHARS {
            Some(SessionError::TooShort)
        } else if new != confirm {
            Some(SessionError::Mismatch)
        } else {
            None
        };
        settings.set_passphrase_error(refuse.unwrap_or(SessionError::None));
        settings.set_passphrase_error_detail("".into());
        if refuse.is_some() {
            return;
        }
        let current = SecretString::from(current.to_string());
        let new = SecretString::from(new.to_string());
        let dir = app.paths.dir.clone();
        let cost = app.kdf_cost;
        app.submit(Box::new(move |journal| {
            let result = match journal.as_ref() {
                None => Ok(()),
                // Re-authenticate with the current passphrase before rewrapping the key.
                Some(j) => Journal::open(&dir, &current)
                    .map(drop)
                    .and_then(|()| j.change_passphrase(&new, cost)),
            };
            Box::new(move |app: &Rc<App>| {
                let Some(w) = app.window() else { return };
                let settings = w.global::<SettingsAdapter>();
                match result {
                    Ok(()) => settings.set_passphrase_changed(true),
                    Err(e) => {
                        let (error, detail) = session_error(&e);
                        settings.set_passphrase_error(error);
                        settings.set_passphrase_error_detail(detail.into());
                    }
                }
            })
        }));
    });

    let weak = Rc::downgrade(app);
    adapter.on_wipe(move |confirmation| {
        let Some(app) = weak.upgrade() else { return };
        if confirmation.as_str() != WIPE_WORD {
            return;
        }
        wipe(&app);
    });
}

/// Emergency wipe: locks (the journal thread drops the keys), then destroys the key file and
/// the database there, and shows first-run setup.
fn wipe(app: &Rc<App>) {
    app.lock_without_draft();
    let dir = app.paths.dir.clone();
    app.submit_quiet(Box::new(move |journal| {
        *journal = None;
        let result = Journal::wipe(&dir);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok(report) => {
                    tracing::info!(
                        "wiped: key destroyed {}, {} files removed",
                        report.key_destroyed,
                        report.files_removed
                    );
                    w.global::<AppAdapter>().set_screen(Screen::Setup);
                }
                Err(e) => {
                    w.global::<SettingsAdapter>()
                        .set_wipe_error(wipe_message(&e).into());
                    w.global::<AppAdapter>().set_screen(Screen::Unlock);
                }
            }
        })
    }));
}

fn wipe_message(e: &JournalError) -> String {
    format!("The wipe did not finish: {e}. Run `truce wipe --yes` or delete the data folder.")
}

/// Languages with a bundled translation, besides English (the markup's own).
pub const LANGUAGES: [&str; 2] = ["en", "fr"];

/// Switches every `@tr` string to `language` ("en" or "fr"); unknown languages stay English.
pub(crate) fn set_language(window: &AppWindow, language: &str) {
    let language = if LANGUAGES.contains(&language) {
        language
    } else {
        "en"
    };
    if let Err(e) = slint::select_bundled_translation(language) {
        tracing::warn!("cannot switch to {language}: {e}");
        return;
    }
    window
        .global::<SettingsAdapter>()
        .set_language(language.into());
}

pub(crate) fn show_device(window: &AppWindow, device_id: &str, fingerprint: &str) {
    let adapter = window.global::<SettingsAdapter>();
    adapter.set_device_id(device_id.into());
    adapter.set_fingerprint(fingerprint.into());
}

pub(crate) fn refresh_count(window: &AppWindow, app: &App) {
    window
        .global::<SettingsAdapter>()
        .set_record_count(app.observations.borrow().len() as i32);
}

/// Forgets what the settings screen showed about the journal (on lock).
pub(crate) fn clear(window: &AppWindow) {
    let adapter = window.global::<SettingsAdapter>();
    adapter.set_device_id("".into());
    adapter.set_fingerprint("".into());
    adapter.set_record_count(0);
    adapter.set_passphrase_error(SessionError::None);
    adapter.set_passphrase_error_detail("".into());
    adapter.set_passphrase_changed(false);
    adapter.set_wipe_error("".into());
}
