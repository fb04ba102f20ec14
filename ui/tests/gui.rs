//! UI tests: the real window, wired by `truce_ui::init`, driven through accessible labels with
//! Slint's testing backend (no display needed). Key derivation uses a low work factor.

mod common;
use common::*;

use std::cell::Cell;
use std::time::Duration;

use age::secrecy::SecretString;
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use slint::{ComponentHandle, Model};
use truce_core::Journal;
use truce_ui::{self as gui, Gui, GuiOptions};

thread_local! {
    static BACKEND: Cell<bool> = const { Cell::new(false) };
}

/// A phone-wide window, tall enough that long forms need no scrolling (the testing backend
/// only finds controls that are on screen).
const TALL: (f32, f32) = (360.0, 1800.0);
/// Taller still: the new-observation form with "More details" open.
const VERY_TALL: (f32, f32) = (360.0, 3200.0);
/// The phone size the layout is designed for.
const PHONE: (f32, f32) = (360.0, 740.0);

/// The GUI on `dir`, on this test thread's testing backend.
fn start(dir: &std::path::Path, auto_lock: Duration, size: (f32, f32)) -> Gui {
    start_with_media(dir, auto_lock, size, Vec::new())
}

/// [`start`] with removable media mounted under `media_roots`.
fn start_with_media(
    dir: &std::path::Path,
    auto_lock: Duration,
    (width, height): (f32, f32),
    media_roots: Vec<std::path::PathBuf>,
) -> Gui {
    if !BACKEND.get() {
        i_slint_backend_testing::init_no_event_loop();
        BACKEND.set(true);
    }
    let gui = gui::init(GuiOptions {
        data_dir: dir.to_path_buf(),
        kdf_cost: FAST,
        auto_lock,
        dark: false,
        language: "en".into(),
        media_roots,
        portal: false,
    })
    .expect("the window builds");
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(width, height));
    gui
}

fn new_journal(dir: &std::path::Path) {
    new_monitor(dir);
}

fn unlock(gui: &Gui, passphrase: &str) {
    fill(gui, "Passphrase", passphrase);
    tap(gui, "Unlock");
    gui.settle();
}

#[test]
fn setup_record_list_amend() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);

    // First run: no journal, so setup.
    assert!(has(&gui, "Create journal", AccessibleRole::Button));
    fill(&gui, "Your name", "Ana K.");
    fill(&gui, "Team (optional)", "Team 3");
    fill(&gui, "Passphrase", PASSPHRASE);
    fill(&gui, "Repeat the passphrase", "something else entirely");
    tap(&gui, "Create journal");
    gui.settle();
    assert!(!labels_containing(&gui, "The two passphrases differ").is_empty());
    assert!(!gui.is_unlocked());

    fill(&gui, "Repeat the passphrase", PASSPHRASE);
    tap(&gui, "Create journal");
    gui.settle();
    assert!(gui.is_unlocked(), "the journal was created and unlocked");
    assert!(dir.path().join("journal.key").exists());
    assert!(!labels_containing(&gui, "No observations yet").is_empty());

    // A minimal report in five taps: New, kind, category, method, Save.
    tap(&gui, "New observation");
    tap(&gui, "Violation");
    tap(&gui, "Shelling");
    tap(&gui, "Heard");
    tap(&gui, "Save observation");
    gui.settle();
    let cards = labels_containing(&gui, "Violation, Shelling, ");
    assert_eq!(cards.len(), 1, "the record is in the list: {cards:?}");

    // A second one with a narrative, and a validation error first: the field is named.
    tap(&gui, "New observation");
    tap(&gui, "Incident");
    tap(&gui, "Mine or UXO");
    tap(&gui, "Seen");
    fill(&gui, "Latitude", "95");
    fill(&gui, "Longitude", "37.8");
    fill(
        &gui,
        "Narrative",
        "Unexploded shell on the road shoulder near the bridge",
    );
    tap(&gui, "Save observation");
    gui.settle();
    let errors = labels_containing(&gui, "Latitude: ");
    assert_eq!(errors.len(), 1, "the error names the field: {errors:?}");
    assert!(errors[0].contains("-90..90"), "{errors:?}");
    fill(&gui, "Latitude", "48.0159");
    tap(&gui, "Save observation");
    gui.settle();
    assert_eq!(
        labels_containing(&gui, "Unexploded shell on the road").len(),
        1
    );
    assert!(!labels_containing(&gui, "2 observations").is_empty());

    // Search and filter (the journal thread runs the query).
    fill(&gui, "Search narratives", "bridge");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Violation, Shelling, ").len(), 0);
    assert_eq!(labels_containing(&gui, "Unexploded shell").len(), 1);
    fill(&gui, "Search narratives", "");
    tap(&gui, "Violation");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Violation, Shelling, ").len(), 1);
    assert_eq!(labels_containing(&gui, "Unexploded shell").len(), 0);
    tap(&gui, "All kinds");
    gui.settle();

    // Open the first report, amend it, and see the new revision in the history.
    let card = labels_containing(&gui, "Violation, Shelling, ").remove(0);
    let card = ElementHandle::find_by_accessible_label(gui.window(), &card)
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .expect("the card");
    card.invoke_accessible_default_action();
    gui.settle();
    assert!(has(&gui, "Amend this observation", AccessibleRole::Button));
    assert_eq!(labels_containing(&gui, "Revision 1: ").len(), 1);
    tap(&gui, "Amend this observation");
    tap(&gui, "Severity 4");
    fill(&gui, "Amended count", "40");
    fill(
        &gui,
        "Amended narrative",
        "About 40 explosions north of checkpoint 4",
    );
    tap(&gui, "Save amendment");
    gui.settle();
    let history = labels_containing(&gui, "Revision 2: ");
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(history[0].contains("severity: — → 4"), "{history:?}");
    assert!(history[0].contains("event_count: — → 40"), "{history:?}");
    assert!(!labels_containing(&gui, "Narrative: About 40 explosions").is_empty());

    // The journal on disk has both revisions.
    drop(gui);
    let journal =
        Journal::open(dir.path(), &SecretString::from(PASSPHRASE.to_owned())).expect("open");
    let list = journal.list(None).expect("list");
    assert_eq!(list.len(), 2);
    let amended = list
        .iter()
        .find(|r| r.observation.category == "shelling")
        .expect("shelling");
    assert_eq!(amended.revision, 2);
    assert_eq!(amended.observation.severity, Some(4));
    assert_eq!(amended.observation.event_count, Some(40));
}

#[test]
fn wrong_passphrase_says_so_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let key_before = std::fs::read(dir.path().join("journal.key")).expect("key");
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, PHONE);
    assert!(has(&gui, "Unlock", AccessibleRole::Button));

    unlock(&gui, "not the passphrase");
    assert!(!gui.is_unlocked());
    let messages = labels_containing(&gui, "Wrong passphrase");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(
        std::fs::read(dir.path().join("journal.key")).expect("key"),
        key_before
    );

    unlock(&gui, PASSPHRASE);
    assert!(gui.is_unlocked());
    assert!(labels_containing(&gui, "Wrong passphrase").is_empty());
    assert!(has(&gui, "New observation", AccessibleRole::Button));
}

#[test]
fn auto_lock_after_inactivity_forgets_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    {
        let mut journal =
            Journal::open(dir.path(), &SecretString::from(PASSPHRASE.to_owned())).expect("open");
        journal
            .record(truce_sync::parse_object(r#"{"kind":"violation","category":"small_arms","method":"heard","narrative":"Bursts of small arms fire"}"#).expect("json"))
            .expect("record");
    }
    let gui = start(dir.path(), Duration::from_secs(30), PHONE);
    unlock(&gui, PASSPHRASE);
    assert!(gui.is_unlocked());
    assert_eq!(
        labels_containing(&gui, "Bursts of small arms fire").len(),
        1
    );

    // Activity restarts the countdown.
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(20));
    tap(&gui, "Violation");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(20));
    assert!(
        gui.is_unlocked(),
        "20 s after the last touch, still unlocked"
    );

    // 30 s without a touch: locked, back to Unlock, nothing decrypted left on screen.
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(11));
    gui.settle();
    assert!(!gui.is_unlocked());
    assert!(has(&gui, "Unlock", AccessibleRole::Button));
    assert!(labels_containing(&gui, "Bursts of small arms fire").is_empty());

    // And it opens again.
    unlock(&gui, PASSPHRASE);
    assert_eq!(
        labels_containing(&gui, "Bursts of small arms fire").len(),
        1
    );
}

