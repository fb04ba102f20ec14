//! UI tests of the coordinator workspace: the incident queue, verification in the detail, the
//! devices, the report, the alerts and data exports, on a coordinator journal seeded with a
//! monitor's bundle. Driven through accessible labels with Slint's testing backend.

mod common;
use common::*;

use std::cell::Cell;
use std::path::Path;
use std::time::Duration;

use age::secrecy::SecretString;
use i_slint_backend_testing::AccessibleRole;
use slint::ComponentHandle;
use truce_core::model::ExportRange;
use truce_core::Journal;
use truce_sync::profile::{AlertRule, Area, MissionProfile};
use truce_sync::taxonomy::Code;
use truce_sync::verification::VerificationStatus;
use truce_ui::{self as gui, Gui, GuiOptions};

/// Phone-wide and tall enough that long screens need no scrolling (the testing backend only
/// finds what is on screen).
const TALL: (f32, f32) = (360.0, 2400.0);
const PHONE: (f32, f32) = (360.0, 740.0);
const LAPTOP: (f32, f32) = (1280.0, 2400.0);

thread_local! {
    static BACKEND: Cell<bool> = const { Cell::new(false) };
}

fn start(dir: &Path, (width, height): (f32, f32)) -> Gui {
    if !BACKEND.get() {
        i_slint_backend_testing::init_no_event_loop();
        BACKEND.set(true);
    }
    let gui = gui::init(GuiOptions {
        data_dir: dir.to_path_buf(),
        kdf_cost: FAST,
        auto_lock: gui::DEFAULT_AUTO_LOCK,
        dark: false,
        language: "en".into(),
        media_roots: Vec::new(),
        portal: false,
    })
    .expect("the window builds");
    resize(&gui, (width, height));
    gui
}

fn resize(gui: &Gui, (width, height): (f32, f32)) {
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(width, height));
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(50));
}

/// Taps the button or chip labelled `label`, then lets the journal thread answer.
fn tap(gui: &Gui, label: &str) {
    common::tap(gui, label);
    gui.settle();
}

/// The queue's cards on screen (their labels end with the time and the narrative).
fn cards(gui: &Gui) -> Vec<String> {
    i_slint_backend_testing::ElementQuery::from_root(gui.window())
        .match_predicate(|e| {
            e.accessible_role() == Some(AccessibleRole::Button)
                && e.accessible_label()
                    .is_some_and(|l| l.contains(", 2026-11-"))
        })
        .find_all()
        .into_iter()
        .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
        .collect()
}

fn open_card(gui: &Gui, part: &str) {
    let card = i_slint_backend_testing::ElementQuery::from_root(gui.window())
        .match_predicate({
            let part = part.to_owned();
            move |e| {
                e.accessible_role() == Some(AccessibleRole::Button)
                    && e.accessible_label().is_some_and(|l| l.contains(&part))
            }
        })
        .find_first()
        .unwrap_or_else(|| panic!("no card with {part:?}"));
    card.invoke_accessible_default_action();
    gui.settle();
}

fn open(dir: &Path) -> Journal {
    Journal::open(dir, &SecretString::from(PASSPHRASE.to_owned())).expect("open")
}

/// A mission with one area, one party and one alert rule (3 shelling reports in North in 24 h).
fn template() -> MissionProfile {
    let mut t = MissionProfile::new(
        "East",
        uuid::Uuid::nil(),
        chrono::Utc::now().fixed_offset(),
        Vec::new(),
    );
    t.areas = vec![Area {
        code: "north".into(),
        label: "North".into(),
        bbox: Some([37.0, 48.0, 38.0, 49.0]),
    }];
    t.parties = vec![Code {
        code: "party_a".into(),
        label: "Party A".into(),
    }];
    t.alert_rules = vec![AlertRule {
        name: "shelling north".into(),
        kinds: vec!["violation".into()],
        categories: vec!["shelling".into()],
        area: Some("north".into()),
        window_hours: 24,
        threshold: 3,
        level: 3,
    }];
    t
}

