//! Renders every screen of the GUI to PNG, off-screen with Slint's software renderer, at phone
//! (360×740), tablet (1024×768) and laptop (1280×800) sizes, in the light and the dark theme.
//!
//! ```sh
//! cargo run -p truce --example screenshots -- [OUT_DIR]     # default: target/screenshots
//! ```
//!
//! It drives the real window (`truce_ui::init`) through accessible labels, as the UI tests do,
//! on a sample journal in a temporary folder. Text is set in the UI's embedded DejaVu Sans.

use std::path::{Path, PathBuf};
use std::time::Duration;

use age::secrecy::SecretString;
use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use slint::ComponentHandle;
use truce_core::{Journal, KdfCost, Profile};
use truce_sync::verification::VerificationStatus;
use truce_ui::{self as gui, Gui, GuiOptions};

const FAST: KdfCost = KdfCost::WorkFactor(10);
const PASSPHRASE: &str = "correct horse battery staple";

fn main() {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/screenshots"));
    std::fs::create_dir_all(&out).expect("create the output folder");
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("the software renderer");

    for (size_name, width, height) in [
        ("phone", 360.0, 740.0),
        ("tablet", 1024.0, 768.0),
        ("laptop", 1280.0, 800.0),
    ] {
        for dark in [false, true] {
            // A fresh sample each time: drafts and exports change the journal.
            let folder = tempfile::tempdir().expect("tempdir");
            let sample = folder.path().join("device");
            let hq = folder.path().join("hq");
            let profile = sample_coordinator(&hq);
            sample_journal(&sample, &profile);
            sample_receipts(&sample, &hq, folder.path());
            let usb = folder.path().join("media").join("TRUCE-USB");
            std::fs::create_dir_all(&usb).expect("the sample stick");
            let camera = folder.path().join("media").join("CAMERA").join("DCIM");
            sample_camera_card(&camera);
            let theme = if dark { "dark" } else { "light" };
            let shot = |name: &str, gui: &Gui| {
                let path = out.join(format!("{name}-{size_name}-{theme}.png"));
                save_png(gui, &path);
                println!("{}", path.display());
            };
            let size = slint::LogicalSize::new(width, height);

            // First run.
            let empty = tempfile::tempdir().expect("tempdir");
            let gui = start(empty.path(), dark, size);
            fill(&gui, "Your name", "Ana Kovalenko");
            fill(&gui, "Team (optional)", "Team 3, Sector North");
            fill(&gui, "Passphrase", "orbit lantern cedar");
            shot("01-setup", &gui);
            drop(gui);

            // A new device's first mission profile: its signer's key to confirm.
            let fresh = empty.path().join("fresh");
            drop(
                Journal::init(
                    &fresh,
                    &SecretString::from(PASSPHRASE.to_owned()),
                    Profile {
                        observer: "Ana Kovalenko".into(),
                        team: None,
                        role: truce_sync::Role::Monitor,
                    },
                    FAST,
                )
                .expect("init"),
            );
            let profile_file = empty.path().join("profile.json");
            std::fs::write(&profile_file, &profile).expect("the profile file");
            let gui = start(&fresh, dark, size);
            fill(&gui, "Passphrase", PASSPHRASE);
            tap(&gui, "Unlock");
            gui.settle();
            tap(&gui, "Sync");
            gui.settle();
            gui.window()
                .window()
                .set_size(slint::LogicalSize::new(width, 3200.0));
            fill(&gui, "Profile file", &profile_file.display().to_string());
            tap(&gui, "Import profile");
            gui.settle();
            gui.window().window().set_size(size);
            scroll(&gui, 3000.0);
            shot("14a-sync-first-profile", &gui);
            drop(gui);

            // Locked, wrong passphrase, unlocking.
            let gui = start_with_media(&sample, dark, size, vec![folder.path().join("media")]);
            shot("02-unlock", &gui);
            fill(&gui, "Passphrase", "wrong guess");
            tap(&gui, "Unlock");
            gui.settle();
            shot("03-unlock-wrong-passphrase", &gui);
            fill(&gui, "Passphrase", PASSPHRASE);
            tap(&gui, "Unlock");
            shot("04-unlocking", &gui);
            gui.settle();

            // The journal.
            shot("05-journal", &gui);
            tap(&gui, "Violation");
            shot("06-journal-filtered", &gui);
            tap(&gui, "All kinds");
            tap(&gui, "Filters");
            tap(&gui, "Category: Shelling");
            gui.settle();
            shot("06b-journal-category-day-filters", &gui);
            tap(&gui, "All categories");
            tap(&gui, "Filters");
            gui.settle();

            // A new observation, then a validation error.
            tap(&gui, "New observation");
            // Long forms go below the fold on a phone: pick and fill in a tall window.
            gui.window()
                .window()
                .set_size(slint::LogicalSize::new(width, 2000.0));
            // On a laptop the list's filter chips are on screen too: the form's come last.
            tap_last(&gui, "Violation");
            tap(&gui, "Small arms fire");
            tap(&gui, "Heard");
            gui.window().window().set_size(size);
            shot("07-new-observation", &gui);
            // Photos from the camera's card, listed by the in-app picker, one ticked.
            gui.window()
                .window()
                .set_size(slint::LogicalSize::new(width, 3200.0));
            fill(
                &gui,
                "Folder to attach from",
                camera.to_str().expect("a UTF-8 path"),
            );
            tap(&gui, "Show files");
            gui.settle();
            i_slint_backend_testing::ElementQuery::from_root(gui.window())
                .match_descendants()
                .match_predicate(|e| {
                    e.accessible_role() == Some(AccessibleRole::Checkbox)
                        && e.accessible_label()
                            .is_some_and(|l| l.starts_with("IMG_0417"))
                })
                .find_first()
                .expect("the photo's chip")
                .invoke_accessible_default_action();
            gui.settle();
            gui.window().window().set_size(size);
            scroll(&gui, 1500.0);
            shot("07a-new-observation-attachments", &gui);
            scroll(&gui, -5000.0);
            // From the camera card: the photos taken near the observation's time.
            gui.window()
                .window()
                .set_size(slint::LogicalSize::new(width, 3200.0));
            tap(&gui, "Photos from a camera card taken near this time");
            gui.settle();
            gui.window().window().set_size(size);
            scroll(&gui, 1500.0);
            shot("07d-new-observation-camera-card", &gui);
            scroll(&gui, -5000.0);
            // The optional details, opened, the form scrolled down to them.
            gui.window()
                .window()
                .set_size(slint::LogicalSize::new(width, 3200.0));
            tap(&gui, "More details");
            tap(&gui, "Direction NE");
            gui.window().window().set_size(size);
            // Below the attachments ticked above.
            scroll(&gui, 1250.0);
            scroll(&gui, 300.0);
            shot("07b-new-observation-details", &gui);
            scroll(&gui, 600.0);
            shot("07c-new-observation-details-end", &gui);
            scroll(&gui, -5000.0);
            gui.window()
                .window()
                .set_size(slint::LogicalSize::new(width, 2000.0));
            fill(&gui, "Latitude", "95.2");
            fill(&gui, "Longitude", "37.80");
            fill(
                &gui,
                "Narrative",
                "Bursts of small arms fire to the north-east.",
            );
            gui.window().window().set_size(size);
            tap(&gui, "Save observation");
            gui.settle();
            shot("08-new-observation-error", &gui);
            tap(&gui, if width < 900.0 { "Back" } else { "Cancel" });

            // Detail and amend.
            let card = ElementQuery::cards(&gui, "Shelling");
            card.invoke_accessible_default_action();
            gui.settle();
            shot("09-detail", &gui);
            scroll(&gui, if width < 900.0 { 640.0 } else { 360.0 });
            shot("09a-detail-gallery", &gui);
            tap(&gui, "View photo crater-north-cp4.png");
            gui.settle();
            shot("09b-photo-viewer", &gui);
            tap(&gui, "Close");
            scroll(&gui, -2000.0);
            gui.window()
                .window()
                .set_size(slint::LogicalSize::new(width, 2000.0));
            tap(&gui, "Amend this observation");
            gui.window().window().set_size(size);
            scroll(&gui, 560.0);
            shot("10-amend", &gui);
            scroll(&gui, -2000.0);
            if width < 900.0 {
                tap(&gui, "Back");
            }

            // Settings.
            tap(&gui, "Settings");
            shot("11-settings", &gui);
            scroll(&gui, if width < 900.0 { 1020.0 } else { 560.0 });
            shot("11b-settings-purge", &gui);
            scroll(&gui, 3000.0);
            fill(&gui, "Type WIPE to confirm", "WIPE");
            shot("12-settings-wipe", &gui);
            fill(&gui, "Type WIPE to confirm", "");
            scroll(&gui, 3000.0);
            fill(&gui, "Duress passphrase", "carrot umbrella fjord");
            shot("12b-settings-duress", &gui);
            fill(&gui, "Duress passphrase", "");
            scroll(&gui, -3000.0);
            tap(&gui, "Back");

            // The form left at step 08 is kept as a draft across a lock.
            gui.lock();
            gui.settle();
            fill(&gui, "Passphrase", PASSPHRASE);
            tap(&gui, "Unlock");
            gui.settle();
            tap(&gui, "New observation");
            shot("13-draft-restored", &gui);
            tap(&gui, "Discard the draft");
            gui.settle();
            tap(&gui, if width < 900.0 { "Back" } else { "Cancel" });

            // Sync, as a monitor: pending entries, export to the stick.
            tap(&gui, "Sync");
            gui.settle();
            fill(&gui, "Export folder", &usb.display().to_string());
            shot("14-sync-export", &gui);
            tap(&gui, "Export");
            gui.settle();
            shot("15-sync-exported", &gui);
            // The stick came back with receipts: one of them for this device.
            let back = folder.path().join("returned");
            fill(&gui, "Export folder", &back.display().to_string());
            scroll(&gui, 600.0);
            tap(&gui, "Read receipts from the export folder");
            gui.settle();
            shot("15b-sync-receipts-read", &gui);
            // A file on the stick that is no receipt is named with why.
            std::fs::write(back.join("2026-11-30-3f9a1c.age"), b"not a receipt")
                .expect("a damaged file");
            tap(&gui, "Read receipts from the export folder");
            gui.settle();
            shot("15c-sync-receipt-refused", &gui);
            drop(gui);

            // Sync, as a coordinator: the stick imported twice.
            let gui = start(&hq, dark, size);
            fill(&gui, "Passphrase", PASSPHRASE);
            tap(&gui, "Unlock");
            gui.settle();
            tap(&gui, "Sync");
            gui.settle();
            fill(&gui, "Import from", &usb.display().to_string());
            tap(&gui, "Import bundles");
            gui.settle();
            shot("16-sync-import", &gui);
            scroll(&gui, 600.0);
            tap(&gui, "Write receipts into the folder");
            gui.settle();
            shot("16b-sync-receipts-written", &gui);
            // The hand-over, checked and waiting for the fingerprint to be confirmed.
            let card = sample_successor_card(&folder.path().join("successor"), &usb);
            scroll(&gui, 600.0);
            fill(&gui, "Successor's card file", &card.display().to_string());
            tap(&gui, "Check card");
            gui.settle();
            scroll(&gui, 300.0);
            shot("16c-sync-handover-check", &gui);
            drop(gui);

            // A regional office, after writing the bundles it keeps for HQ.
            let office = sample_regional_office(folder.path());
            let gui = start(&office, dark, size);
            fill(&gui, "Passphrase", PASSPHRASE);
            tap(&gui, "Unlock");
            gui.settle();
            tap(&gui, "Sync");
            gui.settle();
            let for_hq = folder.path().join("for-hq");
            std::fs::create_dir_all(&for_hq).expect("the stick for HQ");
            fill(&gui, "Import from", &for_hq.display().to_string());
            scroll(&gui, 600.0);
            tap(&gui, "Write bundles for HQ into the folder");
            gui.settle();
            shot("16d-sync-forward", &gui);
            drop(gui);

            // A new coordinator, filling in the mission's first profile.
            let fresh = folder.path().join("fresh-hq");
            sample_successor_card(&fresh, &folder.path().join("unused-card"));
            let gui = start(&fresh, dark, size);
            fill(&gui, "Passphrase", PASSPHRASE);
            tap(&gui, "Unlock");
            gui.settle();
            tap(&gui, "Sync");
            gui.settle();
            fill(&gui, "Import from", &usb.display().to_string());
            scroll(&gui, 300.0);
            fill(&gui, "Mission name", "Mission North");
            fill(
                &gui,
                "Regional office's card file",
                &usb.join("kharkiv-card.json").display().to_string(),
            );
            fill(&gui, "Purge after days", "7");
            scroll(&gui, 300.0);
            tap(&gui, "Devices must be enrolled");
            gui.settle();
            shot("16e-sync-new-profile", &gui);
            drop(gui);

            // The coordinator workspace, on the imported records and a second device's month.
            coordinator_screens(&hq, &folder.path().join("team5"), &usb, dark, size, &shot);
        }
    }
    let folder = tempfile::tempdir().expect("tempdir");
    let profile = sample_coordinator(&folder.path().join("hq"));
    sample_journal(&folder.path().join("device"), &profile);
    french(&folder.path().join("device"), &out);
}

