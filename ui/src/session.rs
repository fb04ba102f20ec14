//! Adapter for `SessionAdapter`: first-run setup and unlock. Key derivation runs on the journal
//! thread; the window shows a progress indicator meanwhile.
//!
//! Wipe after failed unlocks (off by default, set in Settings): wrong passphrases in a row are
//! counted in a small non-secret file in the data folder ([`UNLOCK_FAILURES_FILE`], replaced
//! atomically), reset by a successful unlock; at the limit the journal is wiped with
//! `Journal::wipe` and the window says so on first-run setup.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use age::secrecy::SecretString;
use slint::ComponentHandle;
use truce_sync::profile::SignedProfile;
use truce_sync::Role;

use truce_core::journal::{Journal, JournalError, Profile};
use truce_core::keyfile::MIN_PASSPHRASE_CHARS;

use crate::files::read_profile;
use crate::format;
use crate::rows::session_error;
use crate::state::{on_app_with, App, Session, Vocabulary};
use crate::ui::{AppAdapter, AppWindow, Screen, SessionAdapter, SessionError};

/// What the journal thread hands back after an unlock or a create: the session, and the
/// mission profile's codes (the built-in taxonomy and no parties without a profile).
struct Opened {
    session: Session,
    vocabulary: Vocabulary,
}

/// Wrong passphrases left before the wipe (0: the policy is off).
pub(crate) fn attempts_left(dir: &Path) -> i32 {
    truce_core::unlock_policy::attempts_left(dir).map_or(0, |n| n.min(i32::MAX as u32) as i32)
}

/// What an unlock attempt led to.
enum Unlock {
    Opened(Box<Result<Opened, JournalError>>),
    /// Too many wrong passphrases: the journal was wiped (or the wipe failed: the error).
    Wiped(Result<(), JournalError>),
    /// No journal any more (the duress passphrase wiped it): the first run.
    Fresh,
}

