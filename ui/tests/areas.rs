//! One area rule: a record with only a `place` lands in the same mission area in the queue's
//! area filter, the report, the escalation alerts, link suggestions and the data exports.

mod common;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use truce_core::model::ExportRange;
use truce_core::model::ObservationFilter;
use truce_core::model::QueueExtra;
use truce_core::publish::DataFormat;
use truce_sync::profile::{AlertRule, Area, MissionProfile};

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

#[test]
fn a_place_names_the_same_area_everywhere() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut coordinator = common::new_coordinator(&root.path().join("hq"));
    let mut template = MissionProfile::new(
        "East",
        uuid::Uuid::nil(),
        Utc::now().fixed_offset(),
        Vec::new(),
    );
    template.areas = vec![
        Area {
            code: "north".into(),
            label: "North".into(),
            bbox: Some([37.0, 48.0, 38.0, 49.0]),
        },
        Area {
            code: "south".into(),
            label: "South".into(),
            bbox: Some([37.0, 47.0, 38.0, 48.0]),
        },
    ];
    template.alert_rules = vec![AlertRule {
        name: "shelling in the north".into(),
        kinds: vec!["violation".into()],
        categories: vec!["shelling".into()],
        area: Some("north".into()),
        window_hours: 24,
        threshold: 3,
        level: 3,
    }];
    let profile = coordinator
        .create_profile("East", &[], Some(template))
        .expect("profile");
    let mut device = common::new_monitor(&root.path().join("device"));
    device.import_profile(&profile).expect("profile installed");
    // Two with a position in the north; one with only a place, written as the area's name.
    for (hour, position) in [(1, Some((48.5, 37.5))), (2, Some((48.6, 37.4))), (3, None)] {
        let mut value = json!({
            "kind": "violation", "category": "shelling", "method": "heard",
            "observed_at": format!("2026-11-20T{hour:02}:00:00Z"),
        });
        match position {
            Some((lat, lon)) => {
                value["lat"] = json!(lat);
                value["lon"] = json!(lon);
            }
            None => value["place"] = json!(" north "),
        }
        device.record(object(value)).expect("recorded");
    }
    let usb = root.path().join("usb");
    std::fs::create_dir_all(&usb).expect("usb");
    let bundle = device
        .export(&usb, ExportRange::Pending)
        .expect("export")
        .expect("a bundle");
    coordinator.import_bundle(&bundle.path).expect("import");
    coordinator
        .accept_device(&device.device().device_id.to_string())
        .expect("accepted");

    // The queue's area filter.
    let north = QueueExtra {
        area: Some("north".into()),
        party: None,
    };
    let page = coordinator
        .queue_page(&ObservationFilter::default(), &north, 0, 50)
        .expect("queue");
    assert_eq!(page.rows.len(), 3, "the place-only record is in the north");

    // The report.
    let from: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().expect("time");
    let report = coordinator
        .report(from, from + chrono::Duration::days(1))
        .expect("report");
    let by_area = report
        .breakdowns
        .iter()
        .find(|b| b.dimension == "area")
        .expect("by area");
    assert_eq!(by_area.counts.len(), 1, "{by_area:?}");
    assert_eq!(
        (
            by_area.counts[0].key.as_str(),
            by_area.counts[0].label.as_str(),
            by_area.counts[0].current
        ),
        ("north", "North", 3)
    );

    // The alerts: the third report in the north crosses the threshold.
    let alerts = coordinator.alerts().expect("alerts");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].area, "north");
    assert_eq!(alerts[0].records.len(), 3);

    // Link suggestions: the place-only record and a positioned one are in the same area.
    let place_only = page
        .rows
        .iter()
        .find(|r| r.revision.observation.lat.is_none())
        .expect("the place-only record");
    let suggested = coordinator
        .link_suggestions(&place_only.revision.key().to_string())
        .expect("suggestions");
    assert_eq!(suggested.len(), 2, "{suggested:?}");

    // The data export's area column.
    let out = root.path().join("all.csv");
    coordinator
        .export_data(DataFormat::Csv, &ObservationFilter::default(), None, &out)
        .expect("export");
    let mut reader = csv::Reader::from_path(&out).expect("csv");
    let headers = reader.headers().expect("header").clone();
    let area = headers
        .iter()
        .position(|h| h == "area")
        .expect("an area column");
    let areas: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[area].to_owned())
        .collect();
    assert_eq!(areas, ["North", "North", "North"]);
}
