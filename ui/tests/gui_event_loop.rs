//! The production path for background work: the journal thread wakes the UI thread through
//! `slint::invoke_from_event_loop`, and the event loop (not a test's `settle`) shows the result.
//! One test per file: the testing backend's event loop can start once per process.

use std::rc::Rc;
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use truce_core::{Journal, KdfCost, Profile};
use truce_ui::{self as gui, GuiOptions};

#[test]
fn unlock_reply_arrives_through_the_event_loop() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let passphrase = "correct horse battery staple";
    Journal::init(
        dir.path(),
        &SecretString::from(passphrase.to_owned()),
        Profile {
            observer: "Ana K.".into(),
            team: None,
            role: truce_sync::Role::Monitor,
        },
        KdfCost::WorkFactor(10),
    )
    .expect("init");
    let gui = Rc::new(
        gui::init(GuiOptions {
            data_dir: dir.path().to_path_buf(),
            kdf_cost: KdfCost::WorkFactor(10),
            auto_lock: gui::DEFAULT_AUTO_LOCK,
            dark: false,
            language: "en".into(),
            media_roots: Vec::new(),
            portal: false,
        })
        .expect("the window builds"),
    );
    ElementHandle::find_by_accessible_label(gui.window(), "Passphrase")
        .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
        .expect("the passphrase field")
        .set_accessible_value(passphrase);
    ElementHandle::find_by_accessible_label(gui.window(), "Unlock")
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .expect("the unlock button")
        .invoke_accessible_default_action();
    assert!(!gui.is_unlocked(), "key derivation runs off the UI thread");

    let started = Instant::now();
    let poll = slint::Timer::default();
    let watched = gui.clone();
    poll.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(10),
        move || {
            if watched.is_unlocked() || started.elapsed() > Duration::from_secs(60) {
                let _ = slint::quit_event_loop();
            }
        },
    );
    slint::run_event_loop().expect("the event loop runs");
    assert!(
        gui.is_unlocked(),
        "the unlock reply reached the UI through the event loop"
    );
    assert!(
        ElementHandle::find_by_accessible_label(gui.window(), "New observation")
            .any(|e| e.accessible_role() == Some(AccessibleRole::Button))
    );
}