/// The records of the seed: four on 2026-11-23 (three shelling in North), one the day before.
const RECORDS: [&str; 5] = [
    r#"{"kind":"violation","category":"shelling","method":"heard","observed_at":"2026-11-23T05:00:00+00:00","lat":48.5,"lon":37.5,"initiator":"party_a","narrative":"Shelling north of checkpoint 4"}"#,
    r#"{"kind":"violation","category":"shelling","method":"heard","observed_at":"2026-11-23T06:00:00+00:00","lat":48.6,"lon":37.4,"narrative":"More shelling, heavier"}"#,
    r#"{"kind":"violation","category":"shelling","method":"seen_heard","observed_at":"2026-11-23T07:00:00+00:00","lat":48.4,"lon":37.6,"narrative":"Impacts near the school"}"#,
    r#"{"kind":"violation","category":"small_arms","method":"heard","observed_at":"2026-11-23T10:00:00+00:00","narrative":"Bursts of small arms fire"}"#,
    r#"{"kind":"incident","category":"mine_uxo","method":"seen","observed_at":"2026-11-22T09:00:00+00:00","place":"Bridge","narrative":"Unexploded shell near the bridge"}"#,
];

/// A coordinator journal in `hq` holding a monitor's five records from one bundle, its device
/// accepted; the first shelling report is already verified. Returns the ids, in the order of
/// `RECORDS`.
fn seed(hq: &Path, device: &Path, usb: &Path) -> Vec<String> {
    let ids = seed_pending(hq, device, usb);
    let mut coordinator = open(hq);
    let device = coordinator.devices().expect("devices")[0].device_id;
    coordinator
        .accept_device(&device.to_string())
        .expect("accepted");
    coordinator
        .verify(&ids[0], VerificationStatus::Verified, "Seen by two teams")
        .expect("verify");
    ids
}

/// The same as [`seed`], with the device not accepted yet and nothing verified.
fn seed_pending(hq: &Path, device: &Path, usb: &Path) -> Vec<String> {
    let mut coordinator = new_coordinator(hq);
    let profile = coordinator
        .create_profile("East", &[], Some(template()))
        .expect("profile");
    drop(coordinator);

    let mut monitor = new_monitor(device);
    monitor
        .import_profile(&profile)
        .expect("install the profile");
    let ids: Vec<String> = RECORDS
        .iter()
        .map(|json| {
            monitor
                .record(truce_sync::parse_object(json).expect("json"))
                .expect("record")
                .observation
                .id
                .to_string()
        })
        .collect();
    let bundle = monitor
        .export(usb, ExportRange::Pending)
        .expect("export")
        .expect("a bundle");
    drop(monitor);

    let mut coordinator = open(hq);
    let report = coordinator.import_bundle(&bundle.path).expect("import");
    assert_eq!(report.new_entries, 5, "{report:?}");
    assert!(report.device_pending);
    ids
}

fn unlock(gui: &Gui) {
    fill(gui, "Passphrase", PASSPHRASE);
    tap(gui, "Unlock");
    assert!(gui.is_unlocked());
}