/// The incident queue, verification, report, alerts, exports and devices of a coordinator.
fn coordinator_screens(
    hq: &Path,
    team5: &Path,
    usb: &Path,
    dark: bool,
    size: slint::LogicalSize,
    shot: &dyn Fn(&str, &Gui),
) {
    let profile = open_journal(hq)
        .profile()
        .expect("profile")
        .expect("a profile")
        .text;
    second_device(team5, &profile, usb);
    third_device(&team5.with_file_name("team7"), &profile, usb);
    {
        let mut journal = open_journal(hq);
        for file in truce_core::exchange::bundle_files(&[usb.to_path_buf()]).expect("bundles") {
            journal.import_bundle(&file).expect("import");
        }
        // Every device's fingerprint checked but Team 7's: its report stays marked as pending.
        for device in journal.devices().expect("devices") {
            if device.observer != "Mira Sahin" {
                journal
                    .accept_device(&device.device_id.to_string())
                    .expect("accept");
            }
        }
        let list = journal
            .query(&truce_core::model::ObservationFilter::default())
            .expect("query");
        for (i, row) in list.iter().enumerate().take(12) {
            let id = row.revision.observation.id.to_string();
            let (status, note) = match i % 4 {
                0 => (
                    VerificationStatus::Verified,
                    "Confirmed by Team 5 and crater analysis.",
                ),
                1 => (
                    VerificationStatus::Corroborated,
                    "Second team heard the same impacts.",
                ),
                2 => (
                    VerificationStatus::Disputed,
                    "No trace found on the next patrol.",
                ),
                _ => continue,
            };
            journal.verify(&id, status, note).expect("verify");
        }
    }
    let gui = start(hq, dark, size);
    fill(&gui, "Passphrase", PASSPHRASE);
    tap(&gui, "Unlock");
    gui.settle();
    shot("20-queue", &gui);
    tap(&gui, "Filters");
    shot("21-queue-filters", &gui);
    tap(&gui, "Status: Verified");
    tap(&gui, "Show results");
    gui.settle();
    tap(&gui, "Filters");
    tap(&gui, "Clear filters");
    tap(&gui, "Show results");
    gui.settle();
    let card = ElementQuery::cards(&gui, "Shelling");
    card.invoke_accessible_default_action();
    gui.settle();
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(size.width, 2400.0));
    tap(&gui, "New status: Corroborated");
    fill(
        &gui,
        "Verification note",
        "Team 5 heard the same impacts from checkpoint 7.",
    );
    tap(&gui, "Save status");
    gui.settle();
    tap(&gui, "New status: Verified");
    fill(
        &gui,
        "Verification note",
        "Crater analysis by the technical team.",
    );
    tap(&gui, "Save status");
    gui.settle();
    gui.window().window().set_size(size);
    scroll(&gui, 440.0);
    shot("22-verification", &gui);
    // The end of the detail: the event cluster and the reports likely to be the same event.
    scroll(&gui, 3000.0);
    shot("22b-link-suggestions", &gui);
    scroll(&gui, -3000.0);
    if size.width < 900.0 {
        tap(&gui, "Back");
    }
    tap(&gui, "Report");
    gui.settle();
    fill(&gui, "Report from", "2026-11-23 00:00");
    fill(&gui, "Report to", "2026-11-24 00:00");
    tap(&gui, "Show report");
    gui.settle();
    shot("23-report", &gui);
    scroll(&gui, 520.0);
    shot("24-report-counts", &gui);
    scroll(&gui, -3000.0);
    if size.width < 900.0 {
        tap(&gui, "Back");
    }
    tap(&gui, "Alerts");
    gui.settle();
    shot("25-alerts", &gui);
    if size.width < 900.0 {
        tap(&gui, "Back");
    }
    tap(&gui, "Export data");
    gui.settle();
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(size.width, 2000.0));
    fill(&gui, "Data export folder", &usb.display().to_string());
    tap(&gui, "Public, redacted");
    tap(&gui, "Write the export");
    gui.settle();
    gui.window().window().set_size(size);
    shot("26-exports", &gui);
    scroll(&gui, 3000.0);
    shot("26-exports-written", &gui);
    scroll(&gui, -3000.0);
    if size.width < 900.0 {
        tap(&gui, "Back");
    }
    tap(&gui, "Devices");
    gui.settle();
    shot("27-devices", &gui);
    // Revoking a device: the reason asked for, the cut-off said.
    scroll(&gui, 900.0);
    let revoke =
        ElementHandle::find_by_accessible_label(gui.window(), "Revoke the device of Ana Kovalenko")
            .next();
    if let Some(button) = revoke {
        button.invoke_accessible_default_action();
        gui.settle();
        scroll(&gui, 250.0);
        fill(&gui, "Reason for revoking", "Stolen at checkpoint 7");
        shot("27b-devices-revoke", &gui);
    }
}

