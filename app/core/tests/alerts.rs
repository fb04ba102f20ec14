//! Escalation alerts through the journal API: evaluated again after every import that adds
//! records, and not before (the evaluated alerts are kept until a revision is added).

use age::secrecy::SecretString;
use serde_json::{json, Map, Value};
use truce_core::model::ExportRange;
use truce_core::{Journal, KdfCost, Profile};
use truce_sync::profile::{AlertRule, MissionProfile};
use truce_sync::Role;

fn pass() -> SecretString {
    SecretString::from("alerts test passphrase".to_owned())
}

fn journal(dir: &std::path::Path, observer: &str, role: Role) -> Journal {
    let profile = Profile {
        observer: observer.into(),
        team: None,
        role,
    };
    Journal::init(dir, &pass(), profile, KdfCost::WorkFactor(10)).expect("journal")
}

fn shelling(hour: u32) -> Map<String, Value> {
    let value = json!({
        "kind": "violation", "category": "shelling", "method": "heard",
        "observed_at": format!("2026-11-20T{hour:02}:00:00Z"), "lat": 48.5, "lon": 37.5,
    });
    value.as_object().cloned().expect("an object")
}

#[test]
fn alerts_follow_each_import_and_stay_put_without_one() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut coordinator = journal(&root.path().join("hq"), "HQ", Role::Coordinator);
    let mut template = MissionProfile::new(
        "East",
        uuid::Uuid::nil(),
        chrono::Utc::now().fixed_offset(),
        Vec::new(),
    );
    template.alert_rules = vec![AlertRule {
        name: "shelling".into(),
        kinds: vec!["violation".into()],
        categories: vec!["shelling".into()],
        area: None,
        window_hours: 24,
        threshold: 3,
        level: 3,
    }];
    let profile = coordinator
        .create_profile("East", &[], Some(template))
        .expect("profile");
    let mut device = journal(&root.path().join("device"), "Ana", Role::Monitor);
    device.import_profile(&profile).expect("profile installed");
    let usb = root.path().join("usb");
    std::fs::create_dir_all(&usb).expect("usb folder");
    let send = |coordinator: &mut Journal, device: &mut Journal, hours: &[u32]| {
        for hour in hours {
            device.record(shelling(*hour)).expect("recorded");
        }
        let bundle = device
            .export(&usb, ExportRange::Pending)
            .expect("export")
            .expect("something to export");
        let report = coordinator.import_bundle(&bundle.path).expect("import");
        assert!(report.refused.is_none(), "{:?}", report.refused);
        if report.device_pending {
            assert!(
                coordinator.alerts().expect("alerts").is_empty(),
                "a device not accepted yet raises no alert"
            );
            coordinator
                .accept_device(&device.device().device_id.to_string())
                .expect("accepted");
        }
        coordinator.alerts().expect("alerts")
    };

    assert!(
        send(&mut coordinator, &mut device, &[1, 2]).is_empty(),
        "two of three"
    );
    let alerts = send(&mut coordinator, &mut device, &[3]);
    assert_eq!(alerts.len(), 1, "the third report crosses the threshold");
    assert_eq!(alerts[0].records.len(), 3);
    // Asked again with nothing new: the same alerts.
    assert_eq!(coordinator.alerts().expect("alerts"), alerts);
    // Three more within the day: one window of six, still one alert, now with six records.
    let alerts = send(&mut coordinator, &mut device, &[4, 5, 6]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].records.len(), 6);
}
