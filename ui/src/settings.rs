//! Adapter for `SettingsAdapter`: theme, language, auto-lock timeout, wipe after failed unlocks,
//! passphrase change, device facts and the emergency wipe.
//!
//! Theme, language, auto-lock and wipe-after survive restarts in [`SETTINGS_FILE`], a small
//! JSON file in the data folder (nothing secret, no record data), replaced atomically on the
//! journal thread; the emergency wipe deletes it with the journal.

use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use age::secrecy::SecretString;
use slint::ComponentHandle;

use truce_core::fsutil;
use truce_core::journal::{Journal, JournalError, SETTINGS_FILE};
use truce_core::keyfile::MIN_PASSPHRASE_CHARS;

use crate::rows::session_error;
use crate::state::{on_app_with, App, Event, DEFAULT_AUTO_LOCK};
use crate::ui::{
    AppAdapter, AppWindow, Screen, SessionAdapter, SessionError, SettingsAdapter, Theme,
};

/// What the wipe confirmation field must hold.
pub const WIPE_WORD: &str = "WIPE";

/// The wipe-after choices offered (0: off): the unlock policy's.
pub use truce_core::unlock_policy::WIPE_AFTER_CHOICES;

/// The settings kept between runs. Unknown or missing members keep their defaults.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Saved {
    /// The dark theme.
    pub dark: bool,
    /// "en" or "fr".
    pub language: String,
    /// Minutes without a touch before the journal locks.
    pub auto_lock_minutes: u32,
    /// Wrong passphrases in a row before the journal is wiped (0: never).
    pub wipe_after: u32,
}

impl Default for Saved {
    fn default() -> Self {
        Saved {
            dark: false,
            language: String::new(),
            auto_lock_minutes: (DEFAULT_AUTO_LOCK.as_secs() / 60) as u32,
            wipe_after: 0,
        }
    }
}

impl Saved {
    /// The settings file in `dir`, if there is a readable one.
    pub(crate) fn read(dir: &Path) -> Option<Saved> {
        let text = std::fs::read_to_string(dir.join(SETTINGS_FILE)).ok()?;
        match serde_json::from_str::<Saved>(&text) {
            Ok(saved) => Some(saved.checked()),
            Err(e) => {
                tracing::warn!("the settings file is unreadable, defaults apply: {e}");
                None
            }
        }
    }

    /// Values outside what the screen offers fall back to safe ones.
    fn checked(mut self) -> Saved {
        self.auto_lock_minutes = self.auto_lock_minutes.clamp(1, 24 * 60);
        if !WIPE_AFTER_CHOICES.contains(&self.wipe_after) {
            // Never weaker than asked: the nearest offered limit at or below, never "off".
            self.wipe_after = WIPE_AFTER_CHOICES
                .iter()
                .rev()
                .copied()
                .find(|c| *c != 0 && *c <= self.wipe_after)
                .unwrap_or(5);
        }
        if !LANGUAGES.contains(&self.language.as_str()) {
            self.language = String::new();
        }
        self
    }

    /// Writes the settings file atomically (temp file, fsync, rename).
    pub(crate) fn write(&self, dir: &Path) -> Result<(), JournalError> {
        let path = dir.join(SETTINGS_FILE);
        let body = serde_json::to_vec_pretty(self)
            .map_err(|e| JournalError::Refused(format!("cannot encode the settings: {e}")))?;
        fsutil::write_atomic(&path, &body).map_err(|cause| JournalError::Io {
            action: "save the settings to",
            path,
            cause,
        })
    }

    /// The settings the window shows now.
    fn of(window: &AppWindow) -> Saved {
        let adapter = window.global::<SettingsAdapter>();
        Saved {
            dark: window.global::<Theme>().get_dark(),
            language: adapter.get_language().into(),
            auto_lock_minutes: adapter.get_auto_lock_minutes().max(1) as u32,
            wipe_after: adapter.get_wipe_after().max(0) as u32,
        }
    }
}