/// A second monitor's month: a few reports a day over 30 days, as one bundle on the stick.
fn second_device(dir: &Path, profile: &str, usb: &Path) {
    std::fs::create_dir_all(dir).expect("the second device");
    let mut journal = Journal::init(
        dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Jonas Berg".into(),
            team: Some("Team 5".into()),
            role: truce_sync::Role::Monitor,
        },
        FAST,
    )
    .expect("init");
    journal
        .import_profile(profile)
        .expect("the mission profile");
    let kinds = [
        (
            "violation",
            "shelling",
            "heard",
            "Explosions to the east, assessed 120mm mortar.",
        ),
        (
            "violation",
            "small_arms",
            "heard",
            "Small arms fire near the river crossing.",
        ),
        (
            "movement_restriction",
            "monitor_obstruction",
            "seen",
            "Patrol stopped at checkpoint 7 for 30 minutes.",
        ),
        (
            "violation",
            "heavy_weapons_movement",
            "seen",
            "Two tanks moving south on the main road.",
        ),
        (
            "incident",
            "civilian_harm",
            "reported",
            "One civilian injured by shrapnel, reported by the clinic.",
        ),
    ];
    for day in 0..30u32 {
        for n in 0..(1 + (day * 7 + 3) % 5) {
            let (kind, category, method, narrative) = kinds[((day + n) % 5) as usize];
            let date = chrono::NaiveDate::from_ymd_opt(2026, 10, 26).expect("date")
                + chrono::Duration::days(i64::from(day));
            let json = format!(
                r#"{{"kind":"{kind}","category":"{category}","method":"{method}","observed_at":"{date}T{:02}:15:00+02:00","severity":{},"narrative":"{narrative}"}}"#,
                6 + n * 3,
                1 + (day + n) % 5
            );
            journal
                .record(truce_sync::parse_object(&json).expect("sample JSON"))
                .expect("sample record");
        }
    }
    // Late on the last day: the mortar impacts Team 7 also reports (see `third_device`), and
    // small arms fire a few kilometres away, for the detail's link suggestions.
    for json in [
        r#"{"kind":"violation","category":"shelling","method":"seen_heard","observed_at":"2026-11-24T10:20:00+02:00","lat":48.0162,"lon":37.8031,"severity":3,"narrative":"Mortar impacts near the river crossing, east bank."}"#,
        r#"{"kind":"violation","category":"small_arms","method":"heard","observed_at":"2026-11-24T11:30:00+02:00","lat":48.0504,"lon":37.8602,"severity":2,"narrative":"Small arms fire after the impacts, to the north-east."}"#,
    ] {
        journal
            .record(truce_sync::parse_object(json).expect("sample JSON"))
            .expect("sample record");
    }
    journal
        .export(usb, truce_core::model::ExportRange::Pending)
        .expect("export");
}