#[test]
fn emergency_wipe_needs_the_word_and_returns_to_setup() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Settings");
    assert!(has(&gui, "Wipe this journal now", AccessibleRole::Button));
    fill(&gui, "Type WIPE to confirm", "wipe");
    tap(&gui, "Wipe this journal now");
    gui.settle();
    assert!(gui.is_unlocked(), "a lowercase word does not wipe");
    fill(&gui, "Type WIPE to confirm", "WIPE");
    tap(&gui, "Wipe this journal now");
    gui.settle();
    assert!(!gui.is_unlocked());
    assert!(!dir.path().join("journal.key").exists());
    assert!(!dir.path().join("journal.db").exists());
    assert!(has(&gui, "Create journal", AccessibleRole::Button));
}

#[test]
fn changing_the_passphrase_re_encrypts_the_journal() {
    const NEW: &str = "a whole new passphrase";
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    {
        let mut journal = open_journal(dir.path());
        journal
            .record(truce_sync::parse_object(r#"{"kind":"violation","category":"shelling","method":"heard","narrative":"Impacts north of the bridge"}"#).expect("json"))
            .expect("record");
    }
    let key_file = dir.path().join("journal.key");
    let old_key = std::fs::read(&key_file).expect("key file");
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Settings");

    // The current passphrase is asked again.
    fill(&gui, "Current passphrase", "not the passphrase");
    fill(&gui, "New passphrase", NEW);
    fill(&gui, "Repeat the new passphrase", NEW);
    tap(&gui, "Change passphrase");
    gui.settle();
    assert!(!labels_containing(&gui, "Wrong passphrase").is_empty());
    assert!(labels_containing(&gui, "re-encrypted with a new key").is_empty());
    assert_eq!(std::fs::read(&key_file).expect("key file"), old_key);

    // The form empties itself after each attempt.
    fill(&gui, "Current passphrase", PASSPHRASE);
    fill(&gui, "New passphrase", NEW);
    fill(&gui, "Repeat the new passphrase", NEW);
    tap(&gui, "Change passphrase");
    gui.settle();
    assert!(!labels_containing(&gui, "re-encrypted with a new key").is_empty());
    // The window carries on with the journal, under its new key.
    tap(&gui, "Back");
    assert_eq!(
        labels_containing(&gui, "Impacts north of the bridge").len(),
        1
    );
    gui.lock();
    gui.settle();
    drop(gui);

    let new_key = std::fs::read(&key_file).expect("key file");
    assert_ne!(new_key, old_key);
    assert!(Journal::open(dir.path(), &SecretString::from(PASSPHRASE.to_owned())).is_err());
    let journal =
        Journal::open(dir.path(), &SecretString::from(NEW.to_owned())).expect("the new opens");
    assert_eq!(journal.count().expect("count"), 1);
    drop(journal);
    // The old key file, with the old passphrase, no longer opens the database.
    std::fs::write(&key_file, &old_key).expect("old key file back");
    assert!(matches!(
        Journal::open(dir.path(), &SecretString::from(PASSPHRASE.to_owned())),
        Err(truce_core::JournalError::Damaged(_))
    ));
}

#[test]
fn french_is_selectable_in_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Settings");
    tap(&gui, "Français");
    assert!(!labels_containing(&gui, "Effacement d’urgence").is_empty());
    assert!(has(&gui, "Retour", AccessibleRole::Button));
    tap(&gui, "English");
    assert!(has(&gui, "Back", AccessibleRole::Button));
}

#[test]
fn touch_targets_are_at_least_48px_on_a_phone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, PHONE);
    assert_touch_targets(&gui, "setup");
    fill(&gui, "Your name", "Ana K.");
    fill(&gui, "Passphrase", PASSPHRASE);
    fill(&gui, "Repeat the passphrase", PASSPHRASE);
    tap(&gui, "Create journal");
    gui.settle();
    assert_touch_targets(&gui, "journal (empty)");
    tap(&gui, "New observation");
    assert_touch_targets(&gui, "new observation");
    tap(&gui, "Violation");
    tap(&gui, "Shelling");
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(TALL.0, TALL.1));
    tap(&gui, "Heard");
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(PHONE.0, PHONE.1));
    tap(&gui, "Save observation");
    gui.settle();
    assert_touch_targets(&gui, "journal");
    let card = labels_containing(&gui, "Violation, Shelling, ").remove(0);
    ElementHandle::find_by_accessible_label(gui.window(), &card)
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .expect("the card")
        .invoke_accessible_default_action();
    gui.settle();
    assert_touch_targets(&gui, "detail");
    tap(&gui, "Back");
    tap(&gui, "Settings");
    assert_touch_targets(&gui, "settings");
    tap(&gui, "Back");
    tap(&gui, "Sync");
    gui.settle();
    assert_touch_targets(&gui, "sync");
    gui.lock();
    gui.settle();
    assert_touch_targets(&gui, "unlock");
}

fn is_checked(gui: &Gui, label: &str) -> bool {
    labelled(gui, label, AccessibleRole::Checkbox)
        .iter()
        .any(|e| e.accessible_checked() == Some(true))
}

fn open_journal(dir: &std::path::Path) -> Journal {
    Journal::open(dir, &SecretString::from(PASSPHRASE.to_owned())).expect("open")
}

#[test]
fn an_unfinished_report_survives_locking_and_closing() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    assert!(labels_containing(&gui, "Draft restored").is_empty());
    tap(&gui, "Incident");
    tap(&gui, "Mine or UXO");
    fill(&gui, "Latitude", "north");
    fill(&gui, "Narrative", "Half-buried shell near the bridge");

    // Locking saves the draft, encrypted, and clears the window.
    gui.lock();
    gui.settle();
    assert!(!gui.is_unlocked());
    assert!(labels_containing(&gui, "Half-buried").is_empty());
    for file in std::fs::read_dir(dir.path()).expect("read dir") {
        let bytes = std::fs::read(file.expect("entry").path()).expect("read");
        assert!(
            !bytes.windows(11).any(|w| w == b"Half-buried"),
            "the draft is not in plaintext on disk"
        );
    }

    // After unlocking, the form comes back with a note.
    unlock(&gui, PASSPHRASE);
    assert!(labels_containing(&gui, "Half-buried").is_empty());
    tap(&gui, "New observation");
    let note = labels_containing(&gui, "Draft restored from ");
    assert_eq!(note.len(), 1, "{note:?}");
    assert!(is_checked(&gui, "Incident"));
    assert!(is_checked(&gui, "Mine or UXO"));
    assert_eq!(value_of(&gui, "Latitude"), "north");
    assert_eq!(
        value_of(&gui, "Narrative"),
        "Half-buried shell near the bridge"
    );

    // A change is saved after a few seconds; closing the window loses nothing.
    fill(&gui, "Latitude", "");
    fill(&gui, "Place", "Bridge at km 12");
    i_slint_backend_testing::mock_elapsed_time(gui::DRAFT_INTERVAL + Duration::from_secs(1));
    gui.settle();
    drop(gui);
    let (draft, _saved_at) = open_journal(dir.path())
        .draft()
        .expect("draft")
        .expect("a draft is kept");
    assert_eq!(draft["place"], "Bridge at km 12");

    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    assert_eq!(value_of(&gui, "Place"), "Bridge at km 12");
    assert_eq!(value_of(&gui, "Latitude"), "");
    tap(&gui, "Seen");
    tap(&gui, "Save observation");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Half-buried shell").len(), 1);

    // Saved: no draft remains, and the next form is empty.
    tap(&gui, "New observation");
    assert!(labels_containing(&gui, "Draft restored").is_empty());
    assert_eq!(value_of(&gui, "Narrative"), "");
    tap(&gui, "Back");
    gui.settle();
    drop(gui);
    assert!(open_journal(dir.path()).draft().expect("draft").is_none());
}

#[test]
fn a_draft_can_be_discarded() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    fill(&gui, "Narrative", "Not worth keeping");
    tap(&gui, "Back");
    tap(&gui, "New observation");
    assert_eq!(value_of(&gui, "Narrative"), "Not worth keeping");
    tap(&gui, "Discard the draft");
    assert_eq!(value_of(&gui, "Narrative"), "");
    assert!(labels_containing(&gui, "Draft restored").is_empty());
    gui.settle();
    drop(gui);
    assert!(open_journal(dir.path()).draft().expect("draft").is_none());
}

