//! What the device list says of a device's activity: when its latest bundle was made and when
//! its newest record was saved, never when a stick was last read, so a team that sent nothing
//! for a week does not look fresh because an old bundle was imported again.

use age::secrecy::SecretString;
use serde_json::json;
use truce_core::model::ExportRange;
use truce_core::{Journal, KdfCost, Profile};
use truce_sync::Role;

fn journal(dir: &std::path::Path, observer: &str, role: Role) -> Journal {
    let profile = Profile {
        observer: observer.into(),
        team: None,
        role,
    };
    let pass = SecretString::from("device list test".to_owned());
    Journal::init(dir, &pass, profile, KdfCost::WorkFactor(10)).expect("journal")
}

#[test]
fn the_device_list_shows_when_bundles_were_made_not_when_they_were_read() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut coordinator = journal(&root.path().join("hq"), "HQ", Role::Coordinator);
    let profile = coordinator
        .create_profile("East", &[], None)
        .expect("profile");
    let mut device = journal(&root.path().join("device"), "Ana", Role::Monitor);
    device.import_profile(&profile).expect("profile installed");
    let usb = root.path().join("usb");
    std::fs::create_dir_all(&usb).expect("usb folder");
    let record = |device: &mut Journal| {
        let value = json!({"kind": "violation", "category": "shelling", "method": "heard"});
        device
            .record(value.as_object().cloned().expect("object"))
            .expect("recorded")
    };
    record(&mut device);
    let older = device
        .export(&usb, ExportRange::Pending)
        .expect("export")
        .expect("a bundle");
    // Bundle times are to the second: the second bundle is made in a later second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let newest = record(&mut device);
    let newer = device
        .export(&usb, ExportRange::Pending)
        .expect("export")
        .expect("a bundle");

    coordinator.import_bundle(&newer.path).expect("import");
    coordinator.import_bundle(&older.path).expect("import");
    let listed = coordinator.devices().expect("devices");
    assert_eq!(listed.len(), 1);
    let ana = &listed[0];
    let utc = |t: chrono::DateTime<chrono::FixedOffset>| {
        t.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    assert_eq!(
        ana.latest_bundle_created_at.as_deref(),
        Some(utc(newer.created_at).as_str()),
        "the newest bundle made, although the older one was read last"
    );
    assert_eq!(
        ana.newest_entry_at.as_deref(),
        Some(utc(newest.recorded_at).as_str())
    );
    let read_last = ana.last_bundle_at.clone();

    // Reading the stick again changes nothing the list shows.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    coordinator.import_bundle(&older.path).expect("again");
    coordinator.import_bundle(&newer.path).expect("again");
    let again = &coordinator.devices().expect("devices")[0];
    assert_eq!(again.last_bundle_at, read_last, "held bundles move nothing");
    assert_eq!(again.latest_bundle_created_at, ana.latest_bundle_created_at);
    assert_eq!(again.newest_entry_at, ana.newest_entry_at);
}