/// A third monitor with one report of the same shelling as the second's last one, as a bundle.
fn third_device(dir: &Path, profile: &str, usb: &Path) {
    std::fs::create_dir_all(dir).expect("the third device");
    let mut journal = Journal::init(
        dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Mira Sahin".into(),
            team: Some("Team 7".into()),
            role: truce_sync::Role::Monitor,
        },
        FAST,
    )
    .expect("init");
    journal
        .import_profile(profile)
        .expect("the mission profile");
    let json = r#"{"kind":"violation","category":"shelling","method":"heard","observed_at":"2026-11-24T10:40:00+02:00","lat":48.0312,"lon":37.8264,"event_count":6,"severity":3,"narrative":"Six impacts heard to the south-west, about 2 km, from the observation post."}"#;
    journal
        .record(truce_sync::parse_object(json).expect("sample JSON"))
        .expect("sample record");
    journal
        .export(usb, truce_core::model::ExportRange::Pending)
        .expect("export");
}

/// The way back, sampled: the device's first four entries reached HQ and were confirmed, the
/// next two are on a stick not yet read, the rest never left. HQ's receipts for the first
/// stick are applied, and a second copy of them waits in `<folder>/returned`.
fn sample_receipts(device: &Path, hq: &Path, folder: &Path) {
    let first = folder.join("first-stick");
    let second = folder.join("second-stick");
    let returned = folder.join("returned");
    for dir in [&first, &second, &returned] {
        std::fs::create_dir_all(dir).expect("a sample stick");
    }
    let mut journal = open_journal(device);
    journal
        .export(&first, truce_core::model::ExportRange::Seqs(1, 4))
        .expect("export");
    journal
        .export(&second, truce_core::model::ExportRange::Seqs(5, 6))
        .expect("export");
    let mut coordinator = open_journal(hq);
    let bundles =
        truce_core::exchange::bundle_files(std::slice::from_ref(&first)).expect("bundles");
    coordinator
        .import_bundles(&bundles, |_| {})
        .expect("import");
    coordinator
        .write_receipts(&first, |_| {})
        .expect("receipts");
    coordinator
        .write_receipts(&returned, |_| {})
        .expect("receipts");
    let files = truce_core::exchange::bundle_files(&[first]).expect("files");
    journal.import_receipts(&files, |_| {}).expect("applied");
}