/// Creates a coordinator journal in `dir` and returns its signed mission profile for "East".
fn coordinator_profile(dir: &std::path::Path) -> String {
    let mut coordinator = new_coordinator(dir);
    coordinator
        .create_profile("East", &[], None)
        .expect("profile")
}

#[test]
fn a_monitor_exports_and_the_coordinator_imports() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let profile_file = usb.path().join("profile.json");
    std::fs::write(&profile_file, coordinator_profile(hq.path())).expect("write the profile");
    new_journal(device.path());

    // The monitor installs the profile from the Sync screen.
    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    assert!(!labels_containing(&gui, "No mission profile").is_empty());
    fill(&gui, "Profile file", &profile_file.display().to_string());
    tap(&gui, "Import profile");
    gui.settle();
    // A first profile: nothing is installed until its signer's key is confirmed.
    assert_eq!(
        labels_containing(&gui, "First mission profile on this device: East").len(),
        1
    );
    assert_eq!(labels_containing(&gui, "Coordinator key: ").len(), 1);
    assert!(labels_containing(&gui, "Mission profile installed").is_empty());
    tap(&gui, "Key confirmed: install");
    gui.settle();
    let installed = labels_containing(&gui, "Mission profile installed: East");
    assert_eq!(installed.len(), 1, "{installed:?}");
    tap(&gui, "Back");

    // One observation, one entry pending; the export writes one bundle.
    tap(&gui, "New observation");
    tap(&gui, "Violation");
    tap(&gui, "Shelling");
    tap(&gui, "Heard");
    tap(&gui, "Save observation");
    gui.settle();
    assert!(!labels_containing(&gui, "1 observation  ·  1 to export").is_empty());
    tap(&gui, "Sync");
    gui.settle();
    assert!(!labels_containing(&gui, "Not yet exported: 1").is_empty());
    fill(&gui, "Export folder", &usb.path().display().to_string());
    tap(&gui, "Export");
    gui.settle();
    let bundles = truce_core::exchange::bundle_files(&[usb.path().to_path_buf()]).expect("bundles");
    assert_eq!(bundles.len(), 1, "{bundles:?}");
    let name = bundles[0].file_name().expect("name").to_string_lossy();
    assert_eq!(
        labels_containing(&gui, &format!("Bundle written: {name}")).len(),
        1
    );
    assert!(!labels_containing(&gui, "Not yet exported: 0").is_empty());
    tap(&gui, "Export");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Nothing new to export").len(), 1);
    tap(&gui, "Back");
    assert!(labels_containing(&gui, "to export").is_empty());
    drop(gui);

    // The coordinator imports the stick: one new entry from a new device.
    let gui = start(hq.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    assert!(!labels_containing(&gui, "age1").is_empty(), "the recipient");
    fill(&gui, "Import from", &usb.path().display().to_string());
    tap(&gui, "Import bundles");
    gui.settle();
    assert_eq!(labels_containing(&gui, "1 / 1 bundles read").len(), 1);
    let reports = labels_containing(&gui, "1 new, 0 already known");
    assert_eq!(reports.len(), 1, "{reports:?}");
    // Again: nothing new, nothing duplicated.
    tap(&gui, "Import bundles");
    gui.settle();
    assert_eq!(labels_containing(&gui, "0 new, 1 already known").len(), 1);
    assert_touch_targets(&gui, "sync (coordinator)");
    // The journal list now holds the imported record, once.
    gui.settle();
    tap(&gui, "Back");
    gui.settle();
    let counts = labels_containing(&gui, "1 observation");
    assert!(
        !counts.is_empty(),
        "the journal list shows the imported record: {counts:?}"
    );
}

/// A stick of more bundles than one journal-thread job takes: every bundle is read, every
/// report is listed once, and the records are all there.
#[test]
fn a_stick_of_many_bundles_is_imported_with_every_report_listed() {
    const BUNDLES: usize = 25;
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let profile = coordinator_profile(hq.path());
    let mut monitor = new_monitor(device.path());
    monitor
        .import_profile(&profile)
        .expect("install the profile");
    for i in 0..BUNDLES {
        let json = format!(
            r#"{{"kind":"violation","category":"shelling","method":"heard","narrative":"Round {i}"}}"#
        );
        monitor
            .record(truce_sync::parse_object(&json).expect("json"))
            .expect("record");
        monitor
            .export(usb.path(), truce_core::model::ExportRange::Pending)
            .expect("export")
            .expect("a bundle");
    }
    drop(monitor);

    // Tall enough for every report card: the testing backend finds only what is on screen.
    let gui = start(hq.path(), gui::DEFAULT_AUTO_LOCK, (1280.0, 8000.0));
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Import from", &usb.path().display().to_string());
    tap(&gui, "Import bundles");
    gui.settle();
    let read = format!("{BUNDLES} / {BUNDLES} bundles read");
    assert_eq!(labels_containing(&gui, &read).len(), 1, "{read}");
    // One card per bundle file (labels are listed once each, and every file name differs),
    // and every card says one new entry.
    let files: Vec<String> = labels_containing(&gui, ".age")
        .into_iter()
        .filter(|l| l.ends_with(".age"))
        .collect();
    assert_eq!(files.len(), BUNDLES, "{files:?}");
    assert_eq!(
        labels_containing(&gui, "already known"),
        vec!["1 new, 0 already known".to_owned()]
    );
    assert!(labels_containing(&gui, "Refused").is_empty());
    drop(gui);
    let coordinator = open_journal(hq.path());
    assert_eq!(coordinator.list(None).expect("list").len(), BUNDLES);
}

#[test]
fn setup_can_install_the_mission_profile() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let profile_file = hq.path().join("profile.json");
    std::fs::write(&profile_file, coordinator_profile(hq.path())).expect("write the profile");
    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    fill(&gui, "Your name", "Ana K.");
    fill(&gui, "Passphrase", PASSPHRASE);
    fill(&gui, "Repeat the passphrase", PASSPHRASE);

    // A file that is not there: said so, and nothing is created.
    fill(
        &gui,
        "Mission profile file (optional)",
        &hq.path().join("nothing.json").display().to_string(),
    );
    tap(&gui, "Create journal");
    gui.settle();
    assert!(!gui.is_unlocked());
    assert!(!labels_containing(&gui, "nothing.json").is_empty());
    assert!(!device.path().join("journal.key").exists());

    fill(
        &gui,
        "Mission profile file (optional)",
        &profile_file.display().to_string(),
    );
    tap(&gui, "Create journal");
    gui.settle();
    assert!(gui.is_unlocked());
    tap(&gui, "Sync");
    gui.settle();
    assert!(!labels_containing(&gui, "Mission: East").is_empty());
}