#[test]
fn the_queue_filters_by_status_and_search_and_verification_keeps_a_trail() {
    let (hq, device, usb) = (tempdir(), tempdir(), tempdir());
    let ids = seed(hq.path(), device.path(), usb.path());
    let gui = start(hq.path(), TALL);
    unlock(&gui);

    // The coordinator's home is the queue: every device's records with their status.
    assert!(!labels_containing(&gui, "Incidents").is_empty());
    assert_eq!(cards(&gui).len(), 5, "{:?}", cards(&gui));
    assert_eq!(labels_containing(&gui, ", Verified, ").len(), 1);

    // Filter by status.
    tap(&gui, "Filters");
    tap(&gui, "Status: Verified");
    tap(&gui, "Show results");
    let shown = cards(&gui);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].contains("Shelling, Verified"), "{shown:?}");
    tap(&gui, "Filters");
    tap(&gui, "Status: Unverified");
    tap(&gui, "Show results");
    assert_eq!(cards(&gui).len(), 4);
    // A day range, then clear.
    tap(&gui, "Filters");
    tap(&gui, "Status: All");
    fill(&gui, "From day", "2026-11-22");
    fill(&gui, "To day", "2026-11-22");
    tap(&gui, "Show results");
    assert_eq!(cards(&gui).len(), 1);
    tap(&gui, "Filters");
    fill(&gui, "To day", "22/11");
    tap(&gui, "Show results");
    assert!(!labels_containing(&gui, "is not a day").is_empty());
    tap(&gui, "Clear filters");
    tap(&gui, "Show results");
    assert_eq!(cards(&gui).len(), 5);
    // Area and party come from the mission profile.
    tap(&gui, "Filters");
    tap(&gui, "Area: North");
    tap(&gui, "Show results");
    assert_eq!(cards(&gui).len(), 3);
    tap(&gui, "Filters");
    tap(&gui, "Party: Party A");
    tap(&gui, "Show results");
    assert_eq!(cards(&gui).len(), 1);
    tap(&gui, "Filters");
    tap(&gui, "Clear filters");
    tap(&gui, "Show results");

    // Search in narratives.
    fill(&gui, "Search narratives", "bridge");
    gui.settle();
    let shown = cards(&gui);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].contains("Unexploded shell"));
    fill(&gui, "Search narratives", "");
    gui.settle();
    assert_eq!(cards(&gui).len(), 5);

    // Verification: a status needs a note.
    open_card(&gui, "Bursts of small arms fire");
    assert!(!labels_containing(&gui, "Current status: Unverified").is_empty());
    assert!(
        labelled(&gui, "Amend this observation", AccessibleRole::Button).is_empty(),
        "a coordinator does not amend field records"
    );
    tap(&gui, "New status: Disputed");
    tap(&gui, "Save status");
    assert_eq!(labels_containing(&gui, "Write a note saying why").len(), 1);
    assert!(open(hq.path())
        .verification_trail(&ids[3])
        .expect("trail")
        .is_empty());
    fill(
        &gui,
        "Verification note",
        "Team 5 heard nothing at that hour",
    );
    tap(&gui, "Save status");
    assert!(labels_containing(&gui, "Write a note saying why").is_empty());
    let trail = labels_containing(&gui, "Unverified → Disputed");
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert!(
        trail[0].contains("HQ desk: Team 5 heard nothing at that hour"),
        "{trail:?}"
    );
    assert!(!labels_containing(&gui, "Current status: Disputed").is_empty());
    assert_eq!(value_of(&gui, "Verification note"), "");
    // A second step shows where it came from.
    tap(&gui, "New status: Unfounded");
    fill(
        &gui,
        "Verification note",
        "Confirmed as a training exercise",
    );
    tap(&gui, "Save status");
    assert_eq!(labels_containing(&gui, "Disputed → Unfounded").len(), 1);

    // Linked as the same event as the first shelling report.
    let short: String = ids[0].chars().skip(ids[0].len() - 8).collect();
    fill(&gui, "Report to link", &short);
    tap(&gui, "Link as same event");
    assert_eq!(labels_containing(&gui, "Linked as the same event").len(), 1);
    assert_eq!(
        labels_containing(&gui, "Open Shelling, 2026-11-23 05:00").len(),
        1
    );

    // The field record is untouched; the trail is in the journal.
    tap(&gui, "Back");
    assert!(!labels_containing(&gui, "Small arms fire, Unfounded").is_empty());
    drop(gui);
    let journal = open(hq.path());
    let history = journal.show(&ids[3]).expect("show");
    assert_eq!(history.len(), 1, "no new revision");
    assert_eq!(
        history[0].observation.narrative,
        "Bursts of small arms fire"
    );
    let trail = journal.verification_trail(&ids[3]).expect("trail");
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[1].status, VerificationStatus::Unfounded);
    assert_eq!(trail[0].by_observer, "HQ desk");
}