fn opened(journal: &Journal) -> Result<Opened, JournalError> {
    let device = journal.device();
    let session = Session {
        observer: device.observer,
        team: device.team,
        device_id: device.device_id.to_string(),
        fingerprint: device.fingerprint,
        coordinator: device.role == Role::Coordinator,
        // An unreadable draft must not keep the journal locked: it is left out.
        draft: match journal.draft() {
            Ok(draft) => draft,
            Err(e) => {
                tracing::warn!("the draft is left out: {e}");
                None
            }
        },
    };
    // The journal list loads its first page itself (see `journal_view`).
    Ok(Opened {
        session,
        vocabulary: Vocabulary {
            taxonomy: journal.taxonomy().clone(),
            parties: journal
                .profile()?
                .map(|p| p.profile.parties)
                .unwrap_or_default(),
            zone: journal.mission_zone(),
        },
    })
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let session = window.global::<SessionAdapter>();
    session.set_data_dir(app.paths.dir.display().to_string().into());
    session.set_attempts_left(attempts_left(&app.paths.dir));
    session.on_strength(|p| format::strength(p.as_str()));

    session.on_unlock(on_app_with(
        app,
        move |app, passphrase: slint::SharedString| {
            let Some(w) = app.window() else { return };
            w.global::<SessionAdapter>().set_error(SessionError::None);
            let passphrase = SecretString::from(passphrase.to_string());
            let dir = app.paths.dir.clone();
            let cost = app.kdf_cost;
            app.submit(Box::new(move |journal| {
                let result = Journal::open(&dir, &passphrase).and_then(|mut j| {
                    // Purge after receipt, while the passphrase is at hand to re-encrypt.
                    if let Some(purged) = j.purge_due(&passphrase, cost)? {
                        tracing::info!(
                            "purged {} confirmed record(s) after their receipts",
                            purged.observations
                        );
                    }
                    let shown = opened(&j)?;
                    *journal = Some(j);
                    Ok(shown)
                });
                // The unlock policy is the journal's: `Journal::open` counts and wipes.
                let outcome = match result {
                    Err(JournalError::WipedAfterFailedUnlocks(..)) => Unlock::Wiped(Ok(())),
                    // The duress passphrase wiped it: the first run of a fresh install.
                    Err(JournalError::NotFound(_)) => Unlock::Fresh,
                    result => Unlock::Opened(Box::new(result)),
                };
                let left = attempts_left(&dir);
                Box::new(move |app: &Rc<App>| {
                    if let Some(w) = app.window() {
                        w.global::<SessionAdapter>().set_attempts_left(left);
                    }
                    match outcome {
                        Unlock::Opened(result) => show_opened(app, *result),
                        Unlock::Wiped(result) => show_wiped(app, result),
                        Unlock::Fresh => show_first_run(app),
                    }
                })
            }));
        },
    ));

    let weak = Rc::downgrade(app);
    session.on_create(
        move |observer, team, coordinator, passphrase, confirm, profile_path| {
            let Some(app) = weak.upgrade() else { return };
            let Some(w) = app.window() else { return };
            let session = w.global::<SessionAdapter>();
            // The checks a person can fix at once, before the slow key derivation.
            let refuse = if observer.trim().is_empty() {
                Some(SessionError::EmptyObserver)
            } else if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
                Some(SessionError::TooShort)
            } else if passphrase != confirm {
                Some(SessionError::Mismatch)
            } else {
                None
            };
            if let Some(error) = refuse {
                session.set_error(error);
                return;
            }
            session.set_error(SessionError::None);
            session.set_wiped_after_failures(false);
            let profile = Profile {
                observer: observer.to_string(),
                team: Some(team.to_string()).filter(|t| !t.trim().is_empty()),
                role: if coordinator {
                    Role::Coordinator
                } else {
                    Role::Monitor
                },
            };
            let passphrase = SecretString::from(passphrase.to_string());
            let dir = app.paths.dir.clone();
            let cost = app.kdf_cost;
            let profile_path = PathBuf::from(profile_path.trim());
            app.submit(Box::new(move |journal| {
                // A mission profile is read and checked before anything is created.
                let mission_profile = if profile_path.as_os_str().is_empty() {
                    Ok(None)
                } else {
                    read_profile(&profile_path).and_then(|text| {
                        SignedProfile::open(&text).map_err(JournalError::from)?;
                        Ok(Some(text))
                    })
                };
                let result = mission_profile.and_then(|mission_profile| {
                    let mut j = Journal::init(&dir, &passphrase, profile, cost)?;
                    if let Some(text) = mission_profile {
                        if let Err(e) = j.import_profile(&text) {
                            tracing::warn!("the mission profile was not installed: {e}");
                        }
                    }
                    let shown = opened(&j)?;
                    *journal = Some(j);
                    Ok(shown)
                });
                Box::new(move |app: &Rc<App>| show_opened(app, result))
            }));
        },
    );
}

/// The journal was wiped after too many wrong passphrases: say so, on first-run setup.
fn show_wiped(app: &Rc<App>, result: Result<(), JournalError>) {
    let Some(w) = app.window() else { return };
    let session = w.global::<SessionAdapter>();
    match result {
        Ok(()) => {
            session.set_error(SessionError::None);
            session.set_error_detail("".into());
            session.set_attempts_left(0);
            session.set_wiped_after_failures(true);
            w.global::<AppAdapter>().set_screen(Screen::Setup);
        }
        Err(e) => {
            session.set_error(SessionError::Other);
            session.set_error_detail(e.to_string().into());
        }
    }
}

/// The first-run screen of a fresh install, with nothing said of why.
fn show_first_run(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let session = w.global::<SessionAdapter>();
    session.set_error(SessionError::None);
    session.set_error_detail("".into());
    session.set_attempts_left(0);
    session.set_wiped_after_failures(false);
    w.global::<AppAdapter>().set_screen(Screen::Setup);
}

fn show_opened(app: &Rc<App>, result: Result<Opened, JournalError>) {
    let Some(w) = app.window() else { return };
    let session = w.global::<SessionAdapter>();
    match result {
        Ok(opened) => {
            session.set_error(SessionError::None);
            session.set_error_detail("".into());
            app.open_session(opened.session, opened.vocabulary);
        }
        Err(e) => {
            tracing::info!("unlock or create failed: {e}");
            let (error, detail) = session_error(&e);
            session.set_error(error);
            session.set_error_detail(detail.into());
        }
    }
}