/// Every `@tr` string of `ui/` has an entry in the French catalogue.
#[test]
fn every_string_has_a_french_translation() {
    let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let po =
        std::fs::read_to_string(ui.join("translations/fr/LC_MESSAGES/truce-ui.po")).expect("po");
    let ids: std::collections::HashSet<&str> = po
        .lines()
        .filter_map(|l| l.strip_prefix("msgid \"")?.strip_suffix('"'))
        .collect();
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut folders = vec![ui.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read ui/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "slint") {
                let text = std::fs::read_to_string(&path).expect("read");
                for part in text.split("@tr(\"").skip(1) {
                    let mut end = 0;
                    let bytes = part.as_bytes();
                    while end < bytes.len() && bytes[end] != b'"' {
                        end += if bytes[end] == b'\\' { 2 } else { 1 };
                    }
                    let id = &part[..end.min(part.len())];
                    checked += 1;
                    if !ids.contains(id) {
                        missing.push(format!("{}: {id}", path.display()));
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} strings found in ui/");
    assert!(missing.is_empty(), "not in truce-ui.po: {missing:#?}");
}

fn record(journal: &mut Journal, json: &str) {
    journal
        .record(truce_sync::parse_object(json).expect("json"))
        .expect("record");
}

/// Opens the journal card whose accessible label contains `part`.
fn open_card(gui: &Gui, part: &str) {
    let card = labels_containing(gui, part).remove(0);
    ElementHandle::find_by_accessible_label(gui.window(), &card)
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .expect("the card")
        .invoke_accessible_default_action();
    gui.settle();
}

#[test]
fn a_report_with_compass_direction_and_casualties_shows_in_detail() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "Violation");
    tap(&gui, "Shelling");
    tap(&gui, "Heard");
    // The details are folded away until asked for.
    assert!(!has(&gui, "Direction NE", AccessibleRole::Checkbox));
    assert!(!has(&gui, "Killed", AccessibleRole::TextInput));
    tap(&gui, "More details");
    tap(&gui, "Direction NE");
    assert!(is_checked(&gui, "Direction NE"));
    tap(&gui, "Direction ENE");
    assert!(!is_checked(&gui, "Direction NE"), "one point at a time");
    fill(&gui, "Nearest (m)", "3000");
    fill(&gui, "Farthest (m)", "1500");
    fill(&gui, "Weapon", "82mm mortar (assessed)");
    fill(&gui, "Initiator", "unknown");
    fill(&gui, "Killed", "1");
    fill(&gui, "Injured", "two");
    tap(&gui, "Save observation");
    gui.settle();
    // The form names the field at fault, in its own words.
    let errors = labels_containing(&gui, "Injured: ");
    assert_eq!(errors.len(), 1, "{errors:?}");
    fill(&gui, "Injured", "2");
    tap(&gui, "Save observation");
    gui.settle();
    // Schema v1 refuses a nearest distance beyond the farthest, and names the field.
    let errors = labels_containing(&gui, "Nearest (m): ");
    assert_eq!(errors.len(), 1, "{errors:?}");
    fill(&gui, "Nearest (m)", "1000");
    tap(&gui, "Save observation");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Violation, Shelling, ").len(), 1);

    open_card(&gui, "Violation, Shelling, ");
    assert!(
        !labels_containing(&gui, "Direction: 68°").is_empty(),
        "ENE is 67.5°, rounded"
    );
    assert!(!labels_containing(&gui, "Distance: 1000–1500 m").is_empty());
    assert!(!labels_containing(&gui, "Weapon: 82mm mortar (assessed)").is_empty());
    assert!(!labels_containing(&gui, "Killed: 1").is_empty());
    assert!(!labels_containing(&gui, "Injured: 2").is_empty());
    drop(gui);

    let saved = open_journal(dir.path()).list(None).expect("list");
    assert_eq!(saved.len(), 1);
    let o = &saved[0].observation;
    assert_eq!(o.direction_deg, Some(68));
    assert_eq!(
        (o.distance_min_m, o.distance_max_m),
        (Some(1000), Some(1500))
    );
    assert_eq!((o.killed, o.injured), (Some(1), Some(2)));
    assert_eq!(o.initiator.as_deref(), Some("unknown"));
}

#[test]
fn details_are_kept_in_the_draft() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "More details");
    tap(&gui, "Direction SW");
    fill(&gui, "Killed", "3");
    fill(&gui, "Accuracy (m)", "25");
    gui.lock();
    gui.settle();
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    // The details open by themselves when the draft holds some.
    assert!(is_checked(&gui, "Direction SW"));
    assert_eq!(value_of(&gui, "Killed"), "3");
    assert_eq!(value_of(&gui, "Accuracy (m)"), "25");
    drop(gui);
    let (draft, _) = open_journal(dir.path())
        .draft()
        .expect("draft")
        .expect("kept");
    assert_eq!(draft["direction_deg"], 225);
    assert_eq!(draft["killed"], "3");
}

#[test]
fn use_gps_without_a_location_service_says_so_and_manual_entry_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "Use GPS");
    gui.settle();
    if truce_core::location::GeoClue::detect().is_none() {
        let said = labels_containing(&gui, "No location service is available");
        assert_eq!(said.len(), 1, "{said:?}");
    }
    tap(&gui, "Incident");
    tap(&gui, "Mine or UXO");
    tap(&gui, "Seen");
    fill(&gui, "Latitude", "48.0159");
    fill(&gui, "Longitude", "37.8028");
    tap(&gui, "Save observation");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Incident, Mine or UXO, ").len(), 1);
}

#[test]
fn category_and_day_filters_narrow_the_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    {
        let mut journal = open_journal(dir.path());
        record(
            &mut journal,
            r#"{"kind":"violation","category":"shelling","method":"heard","observed_at":"2026-11-23T05:30:00+02:00","narrative":"Shelling on the 23rd"}"#,
        );
        record(
            &mut journal,
            r#"{"kind":"violation","category":"small_arms","method":"heard","observed_at":"2026-11-23T20:00:00+02:00","narrative":"Small arms on the 23rd"}"#,
        );
        record(
            &mut journal,
            r#"{"kind":"violation","category":"shelling","method":"heard","observed_at":"2026-11-24T06:00:00+02:00","narrative":"Shelling on the 24th"}"#,
        );
    }
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    assert_eq!(labels_containing(&gui, "Violation, ").len(), 3);
    tap(&gui, "Filters");
    tap(&gui, "Category: Shelling");
    gui.settle();
    let shown = labels_containing(&gui, "Violation, ");
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown.iter().all(|l| l.contains("Shelling")), "{shown:?}");
    assert!(!labels_containing(&gui, "2 of 3").is_empty());

    // A day in the observer's time (the records carry +02:00; the filter is local).
    let day = chrono::DateTime::parse_from_rfc3339("2026-11-24T06:00:00+02:00")
        .expect("time")
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d")
        .to_string();
    fill(&gui, "Day", &day);
    gui.settle();
    let shown = labels_containing(&gui, "Violation, ");
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].contains("Shelling on the 24th"), "{shown:?}");

    tap(&gui, "All categories");
    tap(&gui, "Any day");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Violation, ").len(), 3);
    fill(&gui, "Day", "24/11");
    gui.settle();
    assert_eq!(
        labels_containing(&gui, "Violation, ").len(),
        3,
        "a day that is not a date changes nothing"
    );
}

#[test]
fn a_large_journal_loads_a_page_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    {
        let mut journal = open_journal(dir.path());
        for i in 0..205 {
            record(
                &mut journal,
                &format!(
                    r#"{{"kind":"incident","category":"mine_uxo","method":"seen","narrative":"Marker {i}"}}"#
                ),
            );
        }
    }
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, PHONE);
    unlock(&gui, PASSPHRASE);
    assert!(!labels_containing(&gui, "200 of 205").is_empty());
    assert_eq!(
        gui.window()
            .global::<gui::ui::JournalAdapter>()
            .get_rows()
            .row_count(),
        200
    );
    tap(&gui, "Show more");
    gui.settle();
    assert!(!labels_containing(&gui, "205 observations").is_empty());
    assert!(!has(&gui, "Show more", AccessibleRole::Button));
}

#[test]
fn the_not_exported_badge_goes_after_an_export() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let profile = coordinator_profile(hq.path());
    new_journal(device.path());
    {
        let mut journal = open_journal(device.path());
        journal.import_profile(&profile).expect("profile");
        record(
            &mut journal,
            r#"{"kind":"violation","category":"shelling","method":"heard","narrative":"Before the export"}"#,
        );
    }
    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    let cards = labels_containing(&gui, "Before the export");
    assert_eq!(cards.len(), 1);
    assert!(cards[0].ends_with("(not yet exported)"), "{cards:?}");

    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Export folder", &usb.path().display().to_string());
    tap(&gui, "Export");
    gui.settle();
    tap(&gui, "Back");
    gui.settle();
    let cards = labels_containing(&gui, "Before the export");
    assert_eq!(cards.len(), 1);
    assert!(!cards[0].contains("not yet exported"), "{cards:?}");

    // A new record after the export has the badge; the exported one still has none.
    tap(&gui, "New observation");
    tap(&gui, "Incident");
    tap(&gui, "Mine or UXO");
    tap(&gui, "Seen");
    fill(&gui, "Narrative", "After the export");
    tap(&gui, "Save observation");
    gui.settle();
    assert_eq!(labels_containing(&gui, "not yet exported").len(), 1);
    assert!(labels_containing(&gui, "After the export")[0].contains("not yet exported"));
}

fn settings_file(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join(truce_core::journal::SETTINGS_FILE)
}