/// A device seen for the first time: its cards are marked, it counts in no report, and the
/// Devices screen accepts it once its fingerprint is confirmed; then it counts.
#[test]
fn a_pending_device_is_marked_and_accepted_from_the_devices_screen() {
    let (hq, device, usb) = (tempdir(), tempdir(), tempdir());
    seed_pending(hq.path(), device.path(), usb.path());
    let gui = start(hq.path(), LAPTOP);
    unlock(&gui);
    assert_eq!(cards(&gui).len(), 5, "visible while pending");
    assert_eq!(
        labels_containing(&gui, "Device not accepted: counts nowhere yet").len(),
        5
    );
    tap(&gui, "Report");
    fill(&gui, "Report from", "2026-11-23 00:00");
    fill(&gui, "Report to", "2026-11-24 00:00");
    tap(&gui, "Show report");
    assert_eq!(
        labels_containing(&gui, "Events in the period: "),
        ["Events in the period: 0"]
    );
    tap(&gui, "Devices");
    assert_eq!(
        labels_containing(&gui, "Pending: its records count").len(),
        1
    );
    tap(&gui, "Accept the device of Ana K.");
    gui.settle();
    assert!(labels_containing(&gui, "Pending: its records count").is_empty());
    assert!(labels_containing(&gui, "Accept the device of").is_empty());
    assert!(labels_containing(&gui, "Device not accepted").is_empty());
    tap(&gui, "Report");
    tap(&gui, "Show report");
    assert_eq!(
        labels_containing(&gui, "Events in the period: "),
        ["Events in the period: 4"]
    );
    drop(gui);
    let journal = open(hq.path());
    assert!(journal.devices().expect("devices")[0].accepted_at.is_some());
}

/// The coordinator's device list, read while the window holds the journal unlocked.
fn open_devices(hq: &std::path::Path) -> Vec<truce_core::KnownDevice> {
    open(hq).devices().expect("devices")
}