/// A successor coordinator's journal in `dir`; its card written onto `usb`.
fn sample_successor_card(dir: &Path, usb: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("the successor's folder");
    std::fs::create_dir_all(usb).expect("the stick");
    let journal = Journal::init(
        dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Mission East HQ (Kharkiv)".into(),
            team: None,
            role: truce_sync::Role::Coordinator,
        },
        FAST,
    )
    .expect("init the successor");
    let card = usb.join("kharkiv-card.json");
    std::fs::write(&card, journal.coordinator_card().expect("card")).expect("write the card");
    card
}

/// A regional office listed by an HQ's profile, holding three bundles of a device for HQ.
/// Returns the office's folder.
fn sample_regional_office(folder: &Path) -> PathBuf {
    let dir = folder.join("office");
    std::fs::create_dir_all(&dir).expect("the office's folder");
    let mut office = Journal::init(
        &dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Sloviansk office".into(),
            team: None,
            role: truce_sync::Role::Coordinator,
        },
        FAST,
    )
    .expect("init the office");
    let card =
        truce_sync::profile::CoordinatorCard::parse(&office.coordinator_card().expect("card"))
            .expect("the card");
    let hq_dir = folder.join("office-hq");
    std::fs::create_dir_all(&hq_dir).expect("HQ's folder");
    let profile = Journal::init(
        &hq_dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Mission East HQ".into(),
            team: None,
            role: truce_sync::Role::Coordinator,
        },
        FAST,
    )
    .expect("init HQ")
    .create_profile_with(
        "Mission East",
        &[],
        None,
        &[(card, truce_sync::profile::CoordinatorRole::Regional)],
    )
    .expect("HQ's profile");
    office
        .import_profile(&profile)
        .expect("the office's profile");
    let device_dir = folder.join("office-device");
    let mut device = Journal::init(
        &device_dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Bohdan".into(),
            team: Some("Team 2".into()),
            role: truce_sync::Role::Monitor,
        },
        FAST,
    )
    .expect("init the device");
    device
        .import_profile(&profile)
        .expect("the device's profile");
    let stick = folder.join("office-stick");
    std::fs::create_dir_all(&stick).expect("the device's stick");
    for n in 0..3 {
        let record: serde_json::Map<String, serde_json::Value> = serde_json::from_value(
            serde_json::json!({"kind": "violation", "category": "shelling", "method": "heard",
                "narrative": format!("Sample report {n}")}),
        )
        .expect("a record");
        device.record(record).expect("record");
        device
            .export(&stick, truce_core::model::ExportRange::Pending)
            .expect("export");
    }
    let bundles = truce_core::exchange::bundle_files(&[stick]).expect("bundles");
    office.import_bundles(&bundles, |_| {}).expect("import");
    drop(office);
    dir
}