#[test]
fn wipe_after_failed_unlocks_wipes_at_the_limit_and_returns_to_setup() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Settings");
    assert!(
        is_checked(&gui, "Never wipe after failed unlocks"),
        "off by default"
    );
    tap(&gui, "Wipe after 5 failed unlocks");
    assert!(is_checked(&gui, "Wipe after 5 failed unlocks"));
    gui.settle();
    drop(gui);

    // The count survives restarts; a success starts it again.
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    for _ in 0..3 {
        unlock(&gui, "not the passphrase");
    }
    drop(gui);
    let failures = dir.path().join(truce_core::journal::UNLOCK_FAILURES_FILE);
    assert_eq!(
        std::fs::read_to_string(&failures).expect("count").trim(),
        "3"
    );
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, "not the passphrase");
    assert!(!labels_containing(&gui, "1 more wrong passphrase wipes this journal").is_empty());
    unlock(&gui, PASSPHRASE);
    assert!(gui.is_unlocked());
    assert!(!failures.exists(), "a success resets the count");
    gui.lock();
    gui.settle();

    for n in 1..=4 {
        unlock(&gui, "still not it");
        assert!(
            dir.path().join("journal.key").exists(),
            "not wiped after {n}"
        );
    }
    unlock(&gui, "still not it");
    assert!(!gui.is_unlocked());
    assert!(!dir.path().join("journal.key").exists());
    assert!(!dir.path().join("journal.db").exists());
    assert!(!failures.exists());
    assert!(
        !settings_file(dir.path()).exists(),
        "the wipe deletes the settings too"
    );
    assert!(has(&gui, "Create journal", AccessibleRole::Button));
    assert_eq!(
        labels_containing(&gui, "Too many wrong passphrases").len(),
        1
    );
}

#[test]
fn with_wipe_after_off_failed_unlocks_wipe_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let key = std::fs::read(dir.path().join("journal.key")).expect("key");
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, PHONE);
    for _ in 0..21 {
        unlock(&gui, "not the passphrase");
    }
    assert!(!gui.is_unlocked());
    assert_eq!(
        std::fs::read(dir.path().join("journal.key")).expect("key"),
        key
    );
    assert!(dir.path().join("journal.db").exists());
    assert!(!dir
        .path()
        .join(truce_core::journal::UNLOCK_FAILURES_FILE)
        .exists());
    assert!(labels_containing(&gui, "more wrong passphrase").is_empty());
    unlock(&gui, PASSPHRASE);
    assert!(gui.is_unlocked());
}

#[test]
fn settings_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Settings");
    tap(&gui, "Dark theme");
    tap(&gui, "Auto-lock after 10 minutes");
    tap(&gui, "Wipe after 20 failed unlocks");
    tap(&gui, "Français");
    gui.settle();
    drop(gui);
    let text = std::fs::read_to_string(settings_file(dir.path())).expect("settings file");
    assert!(
        !text.contains(PASSPHRASE) && !text.contains("Ana"),
        "nothing personal: {text}"
    );

    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    assert!(gui.window().global::<gui::ui::Theme>().get_dark());
    assert!(has(&gui, "Déverrouiller", AccessibleRole::Button), "French");
    let settings = gui.window().global::<gui::ui::SettingsAdapter>();
    assert_eq!(settings.get_auto_lock_minutes(), 10);
    assert_eq!(settings.get_wipe_after(), 20);
    // The auto-lock really is 10 minutes now.
    fill(&gui, "Phrase secrète", PASSPHRASE);
    tap(&gui, "Déverrouiller");
    gui.settle();
    assert!(gui.is_unlocked());
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(6 * 60));
    gui.settle();
    assert!(gui.is_unlocked(), "not locked after 6 minutes");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(5 * 60));
    gui.settle();
    assert!(!gui.is_unlocked(), "locked after 10");

    // Back to the defaults for the next test on this thread.
    fill(&gui, "Phrase secrète", PASSPHRASE);
    tap(&gui, "Déverrouiller");
    gui.settle();
    tap(&gui, "Réglages");
    tap(&gui, "English");
    tap(&gui, "Light theme");
    gui.settle();
    drop(gui);
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    assert!(!gui.window().global::<gui::ui::Theme>().get_dark());
    assert!(has(&gui, "Unlock", AccessibleRole::Button));
}

/// A mission profile with its own taxonomy: the form's chips, the journal's filters and the
/// list's labels are the profile's, from the unlock on and after a profile is installed.
#[test]
fn the_profiles_taxonomy_is_what_the_form_offers() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let mut coordinator = new_coordinator(hq.path());
    let mut template = truce_sync::profile::MissionProfile::new(
        "East",
        uuid::Uuid::nil(),
        chrono::Utc::now().fixed_offset(),
        vec![],
    );
    template.taxonomy = serde_json::from_value(serde_json::json!({
        "kinds": [{"code": "violation", "label": "Violation"},
                  {"code": "obstruction", "label": "Obstruction of the mission"}],
        "categories": [{"code": "shelling", "label": "Shelling"},
                       {"code": "checkpoint_closure", "label": "Checkpoint closure"}]
    }))
    .expect("taxonomy");
    let profile = coordinator
        .create_profile("East", &[], Some(template))
        .expect("profile");
    drop(coordinator);
    let mut monitor = new_monitor(device.path());
    monitor.import_profile(&profile).expect("installed");
    drop(monitor);

    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    assert!(has(
        &gui,
        "Obstruction of the mission",
        AccessibleRole::Checkbox
    ));
    tap(&gui, "New observation");
    gui.settle();
    assert!(has(
        &gui,
        "Obstruction of the mission",
        AccessibleRole::Checkbox
    ));
    assert!(has(&gui, "Checkpoint closure", AccessibleRole::Checkbox));
    assert!(
        labelled(&gui, "Small arms fire", AccessibleRole::Checkbox).is_empty(),
        "the built-in categories the profile does not list are not offered"
    );
    tap(&gui, "Obstruction of the mission");
    tap(&gui, "Checkpoint closure");
    tap(&gui, "Seen");
    tap(&gui, "Save observation");
    gui.settle();
    assert!(
        !labels_containing(&gui, "Checkpoint closure").is_empty(),
        "the list shows the profile's label"
    );
    drop(gui);
    let journal =
        Journal::open(device.path(), &SecretString::from(PASSPHRASE.to_owned())).expect("open");
    let saved = journal.list(None).expect("list");
    assert_eq!(saved[0].observation.category, "checkpoint_closure");
}

/// A mission profile with its own parties: the form offers them (never a built-in list) as
/// chips for initiator and target, the detail shows their labels, and locking forgets them.
#[test]
fn the_profiles_parties_are_what_the_form_offers() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let mut coordinator = new_coordinator(hq.path());
    let mut template = truce_sync::profile::MissionProfile::new(
        "East",
        uuid::Uuid::nil(),
        chrono::Utc::now().fixed_offset(),
        vec![],
    );
    template.parties = serde_json::from_value(serde_json::json!([
        {"code": "north_army", "label": "Army of the North"},
        {"code": "river_militia", "label": "River militia"}
    ]))
    .expect("parties");
    let profile = coordinator
        .create_profile("East", &[], Some(template))
        .expect("profile");
    drop(coordinator);
    let mut monitor = new_monitor(device.path());
    monitor.import_profile(&profile).expect("installed");
    drop(monitor);

    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "More details");
    for role in ["Initiator", "Target"] {
        for party in ["Army of the North", "River militia"] {
            assert!(
                has(&gui, &format!("{role}: {party}"), AccessibleRole::Checkbox),
                "{role}: {party} is offered"
            );
        }
        assert!(
            labelled(&gui, &format!("{role}: Party A"), AccessibleRole::Checkbox).is_empty(),
            "no built-in party is offered"
        );
        assert!(
            labelled(&gui, role, AccessibleRole::TextInput).is_empty(),
            "with parties, {role} is a choice, not free text"
        );
    }
    tap(&gui, "Violation");
    tap(&gui, "Shelling");
    tap(&gui, "Heard");
    tap(&gui, "Initiator: Army of the North");
    tap(&gui, "Target: River militia");
    tap(&gui, "Save observation");
    gui.settle();
    open_card(&gui, "Violation, Shelling, ");
    assert!(!labels_containing(&gui, "Initiator: Army of the North").is_empty());
    assert!(!labels_containing(&gui, "Target: River militia").is_empty());

    // Locked, the window keeps nothing of the profile: no party is offered.
    gui.lock();
    gui.settle();
    let entry = gui.window().global::<gui::ui::EntryAdapter>();
    assert_eq!(entry.get_parties().row_count(), 0);
    let queue = gui.window().global::<gui::ui::QueueAdapter>();
    assert_eq!(queue.get_parties().row_count(), 0);
    drop(gui);

    let saved = open_journal(device.path()).list(None).expect("list");
    assert_eq!(saved.len(), 1);
    let o = &saved[0].observation;
    assert_eq!(o.initiator.as_deref(), Some("north_army"));
    assert_eq!(o.target.as_deref(), Some("river_militia"));
}