#[test]
fn devices_report_alerts_and_exports() {
    let (hq, device, usb) = (tempdir(), tempdir(), tempdir());
    let out = tempdir();
    seed(hq.path(), device.path(), usb.path());
    let gui = start(hq.path(), LAPTOP);
    unlock(&gui);

    // Devices.
    tap(&gui, "Devices");
    let devices = labels_containing(&gui, "Device of ");
    assert_eq!(devices, ["Device of Ana K.: 5 entries"]);
    assert!(!labels_containing(&gui, "No gaps").is_empty());
    assert!(!labels_containing(&gui, "Fingerprint: ").is_empty());
    // When the team last recorded and sent, never when a stick was read.
    let known = open_devices(hq.path());
    let shown = |t: &Option<String>| {
        let t =
            chrono::DateTime::parse_from_rfc3339(t.as_deref().expect("known")).expect("RFC 3339");
        format!("{} UTC", t.format("%Y-%m-%d %H:%M"))
    };
    assert_eq!(
        labels_containing(&gui, "Newest record: "),
        [format!(
            "Newest record: {}",
            shown(&known[0].newest_entry_at)
        )]
    );
    assert_eq!(
        labels_containing(&gui, "Latest bundle made: "),
        [format!(
            "Latest bundle made: {}",
            shown(&known[0].latest_bundle_created_at)
        )]
    );

    // The report for 2026-11-23: four records, one the day before.
    tap(&gui, "Report");
    fill(&gui, "Report from", "2026-11-23 00:00");
    fill(&gui, "Report to", "2026-11-24 00:00");
    tap(&gui, "Show report");
    assert_eq!(
        labels_containing(&gui, "Events in the period: "),
        ["Events in the period: 4"]
    );
    assert_eq!(labels_containing(&gui, "North: 3 (previous 0)").len(), 1);
    assert_eq!(labels_containing(&gui, "Shelling: 3 (previous 0)").len(), 1);
    assert_eq!(
        labels_containing(&gui, "Mine or UXO: 0 (previous 1)").len(),
        1
    );
    assert_eq!(labels_containing(&gui, "Party A: 1 (previous 0)").len(), 1);
    assert!(!labels_containing(&gui, "Daily events, last 30 days; highest 4").is_empty());
    assert!(
        !labels_containing(&gui, "Daily report").is_empty(),
        "24 hours: a daily report"
    );
    fill(&gui, "Report from", "2026-11-17 00:00");
    tap(&gui, "Show report");
    assert!(
        !labels_containing(&gui, "Weekly report").is_empty(),
        "7 days: a weekly report"
    );
    assert!(labels_containing(&gui, "Daily report").is_empty());
    fill(&gui, "Report from", "yesterday");
    tap(&gui, "Show report");
    assert!(!labels_containing(&gui, "is not a time").is_empty());
    fill(&gui, "Report from", "2026-11-23");
    tap(&gui, "Show report");
    fill(&gui, "Report folder", &out.path().display().to_string());
    tap(&gui, "Save HTML report");
    let html = out.path().join("truce-report-20261124-0000.html");
    let text = std::fs::read_to_string(&html).expect("the HTML report");
    assert!(text.contains("<svg") && text.contains("East: daily report"));
    assert_eq!(
        labels_containing(&gui, &format!("Report saved: {}", html.display())).len(),
        1
    );
    // The default period is the 24 hours up to the cut-off.
    fill(&gui, "Daily cut-off", "25:00");
    tap(&gui, "The mission's last day, up to the cut-off");
    assert!(!labels_containing(&gui, "is not a time of day").is_empty());

    // Alerts: the rule fired on the three shelling reports; a record opens its detail.
    tap(&gui, "Alerts");
    let alerts = labels_containing(&gui, "Level 3: ");
    assert_eq!(alerts, ["Level 3: shelling north, area North, 3 records"]);
    let records = labels_containing(&gui, "Open Shelling, 2026-11-23");
    assert_eq!(records.len(), 3, "{records:?}");
    tap(&gui, "Open Shelling, 2026-11-23 06:00");
    assert!(!labels_containing(&gui, "Narrative: More shelling, heavier").is_empty());

    // Exports: a full CSV, then the public one (verified and corroborated only).
    tap(&gui, "Export data");
    fill(
        &gui,
        "Data export folder",
        &out.path().display().to_string(),
    );
    tap(&gui, "Write the export");
    let written = labels_containing(&gui, "5 observations written to: ");
    assert_eq!(written.len(), 1, "{written:?}");
    let path = written[0]
        .strip_prefix("5 observations written to: ")
        .expect("path");
    let rows = csv_rows(Path::new(path));
    assert_eq!(rows.len(), 5);
    tap(&gui, "Public, redacted");
    tap(&gui, "Write the export");
    let written = labels_containing(&gui, "1 observation written to: ");
    assert_eq!(written.len(), 1, "{written:?}");
    let path = written[0]
        .strip_prefix("1 observation written to: ")
        .expect("path");
    assert!(path.contains("truce-public-"));
    let rows = csv_rows(Path::new(path));
    assert_eq!(rows.len(), 1);
    let text = std::fs::read_to_string(path).expect("read");
    assert!(!text.contains("Ana K."), "no observer in a public export");
    // GeoJSON, every status chosen by hand.
    tap(&gui, "GeoJSON");
    for status in ["Unverified", "Disputed", "Unfounded"] {
        tap(&gui, &format!("Export status: {status}"));
    }
    tap(&gui, "Write the export");
    let written = labels_containing(&gui, "5 observations written to: ");
    assert_eq!(written.len(), 1, "{written:?}");
    let path = written[0]
        .strip_prefix("5 observations written to: ")
        .expect("path");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("GeoJSON");
    assert_eq!(json["features"].as_array().map(Vec::len), Some(5));
    // A folder that is not there: said so.
    fill(
        &gui,
        "Data export folder",
        &out.path().join("missing").display().to_string(),
    );
    tap(&gui, "Write the export");
    assert!(!labels_containing(&gui, "is not a folder").is_empty());
}