fn open_journal(dir: &Path) -> Journal {
    Journal::open(dir, &SecretString::from(PASSPHRASE.to_owned())).expect("open")
}

/// A coordinator's journal and the mission profile it signed.
fn sample_coordinator(dir: &Path) -> String {
    std::fs::create_dir_all(dir).expect("the coordinator folder");
    let mut journal = Journal::init(
        dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Regional office".into(),
            team: None,
            role: truce_sync::Role::Coordinator,
        },
        FAST,
    )
    .expect("init the coordinator");
    let mut template = truce_sync::profile::MissionProfile::new(
        "Mission East",
        uuid::Uuid::nil(),
        chrono::Utc::now().fixed_offset(),
        Vec::new(),
    );
    template.set_time_zone(Some(("Europe/Kyiv".into(), Some("19:30".into()))));
    template.alert_rules = vec![truce_sync::profile::AlertRule {
        name: "Violations in one day".into(),
        kinds: vec!["violation".into()],
        categories: Vec::new(),
        area: None,
        window_hours: 24,
        threshold: 3,
        level: 3,
    }];
    journal
        .create_profile("Mission East", &[], Some(template))
        .expect("the mission profile")
}

struct ElementQuery;

impl ElementQuery {
    /// The first journal card whose label contains `part`.
    fn cards(gui: &Gui, part: &str) -> ElementHandle {
        let part = part.to_owned();
        i_slint_backend_testing::ElementQuery::from_root(gui.window())
            .match_descendants()
            .match_predicate(move |e| {
                e.accessible_role() == Some(AccessibleRole::Button)
                    && e.accessible_label().is_some_and(|l| l.contains(&part))
            })
            .find_first()
            .expect("a card")
    }
}

fn start(dir: &Path, dark: bool, size: slint::LogicalSize) -> Gui {
    start_in(dir, dark, size, "en")
}

/// [`start`] with removable media (the sample camera card) mounted under `media_roots`.
fn start_with_media(
    dir: &Path,
    dark: bool,
    size: slint::LogicalSize,
    media_roots: Vec<std::path::PathBuf>,
) -> Gui {
    let gui = gui::init(GuiOptions {
        data_dir: dir.to_path_buf(),
        kdf_cost: FAST,
        auto_lock: gui::DEFAULT_AUTO_LOCK,
        dark,
        language: "en".into(),
        media_roots,
        portal: false,
    })
    .expect("the window builds");
    gui.window().window().set_size(size);
    gui.window().show().expect("show");
    gui
}