#[test]
fn an_attached_photo_is_listed_in_the_detail() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let photo = dir.path().join("CRATER.PNG");
    write_png(&photo, 640, 480);
    let size = truce_core::evidence::size_text(std::fs::metadata(&photo).expect("size").len());
    {
        let mut journal = open_journal(dir.path());
        journal
            .record_with_attachments(
                truce_sync::parse_object(
                    r#"{"kind":"violation","category":"shelling","method":"camera"}"#,
                )
                .expect("json"),
                &[photo],
            )
            .expect("record with a photo");
    }
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    open_card(&gui, "Violation, Shelling, ");
    let lines = labels_containing(&gui, &format!("Attachment: CRATER.PNG, image/png, {size}"));
    assert_eq!(
        lines.len(),
        1,
        "{:?}",
        labels_containing(&gui, "Attachment")
    );
    // The gallery's tile shows the thumbnail (made on the worker thread), and opens the
    // full-screen viewer.
    gui.settle();
    assert!(
        has(&gui, "View photo CRATER.PNG", AccessibleRole::Button),
        "{:?}",
        labels_containing(&gui, "CRATER")
    );
    tap(&gui, "View photo CRATER.PNG");
    gui.settle();
    assert!(has(&gui, "Photo CRATER.PNG", AccessibleRole::Image));
    tap(&gui, "Close");
    assert!(!has(&gui, "Photo CRATER.PNG", AccessibleRole::Image));

    // "Save a copy" writes the original, byte for byte, and says it is not encrypted.
    let copies = dir.path().join("copies");
    std::fs::create_dir(&copies).expect("copies folder");
    fill(
        &gui,
        "Folder for copies",
        copies.to_str().expect("utf-8 path"),
    );
    tap(&gui, "Save a copy of CRATER.PNG");
    gui.settle();
    assert_eq!(
        std::fs::read(copies.join("CRATER.PNG")).expect("the copy"),
        std::fs::read(dir.path().join("CRATER.PNG")).expect("the photo")
    );
    assert_eq!(labels_containing(&gui, "Saved, not encrypted: ").len(), 1);
    tap(&gui, "Save a copy of CRATER.PNG");
    gui.settle();
    assert!(
        !labels_containing(&gui, "exists already").is_empty(),
        "a second copy does not replace the first"
    );
}

#[test]
fn the_form_attaches_a_photo_picked_from_a_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let card = dir.path().join("DCIM");
    std::fs::create_dir(&card).expect("card");
    let mut bytes = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
    bytes.extend(std::iter::repeat_n(3u8, 2_000));
    std::fs::write(card.join("IMG_0001.JPG"), &bytes).expect("photo");
    std::fs::write(card.join("notes.txt"), "not evidence").expect("text");
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "Violation");
    tap(&gui, "Shelling");
    tap(&gui, "Camera");
    fill(
        &gui,
        "Folder to attach from",
        card.to_str().expect("utf-8 path"),
    );
    tap(&gui, "Show files");
    gui.settle();
    let listed = labels_containing(&gui, "IMG_0001.JPG · image/jpeg, 2 kB");
    assert_eq!(
        listed.len(),
        1,
        "the photo, by its content: {:?} {:?}",
        labels_containing(&gui, "IMG"),
        labels_containing(&gui, "DCIM")
    );
    assert!(
        labels_containing(&gui, "notes.txt").is_empty(),
        "not a text file"
    );
    tap(&gui, &listed[0]);
    tap(&gui, "Save observation");
    gui.settle();
    drop(gui);
    let saved = open_journal(dir.path()).list(None).expect("list");
    assert_eq!(saved.len(), 1);
    let a = &saved[0].observation.attachments;
    assert_eq!(a.len(), 1, "the ticked photo is attached");
    assert_eq!(a[0].name, "IMG_0001.JPG");
}

/// "From camera card": a card mounted under the media roots holds a photo taken now and one
/// taken three hours ago; only the first is listed, with its thumbnail, and once ticked it is
/// attached when the observation is saved.
#[test]
fn the_form_attaches_a_photo_from_the_camera_card_taken_near_its_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let media = dir.path().join("media");
    let card = media.join("ana/EOS_DIGITAL/DCIM/100CANON");
    std::fs::create_dir_all(&card).expect("card");
    write_png(&card.join("IMG_0101.PNG"), 640, 480);
    let old = card.join("IMG_0042.PNG");
    write_png(&old, 640, 480);
    let three_hours_ago = std::time::SystemTime::now() - Duration::from_secs(3 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .and_then(|f| f.set_modified(three_hours_ago))
        .expect("file time");
    let gui = start_with_media(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL, vec![media]);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "Violation");
    tap(&gui, "Shelling");
    tap(&gui, "Camera");
    tap(&gui, "Photos from a camera card taken near this time");
    gui.settle();
    let listed = labels_containing(&gui, "IMG_0101.PNG · taken ");
    assert_eq!(listed.len(), 1, "{:?}", labels_containing(&gui, "IMG_"));
    assert!(listed[0].contains("(file time)"), "{}", listed[0]);
    assert!(
        labels_containing(&gui, "IMG_0042.PNG").is_empty(),
        "taken too long before"
    );
    tap(&gui, &listed[0]);
    tap(&gui, "Save observation");
    gui.settle();
    drop(gui);
    let saved = open_journal(dir.path()).list(None).expect("list");
    assert_eq!(saved.len(), 1);
    let a = &saved[0].observation.attachments;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].name, "IMG_0101.PNG");
}

/// Without a card, the form says what to do.
#[test]
fn without_a_camera_card_the_form_says_to_insert_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start_with_media(
        dir.path(),
        gui::DEFAULT_AUTO_LOCK,
        VERY_TALL,
        vec![dir.path().join("no-media")],
    );
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "Photos from a camera card taken near this time");
    gui.settle();
    assert_eq!(labels_containing(&gui, "No camera card found").len(), 1);
}

/// "Text first" on the Sync screen: the bundle leaves the photo for later, and the device
/// knows the range still owes its media; the next export without it pays the debt.
#[test]
fn the_sync_screen_exports_text_first_and_the_files_later() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let profile = coordinator_profile(hq.path());
    new_journal(device.path());
    let photo = device.path().join("CP4.PNG");
    write_png(&photo, 320, 240);
    {
        let mut journal = open_journal(device.path());
        journal.import_profile(&profile).expect("profile");
        journal
            .record_with_attachments(
                truce_sync::parse_object(
                    r#"{"kind":"violation","category":"shelling","method":"camera"}"#,
                )
                .expect("json"),
                &[photo],
            )
            .expect("record");
    }
    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Export folder", &usb.path().display().to_string());
    tap(&gui, "Text first, files later");
    tap(&gui, "Export");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Bundle written: ").len(), 1);
    let owed = |gui: Gui| {
        drop(gui);
        open_journal(device.path())
            .media_pending_ranges()
            .expect("ranges")
    };
    assert_eq!(owed(gui), vec![(1, 1)], "the photo is owed");

    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Export folder", &usb.path().display().to_string());
    tap(&gui, "Export");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Bundle written: ").len(), 1);
    assert!(owed(gui).is_empty(), "the next export carried it");
}

/// Without the desktop's file chooser (no XDG portal, as in CI), "Choose files…" sends the
/// monitor to the in-app picker, and the Sync screen's "Choose…" buttons say to type the path;
/// the in-app picker then attaches as usual (the_form_attaches_a_photo_picked_from_a_folder).
#[test]
fn without_a_portal_the_choosers_fall_back_to_the_in_app_picker() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "Choose files to attach");
    gui.settle();
    assert_eq!(
        labels_containing(&gui, "file chooser is not available here").len(),
        1,
        "{:?}",
        labels_containing(&gui, "chooser")
    );
    assert!(has(
        &gui,
        "Folder to attach from",
        AccessibleRole::TextInput
    ));
    tap(&gui, "Back");
    gui.settle();
    tap(&gui, "Sync");
    gui.settle();
    tap(&gui, "Choose the export folder");
    gui.settle();
    assert_eq!(
        labels_containing(&gui, "type the path").len(),
        1,
        "{:?}",
        labels_containing(&gui, "chooser")
    );
}