#[test]
fn coordinator_screens_have_48px_touch_targets_on_a_phone() {
    let (hq, device, usb) = (tempdir(), tempdir(), tempdir());
    seed(hq.path(), device.path(), usb.path());
    let gui = start(hq.path(), PHONE);
    unlock(&gui);
    assert_touch_targets(&gui, "queue");
    tap(&gui, "Filters");
    assert_touch_targets(&gui, "queue filters");
    tap(&gui, "Filters");
    for (screen, label) in [
        ("report", "Report"),
        ("alerts", "Alerts"),
        ("exports", "Export data"),
        ("devices", "Devices"),
    ] {
        tap(&gui, label);
        assert_touch_targets(&gui, screen);
        tap(&gui, "Back");
    }
    open_card(&gui, "Bursts of small arms fire");
    assert_touch_targets(&gui, "detail (coordinator)");
}

/// The queue filters, the report cut-off and the export folder come back after a lock and
/// after closing the app: they are kept inside the encrypted journal, not in settings.json.
#[test]
fn working_preferences_are_restored_from_the_journal() {
    let (hq, device, usb) = (tempdir(), tempdir(), tempdir());
    let out = tempdir();
    seed(hq.path(), device.path(), usb.path());
    let gui = start(hq.path(), TALL);
    unlock(&gui);
    assert_eq!(cards(&gui).len(), 5);

    tap(&gui, "Filters");
    tap(&gui, "Status: Unverified");
    tap(&gui, "Area: North");
    tap(&gui, "Sort: Oldest");
    tap(&gui, "Show results");
    let filtered = cards(&gui);
    assert_eq!(filtered.len(), 2, "{filtered:?}");
    tap(&gui, "Report");
    fill(&gui, "Daily cut-off", "19:30");
    tap(&gui, "The mission's last day, up to the cut-off");
    tap(&gui, "Back");
    tap(&gui, "Export data");
    let folder = out.path().display().to_string();
    fill(&gui, "Data export folder", &folder);
    tap(&gui, "Write the export");
    assert_eq!(
        labels_containing(&gui, "5 observations written to: ").len(),
        1
    );
    tap(&gui, "Back");

    // Locked: nothing of them is left on screen; unlocked: all of them are back.
    gui.lock();
    gui.settle();
    assert!(cards(&gui).is_empty());
    unlock(&gui);
    assert_eq!(
        cards(&gui),
        filtered,
        "the filters and the order are restored"
    );
    tap(&gui, "Report");
    assert_eq!(value_of(&gui, "Daily cut-off"), "19:30");
    tap(&gui, "Back");
    tap(&gui, "Export data");
    assert_eq!(value_of(&gui, "Data export folder"), folder);
    tap(&gui, "Back");
    drop(gui);

    // Closed and started again.
    let settings = hq.path().join(truce_core::journal::SETTINGS_FILE);
    let plaintext = std::fs::read_to_string(&settings).unwrap_or_default();
    assert!(
        !plaintext.contains("19:30")
            && !plaintext.contains(&folder)
            && !plaintext.contains("north"),
        "preferences leaked into {}: {plaintext}",
        settings.display()
    );
    let gui = start(hq.path(), TALL);
    unlock(&gui);
    assert_eq!(cards(&gui), filtered);
    tap(&gui, "Report");
    assert_eq!(value_of(&gui, "Daily cut-off"), "19:30");
    tap(&gui, "Back");
    // Clearing the filters is remembered too.
    tap(&gui, "Filters");
    tap(&gui, "Clear filters");
    tap(&gui, "Show results");
    assert_eq!(cards(&gui).len(), 5);
    drop(gui);

    let prefs = open(hq.path()).preferences().expect("preferences");
    assert_eq!(prefs.cutoff.to_string(), "19:30");
    assert_eq!(prefs.export_dir.as_deref(), Some(out.path()));
    assert_eq!(prefs.queue.area, None);
    assert_eq!(prefs.queue.status, None);
    assert_eq!(
        prefs.queue.sort,
        truce_core::model::SortOrder::OldestObserved
    );
}