fn start_in(dir: &Path, dark: bool, size: slint::LogicalSize, language: &str) -> Gui {
    let gui = gui::init(GuiOptions {
        data_dir: dir.to_path_buf(),
        kdf_cost: FAST,
        auto_lock: gui::DEFAULT_AUTO_LOCK,
        dark,
        language: language.into(),
        media_roots: Vec::new(),
        portal: false,
    })
    .expect("the window builds");
    gui.window().window().set_size(size);
    gui.window().show().expect("show");
    gui
}

/// A few screens in French, phone size, light theme.
fn french(sample: &Path, out: &Path) {
    let size = slint::LogicalSize::new(360.0, 740.0);
    let shot = |name: &str, gui: &Gui| {
        let path = out.join(format!("fr-{name}-phone-light.png"));
        save_png(gui, &path);
        println!("{}", path.display());
    };
    let gui = start_in(sample, false, size, "fr");
    fill(&gui, "Phrase secrète", PASSPHRASE);
    tap(&gui, "Déverrouiller");
    gui.settle();
    shot("05-journal", &gui);
    tap(&gui, "Nouvelle observation");
    tap(&gui, "Violation");
    tap(&gui, "Bombardement");
    shot("07-new-observation", &gui);
    tap(&gui, "Retour");
    tap(&gui, "Réglages");
    shot("11-settings", &gui);
    tap(&gui, "Retour");
    tap(&gui, "Synchro");
    gui.settle();
    shot("14-sync-export", &gui);
    tap(&gui, "Retour");
    tap(&gui, "Réglages");
    tap(&gui, "English");
}

fn tap(gui: &Gui, label: &str) {
    let found = ElementHandle::find_by_accessible_label(gui.window(), label)
        .find(|e| {
            matches!(
                e.accessible_role(),
                Some(AccessibleRole::Button | AccessibleRole::Checkbox)
            )
        })
        .unwrap_or_else(|| {
            let buttons: Vec<String> =
                ElementHandle::find_by_element_type_name(gui.window(), "Button")
                    .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
                    .collect();
            panic!("no control labelled {label:?}; buttons: {buttons:?}")
        });
    found.invoke_accessible_default_action();
}

/// Scrolls the last scroll view on screen (the detail pane) down by `dy` pixels.
fn scroll(gui: &Gui, dy: f32) {
    if let Some(view) = ElementHandle::find_by_element_type_name(gui.window(), "ScrollView").last()
    {
        view.scroll(0.0, -dy);
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(500));
    }
}

fn tap_last(gui: &Gui, label: &str) {
    let found = ElementHandle::find_by_accessible_label(gui.window(), label)
        .filter(|e| {
            matches!(
                e.accessible_role(),
                Some(AccessibleRole::Button | AccessibleRole::Checkbox)
            )
        })
        .last()
        .unwrap_or_else(|| {
            let buttons: Vec<String> =
                ElementHandle::find_by_element_type_name(gui.window(), "Button")
                    .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
                    .collect();
            panic!("no control labelled {label:?}; buttons: {buttons:?}")
        });
    found.invoke_accessible_default_action();
}

fn fill(gui: &Gui, label: &str, text: &str) {
    let found = ElementHandle::find_by_accessible_label(gui.window(), label)
        .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
        .unwrap_or_else(|| panic!("no text field labelled {label:?}"));
    found.set_accessible_value(text);
}

fn save_png(gui: &Gui, path: &Path) {
    // Let animations and deferred layout settle before drawing.
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(400));
    let shot = gui.window().window().take_snapshot().expect("snapshot");
    let file = std::fs::File::create(path).expect("create the PNG");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), shot.width(), shot.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(shot.as_bytes()).expect("PNG data");
}

/// A journal with a realistic day of observations, two of them amended, and the mission
/// profile installed.
/// A camera's card: two photos and a scanned document, as the in-app picker lists them.
fn sample_camera_card(dir: &Path) {
    std::fs::create_dir_all(dir).expect("the sample card");
    for (name, size) in [("IMG_0416.JPG", 2_310_000), ("IMG_0417.JPG", 2_140_000)] {
        let mut bytes = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
        bytes.resize(size, 0x5A);
        std::fs::write(dir.join(name), bytes).expect("a sample photo");
    }
    let photos = dir.join("100CANON");
    std::fs::create_dir_all(&photos).expect("the camera's folder");
    sample_photo(&photos.join("IMG_0418.PNG"), 1200, 900);
    sample_photo(&photos.join("IMG_0419.PNG"), 900, 1200);
    std::fs::write(
        dir.join("checkpoint-log.pdf"),
        b"%PDF-1.7\n% a scanned log\n",
    )
    .expect("a sample document");
}