/// The way back in the GUI: a record goes from "not exported" to "awaiting confirmation" with
/// the export, the coordinator writes receipts onto the stick from its Sync screen, and the
/// device reads them from the same folder: the record shows as received, a later one as not
/// exported.
#[test]
fn receipts_written_by_the_coordinator_mark_records_received() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let profile = coordinator_profile(hq.path());
    new_journal(device.path());
    {
        let mut journal = open_journal(device.path());
        journal.import_profile(&profile).expect("profile");
        record(
            &mut journal,
            r#"{"kind":"violation","category":"shelling","method":"heard","narrative":"Goes to HQ"}"#,
        );
    }
    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    assert!(labels_containing(&gui, "Goes to HQ")[0].ends_with("(not yet exported)"));
    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Export folder", &usb.path().display().to_string());
    tap(&gui, "Export");
    gui.settle();
    assert!(!labels_containing(&gui, "0 confirmed · 1 awaiting confirmation").is_empty());
    tap(&gui, "Back");
    gui.settle();
    assert!(labels_containing(&gui, "Goes to HQ")[0].ends_with("(exported, awaiting confirmation)"));
    drop(gui);

    // The coordinator imports the stick and writes the receipts onto it.
    let gui = start(hq.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Import from", &usb.path().display().to_string());
    tap(&gui, "Import bundles");
    gui.settle();
    tap(&gui, "Write receipts into the folder");
    gui.settle();
    assert_eq!(labels_containing(&gui, "1 receipt written").len(), 1);
    assert_touch_targets(&gui, "sync with receipts (coordinator)");
    drop(gui);

    // The device reads them from the same folder: its bundle is passed over, its receipt
    // applied.
    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "New observation");
    tap(&gui, "Incident");
    tap(&gui, "Mine or UXO");
    tap(&gui, "Seen");
    fill(&gui, "Narrative", "Still here");
    tap(&gui, "Save observation");
    gui.settle();
    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Export folder", &usb.path().display().to_string());
    tap(&gui, "Read receipts from the export folder");
    gui.settle();
    assert_eq!(labels_containing(&gui, "1 receipt applied").len(), 1);
    assert!(!labels_containing(&gui, "1 confirmed · 0 awaiting confirmation").is_empty());
    assert_touch_targets(&gui, "sync with receipts (monitor)");
    assert_fits_width(&gui, "sync with receipts (monitor)");
    // A file on the stick that is no receipt at all is named with its reason; the rest is
    // still read.
    std::fs::write(usb.path().join("garbage.age"), b"not age at all").expect("write");
    tap(&gui, "Read receipts from the export folder");
    gui.settle();
    let refused = labels_containing(&gui, "1 file refused");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].contains("garbage.age"), "{refused:?}");
    assert_eq!(labels_containing(&gui, "1 receipt applied").len(), 1);
    tap(&gui, "Back");
    gui.settle();
    assert!(labels_containing(&gui, "Goes to HQ")[0].ends_with("(received by the coordinator)"));
    assert!(labels_containing(&gui, "Still here")[0].ends_with("(not yet exported)"));
}

/// Enrolment in the GUI: the device writes its request and shows its fingerprint; the
/// coordinator reads the request on the Devices screen, compares the same fingerprint, and
/// enrols the device.
#[test]
fn a_device_is_enrolled_from_its_request() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let profile = coordinator_profile(hq.path());
    new_journal(device.path());
    open_journal(device.path())
        .import_profile(&profile)
        .expect("profile");
    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Export folder", &usb.path().display().to_string());
    tap(&gui, "Write the enrolment request into the export folder");
    gui.settle();
    let shown = labels_containing(&gui, "Read this fingerprint to the coordinator");
    assert_eq!(shown.len(), 1, "{shown:?}");
    drop(gui);
    let fingerprint = open_journal(device.path()).device().fingerprint;
    assert!(shown[0].contains(&fingerprint), "{shown:?}");
    let request = truce_core::exchange::bundle_files(&[usb.path().to_path_buf()])
        .expect("files")
        .pop()
        .expect("the request");

    let gui = start(hq.path(), gui::DEFAULT_AUTO_LOCK, TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Devices");
    gui.settle();
    fill(
        &gui,
        "Enrolment request file",
        &request.display().to_string(),
    );
    tap(&gui, "Read the request");
    gui.settle();
    let compared = labels_containing(&gui, "Fingerprint: ");
    assert!(
        compared.iter().any(|l| l.contains(&fingerprint)),
        "both sides show the same fingerprint: {compared:?}"
    );
    assert_fits_width(&gui, "enrolment");
    tap(&gui, "Fingerprint confirmed: enrol");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Enrolled: Ana").len(), 1);
    drop(gui);
    let devices = open_journal(hq.path()).devices().expect("devices");
    assert_eq!(devices.len(), 1);
    assert!(devices[0].accepted_at.is_some());
}