/// The suggestion rows on screen, in the order shown.
fn suggestions(gui: &Gui) -> Vec<String> {
    i_slint_backend_testing::ElementQuery::from_root(gui.window())
        .match_predicate(|e| {
            e.accessible_label()
                .is_some_and(|l| l.starts_with("Suggested: "))
        })
        .find_all()
        .into_iter()
        .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
        .collect()
}

#[test]
fn the_detail_suggests_reports_of_the_same_event_and_links_them() {
    let (hq, device, usb) = (tempdir(), tempdir(), tempdir());
    let ids = seed(hq.path(), device.path(), usb.path());
    let mut journal = open(hq.path());
    let mut record = |json: &str| {
        journal
            .record(truce_sync::parse_object(json).expect("json"))
            .expect("record")
            .observation
            .id
            .to_string()
    };
    // 40 minutes after the first shelling report and about 1.8 km from it.
    let near = record(
        r#"{"kind":"violation","category":"shelling","method":"heard","observed_at":"2026-11-23T05:40:00+00:00","lat":48.51,"lon":37.52,"narrative":"Explosions heard from checkpoint 4"}"#,
    );
    // No position, but in the same area; 30 minutes before.
    let in_area = record(
        r#"{"kind":"violation","category":"shelling","method":"reported","observed_at":"2026-11-23T04:30:00+00:00","place":"North","narrative":"Shelling reported by phone"}"#,
    );
    // Close, but another kind.
    record(
        r#"{"kind":"incident","category":"civilian_harm","method":"reported","observed_at":"2026-11-23T05:10:00+00:00","lat":48.5,"lon":37.5,"narrative":"One injured"}"#,
    );
    drop(journal);

    let gui = start(hq.path(), TALL);
    unlock(&gui);
    open_card(&gui, "Shelling north of checkpoint 4");
    let shown = suggestions(&gui);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(
        shown[0],
        "Suggested: Shelling, 2026-11-23 05:40, 1.8 km, HQ desk"
    );
    assert_eq!(
        shown[1],
        "Suggested: Shelling, 2026-11-23 04:30, North, HQ desk"
    );
    assert_touch_targets(&gui, "detail with suggestions");

    tap(&gui, "Link Shelling, 2026-11-23 05:40");
    assert_eq!(labels_containing(&gui, "Linked as the same event").len(), 1);
    assert_eq!(
        labels_containing(&gui, "Open Shelling, 2026-11-23 05:40").len(),
        1,
        "the event cluster shows the linked report"
    );
    assert_eq!(
        suggestions(&gui),
        ["Suggested: Shelling, 2026-11-23 04:30, North, HQ desk"],
        "a linked report is no longer suggested"
    );
    drop(gui);

    let journal = open(hq.path());
    let (_, linked) = journal
        .event_cluster(&ids[0])
        .expect("cluster")
        .expect("an event");
    let mut linked: Vec<String> = linked.iter().map(|k| k.id.to_string()).collect();
    linked.sort();
    let mut expected = vec![ids[0].clone(), near];
    expected.sort();
    assert_eq!(linked, expected);
    let ranked = journal.link_suggestions(&ids[0]).expect("suggestions");
    assert_eq!(ranked.len(), 1);
    assert_eq!(ranked[0].revision.observation.id.to_string(), in_area);
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_path(path).expect("open the CSV");
    reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .expect("parse the CSV")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// A monitor's photo reaches the coordinator's gallery: the import keeps it, the detail shows
/// its thumbnail and opens it full screen, and "Write evidence package" writes the package
/// into the folder on screen.
#[test]
fn the_coordinators_gallery_shows_an_imported_photo_and_writes_the_evidence_package() {
    let hq = tempdir();
    let device = tempdir();
    let usb = tempdir();
    let mut coordinator = new_coordinator(hq.path());
    let profile = coordinator
        .create_profile("East", &[], Some(template()))
        .expect("profile");
    drop(coordinator);
    let mut monitor = new_monitor(device.path());
    monitor.import_profile(&profile).expect("profile");
    let photo = device.path().join("SCHOOL.PNG");
    write_png(&photo, 800, 600);
    let id = monitor
        .record_with_attachments(
            truce_sync::parse_object(RECORDS[2]).expect("json"),
            &[photo],
        )
        .expect("record")
        .observation
        .id
        .to_string();
    let bundle = monitor
        .export(usb.path(), ExportRange::Pending)
        .expect("export")
        .expect("a bundle");
    drop(monitor);
    let mut coordinator = open(hq.path());
    coordinator.import_bundle(&bundle.path).expect("import");
    let device_id = coordinator.devices().expect("devices")[0].device_id;
    coordinator
        .accept_device(&device_id.to_string())
        .expect("accept");
    drop(coordinator);

    let gui = start(hq.path(), TALL);
    unlock(&gui);
    open_card(&gui, "Impacts near the school");
    gui.settle();
    assert!(
        has(&gui, "View photo SCHOOL.PNG", AccessibleRole::Button),
        "{:?}",
        labels_containing(&gui, "SCHOOL")
    );
    tap(&gui, "View photo SCHOOL.PNG");
    gui.settle();
    assert!(has(&gui, "Photo SCHOOL.PNG", AccessibleRole::Image));
    tap(&gui, "Close");

    let court = tempdir();
    fill(
        &gui,
        "Folder for copies",
        court.path().to_str().expect("utf-8"),
    );
    tap(&gui, "Write evidence package");
    gui.settle();
    let written = labels_containing(&gui, "Evidence package written, not encrypted: ");
    assert_eq!(
        written.len(),
        1,
        "{:?}",
        labels_containing(&gui, "evidence")
    );
    let end = &id[id.len() - 8..];
    let folder = court.path().join(format!("evidence-{end}"));
    assert!(folder.join("README.txt").is_file());
    assert!(folder.join("SHA256SUMS").is_file());
}

/// Revoking from the Devices screen: a reason is asked for, the device shows as revoked after
/// its last entry held, and the journal keeps the cut-off.
#[test]
fn a_device_is_revoked_from_the_devices_screen() {
    let (hq, device, usb) = (tempdir(), tempdir(), tempdir());
    seed_pending(hq.path(), device.path(), usb.path());
    let gui = start(hq.path(), LAPTOP);
    unlock(&gui);
    tap(&gui, "Devices");
    tap(&gui, "Revoke the device of Ana K.");
    gui.settle();
    assert!(!labels_containing(&gui, "This cannot be undone").is_empty());
    fill(&gui, "Reason for revoking", "Stolen at checkpoint 7");
    tap(&gui, "Confirm the revocation");
    gui.settle();
    let shown = labels_containing(&gui, "Revoked after entry");
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].contains("Stolen at checkpoint 7"), "{shown:?}");
    assert!(labels_containing(&gui, "Revoke the device of").is_empty());
    drop(gui);
    let devices = open_devices(hq.path());
    let (after, _, reason) = devices[0].revoked.clone().expect("revoked");
    assert_eq!(after, devices[0].last_seq);
    assert_eq!(reason, "Stolen at checkpoint 7");
}