/// Saves what the settings screen shows, on the journal thread (the folder exists once a
/// journal does; before that there is nothing to keep).
fn persist(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let saved = Saved::of(&w);
    let dir = app.paths.dir.clone();
    app.submit_quiet(Box::new(move |_| {
        if dir.is_dir() {
            if let Err(e) = saved.write(&dir) {
                tracing::warn!("{e}");
            }
            // The limit is the journal's unlock policy, which the command line enforces too.
            let policy = truce_core::unlock_policy::UnlockPolicy {
                wipe_after: saved.wipe_after,
            };
            if let Err(e) = policy.save(&dir) {
                tracing::warn!("cannot save the unlock policy: {e}");
            }
        }
        Box::new(|_| {})
    }));
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>, auto_lock: Duration) {
    let adapter = window.global::<SettingsAdapter>();
    adapter.set_auto_lock_minutes(auto_lock.as_secs().div_ceil(60) as i32);
    let choices: Vec<i32> = WIPE_AFTER_CHOICES.iter().map(|c| *c as i32).collect();
    adapter.set_wipe_after_choices(slint::ModelRc::new(slint::VecModel::from(choices)));
    adapter.set_wipe_after(0);
    // Settings kept from an earlier run win over the defaults given to `init`.
    if let Some(saved) = Saved::read(&app.paths.dir) {
        window.global::<Theme>().set_dark(saved.dark);
        if !saved.language.is_empty() {
            set_language(window, &saved.language);
        }
        adapter.set_auto_lock_minutes(saved.auto_lock_minutes as i32);
        app.auto_lock
            .set(Duration::from_secs(u64::from(saved.auto_lock_minutes) * 60));
    }
    // The unlock policy is the journal's own (the command line sets it too).
    adapter.set_wipe_after(
        truce_core::unlock_policy::UnlockPolicy::load(&app.paths.dir).wipe_after as i32,
    );
    clear(window);
    app.subscribe(|app, event| {
        let Some(w) = app.window() else { return };
        match event {
            Event::Unlocked(session) => show_device(&w, &session.device_id, &session.fingerprint),
            Event::RecordCount(total) => w
                .global::<SettingsAdapter>()
                .set_record_count((*total).min(i32::MAX as u64) as i32),
            Event::Locked => clear(&w),
            _ => {}
        }
    });

    adapter.on_set_wipe_after(on_app_with(app, move |app, attempts: i32| {
        let attempts = if WIPE_AFTER_CHOICES.contains(&(attempts.max(0) as u32)) {
            attempts.max(0)
        } else {
            0
        };
        if let Some(w) = app.window() {
            w.global::<SettingsAdapter>().set_wipe_after(attempts);
        }
        persist(app);
    }));

    adapter.on_set_auto_lock(on_app_with(app, move |app, minutes: i32| {
        let minutes = minutes.clamp(1, 24 * 60);
        app.auto_lock.set(Duration::from_secs(minutes as u64 * 60));
        if let Some(w) = app.window() {
            w.global::<SettingsAdapter>().set_auto_lock_minutes(minutes);
        }
        if app.is_unlocked() {
            app.start_lock_timer();
        }
        persist(app);
    }));

    adapter.on_set_dark(on_app_with(app, move |app, dark: bool| {
        if let Some(w) = app.window() {
            w.global::<Theme>().set_dark(dark);
        }
        persist(app);
    }));

    adapter.on_set_language(on_app_with(
        app,
        move |app, language: slint::SharedString| {
            if let Some(w) = app.window() {
                set_language(&w, language.as_str());
            }
            persist(app);
        },
    ));

    let weak = Rc::downgrade(app);
    adapter.on_set_duress(move |current, duress| {
        let Some(app) = weak.upgrade() else { return };
        let current = SecretString::from(current.to_string());
        let duress = SecretString::from(duress.to_string());
        app.submit(Box::new(move |journal| {
            let result = match journal.as_ref() {
                None => Ok(()),
                Some(j) => j.set_duress_passphrase(&current, Some(&duress)),
            };
            Box::new(move |app: &Rc<App>| {
                let Some(w) = app.window() else { return };
                let settings = w.global::<SettingsAdapter>();
                match result {
                    Ok(()) => {
                        settings.set_duress_set(true);
                        settings.set_duress_message("set".into());
                    }
                    Err(e) => {
                        settings.set_duress_set(false);
                        settings.set_duress_message(e.to_string().into());
                    }
                }
            })
        }));
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
        let cost = app.kdf_cost;
        app.submit(Box::new(move |journal| {
            let result = match journal.as_mut() {
                None => Ok(()),
                // Ask for the current passphrase again, then change it and re-encrypt the
                // journal with a new key (the slow part: the whole database is rewritten).
                Some(j) => j
                    .confirm_passphrase(&current)
                    .and_then(|()| j.change_passphrase(&new, cost)),
            };
            Box::new(move |app: &Rc<App>| {
                let Some(w) = app.window() else { return };
                let settings = w.global::<SettingsAdapter>();
                match result {
                    Ok(()) => settings.set_passphrase_changed(true),
                    // The journal in memory may no longer read the database: lock, and say
                    // on the unlock screen which passphrase to use.
                    Err(e @ JournalError::UnfinishedPassphraseChange(_)) => {
                        tracing::warn!("passphrase change unfinished: {e}");
                        app.lock();
                        let session = w.global::<SessionAdapter>();
                        let (error, detail) = session_error(&e);
                        session.set_error(error);
                        session.set_error_detail(detail.into());
                    }
                    Err(e) => {
                        let (error, detail) = session_error(&e);
                        settings.set_passphrase_error(error);
                        settings.set_passphrase_error_detail(detail.into());
                    }
                }
            })
        }));
    });

    adapter.on_wipe(on_app_with(
        app,
        move |app, confirmation: slint::SharedString| {
            if confirmation.as_str() != WIPE_WORD {
                return;
            }
            wipe(app);
        },
    ));
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

fn show_device(window: &AppWindow, device_id: &str, fingerprint: &str) {
    let adapter = window.global::<SettingsAdapter>();
    adapter.set_device_id(device_id.into());
    adapter.set_fingerprint(fingerprint.into());
}

/// Forgets what the settings screen showed about the journal (on lock).
fn clear(window: &AppWindow) {
    let adapter = window.global::<SettingsAdapter>();
    adapter.set_device_id("".into());
    adapter.set_fingerprint("".into());
    adapter.set_record_count(0);
    adapter.set_passphrase_error(SessionError::None);
    adapter.set_passphrase_error_detail("".into());
    adapter.set_passphrase_changed(false);
    adapter.set_wipe_error("".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bad_values_fall_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(Saved::read(dir.path()), None);
        assert_eq!(
            Saved::read(dir.path()).unwrap_or_default(),
            Saved::default()
        );
        let saved = Saved {
            dark: true,
            language: "fr".into(),
            auto_lock_minutes: 10,
            wipe_after: 5,
        };
        saved.write(dir.path()).expect("write");
        assert_eq!(Saved::read(dir.path()), Some(saved));
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(names.len(), 1, "no temp file left");

        std::fs::write(
            dir.path().join(SETTINGS_FILE),
            r#"{"dark":true,"language":"xx","auto_lock_minutes":0,"wipe_after":7,"later":1}"#,
        )
        .expect("write");
        let odd = Saved::read(dir.path()).unwrap_or_default();
        assert!(odd.dark);
        assert_eq!(odd.language, "");
        assert_eq!(odd.auto_lock_minutes, 1);
        assert_eq!(odd.wipe_after, 5, "an odd limit is never read as off");
        std::fs::write(dir.path().join(SETTINGS_FILE), "not json").expect("write");
        assert_eq!(
            Saved::read(dir.path()).unwrap_or_default(),
            Saved::default()
        );
    }
}