/// A photo-like picture: earth, a darker crater in the middle, sky above the horizon.
fn sample_photo(path: &Path, width: u32, height: u32) {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("PNG header");
        let (cx, cy) = (width as f32 * 0.55, height as f32 * 0.62);
        let data: Vec<u8> = (0..width * height)
            .flat_map(|i| {
                let (x, y) = ((i % width) as f32, (i / width) as f32);
                if y < height as f32 * 0.35 {
                    let t = y / (height as f32 * 0.35);
                    return [(150.0 + 60.0 * t) as u8, (175.0 + 40.0 * t) as u8, 205];
                }
                let d =
                    (((x - cx) / 1.6).powi(2) + (y - cy).powi(2)).sqrt() / (height as f32 * 0.18);
                let grain = ((x * 12.9898 + y * 78.233).sin() * 43758.547).fract().abs() * 30.0;
                let shade = if d < 1.0 {
                    60.0 + 50.0 * d
                } else {
                    120.0 + 20.0 / d
                };
                [
                    (shade + grain) as u8,
                    (shade * 0.82 + grain) as u8,
                    (shade * 0.6 + grain) as u8,
                ]
            })
            .collect();
        writer.write_image_data(&data).expect("PNG data");
    }
    std::fs::write(path, bytes).expect("the sample photo");
}

fn sample_journal(dir: &Path, profile: &str) {
    std::fs::create_dir_all(dir).expect("the sample folder");
    let mut journal = Journal::init(
        dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Ana Kovalenko".into(),
            team: Some("Team 3".into()),
            role: truce_sync::Role::Monitor,
        },
        FAST,
    )
    .expect("init");
    let records = [
        r#"{"kind":"other","category":"other","method":"seen","observed_at":"2026-11-23T07:10:00+02:00","place":"Patrol base","narrative":"Start of patrol. Route via checkpoints 2, 4 and 7; all team members present."}"#,
        r#"{"kind":"incident","category":"mine_uxo","method":"seen","observed_at":"2026-11-23T09:40:00+02:00","lat":48.0159,"lon":37.8028,"place":"Road to Novoselivka, km 12","severity":2,"narrative":"Unexploded 122mm shell on the road shoulder, marked with tape and reported to the local authorities."}"#,
        r#"{"kind":"movement_restriction","category":"monitor_obstruction","method":"seen","observed_at":"2026-11-23T11:05:00+02:00","place":"Checkpoint 7","severity":3,"narrative":"Patrol denied passage at checkpoint 7 for 45 minutes; no reason given by the commander."}"#,
        r#"{"kind":"de_escalation","category":"withdrawal_verified","method":"seen","observed_at":"2026-11-23T13:30:00+02:00","place":"Storage site B","severity":1,"narrative":"Four towed howitzers verified in the designated storage site, serial numbers match the inventory."}"#,
        r#"{"kind":"violation","category":"small_arms","method":"heard","observed_at":"2026-11-23T19:50:00+02:00","event_count":12,"count_approx":true,"direction_deg":40,"severity":2,"narrative":"Bursts of small arms fire, north-east, 1–2 km."}"#,
        r#"{"kind":"violation","category":"airstrike_drone","method":"seen_heard","observed_at":"2026-11-24T02:15:00+02:00","place":"East of the river crossing","severity":4,"narrative":"Drone hovering over the crossing for 10 minutes, then an explosion on the east bank."}"#,
        r#"{"kind":"violation","category":"shelling","method":"heard","observed_at":"2026-11-24T05:30:00+02:00","place":"2 km north of checkpoint 4","event_count":40,"count_approx":true,"weapon":"82mm mortar (assessed)","direction_deg":350,"distance_min_m":1500,"distance_max_m":3000,"severity":3,"narrative":"About 40 explosions heard north of checkpoint 4 between 05:30 and 06:10, assessed 82mm mortar."}"#,
    ];
    let mut ids = Vec::new();
    for json in records {
        let saved = journal
            .record(truce_sync::parse_object(json).expect("sample JSON"))
            .expect("sample record");
        ids.push(saved.observation.id.to_string());
    }
    let shelling = ids.last().expect("ids").clone();
    journal
        .amend(
            &shelling,
            truce_sync::parse_object(r#"{"severity":4,"killed":0,"injured":1}"#).expect("patch"),
        )
        .expect("amend");
    // A photo of the impact area and the checkpoint's log, attached afterwards (the detail's
    // gallery shows them).
    let photo = dir.with_file_name("crater-north-cp4.png");
    sample_photo(&photo, 1200, 900);
    let log = dir.with_file_name("checkpoint-log.pdf");
    std::fs::write(&log, b"%PDF-1.7\n% the checkpoint's log, scanned\n").expect("the sample PDF");
    let voice = dir.with_file_name("voice-note-0531.ogg");
    std::fs::write(
        &voice,
        include_bytes!("../../tests/testdata/media/voice.ogg"),
    )
    .expect("the sample voice note");
    journal
        .attach(&shelling, &[photo, voice, log])
        .expect("attach");
    journal
        .import_profile(profile)
        .expect("the mission profile");
}