/// The duress passphrase from Settings: typed at the next unlock, it wipes the journal and the
/// app shows the first run of a fresh install, saying nothing of a wipe.
#[test]
fn the_duress_passphrase_typed_at_unlock_leaves_a_fresh_install() {
    let dir = tempfile::tempdir().expect("tempdir");
    new_journal(dir.path());
    let gui = start(dir.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Settings");
    gui.settle();
    fill(
        &gui,
        "Your passphrase, for the duress passphrase",
        PASSPHRASE,
    );
    fill(&gui, "Duress passphrase", "carrot umbrella fjord");
    tap(&gui, "Set duress passphrase");
    gui.settle();
    assert_eq!(labels_containing(&gui, "Duress passphrase set.").len(), 1);
    tap(&gui, "Back");
    tap(&gui, "Lock now");
    gui.settle();
    unlock(&gui, "carrot umbrella fjord");
    gui.settle();
    assert!(!dir.path().join("journal.key").exists());
    assert!(!dir.path().join("journal.db").exists());
    assert!(
        !labels_containing(&gui, "Your name").is_empty(),
        "the first run"
    );
    assert!(
        labels_containing(&gui, "wiped").is_empty(),
        "nothing said of a wipe"
    );
}

/// Hand-over in the GUI: the coordinator that signed the profile names its successor's card,
/// sees the successor's name and fingerprint, and only then signs; the profile lands in the
/// stick's folder, names the successor, and devices take it.
#[test]
fn the_mission_is_handed_over_from_the_sync_screen() {
    let hq = tempfile::tempdir().expect("tempdir");
    let successor = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let profile = coordinator_profile(hq.path());
    let card = usb.path().join("successor-card.json");
    let successor_fingerprint = {
        let journal = new_coordinator(successor.path());
        std::fs::write(&card, journal.coordinator_card().expect("card")).expect("write");
        journal.device().fingerprint
    };
    new_journal(device.path());
    open_journal(device.path())
        .import_profile(&profile)
        .expect("profile");

    let gui = start(hq.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    fill(&gui, "Import from", &usb.path().display().to_string());
    // A file that is not a card says so, and nothing is offered for signing.
    fill(
        &gui,
        "Successor's card file",
        &usb.path().join("missing.json").display().to_string(),
    );
    tap(&gui, "Check card");
    gui.settle();
    assert_eq!(labels_containing(&gui, "cannot read").len(), 1);
    assert!(labels_containing(&gui, "Fingerprint confirmed: hand over").is_empty());
    fill(&gui, "Successor's card file", &card.display().to_string());
    tap(&gui, "Check card");
    gui.settle();
    assert_eq!(
        labels_containing(&gui, "Hand the mission over to HQ desk?").len(),
        1
    );
    assert!(
        !labels_containing(&gui, &successor_fingerprint).is_empty(),
        "the successor's fingerprint is shown to compare"
    );
    assert_touch_targets(&gui, "hand-over");
    assert_fits_width(&gui, "hand-over");
    tap(&gui, "Fingerprint confirmed: hand over");
    gui.settle();
    let banner = labels_containing(&gui, "Mission handed over");
    assert_eq!(banner.len(), 1, "{banner:?}");
    assert!(
        labels_containing(&gui, "Check card").is_empty(),
        "a mission is handed over once"
    );
    drop(gui);

    let written = usb.path().join("mission-profile-2.json");
    assert!(
        banner[0].contains(&written.display().to_string()),
        "{banner:?}"
    );
    let text = std::fs::read_to_string(&written).expect("the profile is on the stick");
    let installed = open_journal(hq.path())
        .profile()
        .expect("profile")
        .expect("installed");
    assert_eq!(installed.text, text);
    assert!(installed.profile.successor().is_some());
    let mut device = open_journal(device.path());
    device.import_profile(&text).expect("the device takes it");
}

/// A regional office forwards the bundles it accepted from its Sync screen, byte for byte.
#[test]
fn a_regional_office_forwards_bundles_from_the_sync_screen() {
    let hq = tempfile::tempdir().expect("tempdir");
    let office = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let for_hq = tempfile::tempdir().expect("tempdir");
    let mut office_journal = new_coordinator(office.path());
    let card = truce_sync::profile::CoordinatorCard::parse(
        &office_journal.coordinator_card().expect("card"),
    )
    .expect("parse");
    let profile = new_coordinator(hq.path())
        .create_profile_with(
            "East",
            &[],
            None,
            &[(card, truce_sync::profile::CoordinatorRole::Regional)],
        )
        .expect("profile");
    office_journal.import_profile(&profile).expect("office");
    {
        let mut journal = new_monitor(device.path());
        journal.import_profile(&profile).expect("device");
        record(
            &mut journal,
            r#"{"kind":"violation","category":"shelling","method":"heard"}"#,
        );
        journal
            .export(usb.path(), truce_core::model::ExportRange::Pending)
            .expect("export");
    }
    let bundles = truce_core::exchange::bundle_files(&[usb.path().to_path_buf()]).expect("files");
    office_journal
        .import_bundles(&bundles, |_| {})
        .expect("import");
    drop(office_journal);

    let gui = start(office.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    assert_eq!(
        labels_containing(&gui, "1 bundles kept for HQ · 1 not yet written for HQ").len(),
        1
    );
    fill(&gui, "Import from", &for_hq.path().display().to_string());
    tap(&gui, "Write bundles for HQ into the folder");
    gui.settle();
    assert_eq!(labels_containing(&gui, "1 bundle written for HQ").len(), 1);
    assert_fits_width(&gui, "forward");
    assert_eq!(
        labels_containing(&gui, "1 bundles kept for HQ · 0 not yet written for HQ").len(),
        1
    );
    drop(gui);
    let forwarded =
        truce_core::exchange::bundle_files(&[for_hq.path().to_path_buf()]).expect("files");
    assert_eq!(forwarded.len(), 1);
    assert_eq!(
        std::fs::read(&forwarded[0]).expect("forwarded"),
        std::fs::read(&bundles[0]).expect("original"),
        "byte for byte"
    );
}

/// On a phone, the Sync screen of a monitor and of a coordinator fits the width: nothing
/// pushes the cards off the screen or makes the page scroll sideways.
#[test]
fn the_sync_screen_fits_a_phone() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let profile = coordinator_profile(hq.path());
    new_journal(device.path());
    open_journal(device.path())
        .import_profile(&profile)
        .expect("profile");
    for dir in [device.path(), hq.path()] {
        let gui = start(dir, gui::DEFAULT_AUTO_LOCK, (360.0, 3200.0));
        unlock(&gui, PASSPHRASE);
        tap(&gui, "Sync");
        gui.settle();
        assert_fits_width(&gui, &format!("sync of {}", dir.display()));
    }
}

/// A coordinator without a profile creates the mission's first one from the Sync screen: a
/// regional office, a purge policy and required enrolment, signed and written onto the stick,
/// where a device installs it. A purge delay that is not a number is refused and writes
/// nothing.
#[test]
fn a_coordinator_creates_the_mission_profile_from_the_sync_screen() {
    let hq = tempfile::tempdir().expect("tempdir");
    let office = tempfile::tempdir().expect("tempdir");
    let usb = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    new_coordinator(hq.path());
    let card = usb.path().join("office-card.json");
    std::fs::write(
        &card,
        new_coordinator(office.path())
            .coordinator_card()
            .expect("card"),
    )
    .expect("write");

    let gui = start(hq.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Sync");
    gui.settle();
    assert!(!labels_containing(&gui, "No mission profile").is_empty());
    fill(&gui, "Import from", &usb.path().display().to_string());
    fill(&gui, "Mission name", "Mission North");
    fill(
        &gui,
        "Regional office's card file",
        &card.display().to_string(),
    );
    fill(&gui, "Purge after days", "a week");
    tap(&gui, "Devices must be enrolled");
    tap(&gui, "Create and sign the mission profile");
    gui.settle();
    assert_eq!(labels_containing(&gui, "is not a number of days").len(), 1);
    assert_eq!(
        truce_core::exchange::bundle_files(&[usb.path().to_path_buf()])
            .expect("files")
            .len(),
        0
    );
    assert!(std::fs::read_dir(usb.path()).expect("list").all(|e| !e
        .expect("entry")
        .file_name()
        .to_string_lossy()
        .starts_with("mission-profile")));
    fill(&gui, "Purge after days", "7");
    assert_touch_targets(&gui, "new mission profile");
    tap(&gui, "Create and sign the mission profile");
    gui.settle();
    let banner = labels_containing(&gui, "Mission profile signed and written");
    assert_eq!(banner.len(), 1, "{banner:?}");
    assert!(
        labels_containing(&gui, "Mission name").is_empty(),
        "the form is gone"
    );
    drop(gui);

    let written = usb.path().join("mission-profile-1.json");
    assert!(
        banner[0].contains(&written.display().to_string()),
        "{banner:?}"
    );
    let text = std::fs::read_to_string(&written).expect("the profile is on the stick");
    let mut device_journal = new_monitor(device.path());
    let profile = device_journal
        .import_profile(&text)
        .expect("a device takes it");
    assert_eq!(profile.mission, "Mission North");
    assert_eq!(profile.coordinators.len(), 2);
    assert_eq!(
        profile.coordinators[1].role,
        truce_sync::profile::CoordinatorRole::Regional
    );
    assert_eq!(profile.purge.map(|p| p.after_receipt_days), Some(7));
    assert!(profile.enrolment_required());
}

/// Purge after receipt in a monitor's Settings: the mission's delay is shown, the device makes
/// it sooner, and a delay that is not a number is refused; a coordinator has no such section.
#[test]
fn a_monitor_makes_the_purge_sooner_in_settings() {
    let hq = tempfile::tempdir().expect("tempdir");
    let device = tempfile::tempdir().expect("tempdir");
    let mut template = truce_sync::profile::MissionProfile::new(
        "East",
        uuid::Uuid::nil(),
        chrono::Utc::now().fixed_offset(),
        Vec::new(),
    );
    template.set_purge(Some(truce_sync::profile::PurgePolicy {
        after_receipt_days: 7,
    }));
    let profile = new_coordinator(hq.path())
        .create_profile("East", &[], Some(template))
        .expect("profile");
    new_journal(device.path());
    open_journal(device.path())
        .import_profile(&profile)
        .expect("profile");

    let gui = start(device.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Settings");
    gui.settle();
    assert_eq!(
        labels_containing(&gui, "Records leave this device 7 days after").len(),
        1
    );
    assert_eq!(
        labels_containing(&gui, "The mission removes them after 7 days").len(),
        1
    );
    fill(&gui, "Purge after days on this device", "soon");
    tap(&gui, "Save the purge setting");
    gui.settle();
    assert_eq!(labels_containing(&gui, "is not a number of days").len(), 1);
    fill(&gui, "Purge after days on this device", "2");
    tap(&gui, "Save the purge setting");
    gui.settle();
    assert_eq!(
        labels_containing(&gui, "Records leave this device 2 days after").len(),
        1
    );
    assert_touch_targets(&gui, "settings (purge)");
    drop(gui);
    assert_eq!(
        open_journal(device.path())
            .purge_after_days()
            .expect("purge"),
        Some(2)
    );

    let gui = start(hq.path(), gui::DEFAULT_AUTO_LOCK, VERY_TALL);
    unlock(&gui, PASSPHRASE);
    tap(&gui, "Settings");
    gui.settle();
    assert!(labels_containing(&gui, "Records leave this device").is_empty());
}
