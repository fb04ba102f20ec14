//! The coordinator workspace from the command line: verification with its audit trail, the
//! device list, and data exports (CSV, GeoJSON, HXL, public) parsed back with real parsers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::harness::{json_lines, path_str, Journal, Mission};

/// A coordinator that imported one device's bundle of six known observations.
struct Seeded {
    coordinator: Journal,
    device_id: String,
    ids: Vec<String>,
}

const OBSERVER: &str = "Observer Zofia Marker";

fn seeded() -> Seeded {
    let mission = Mission::new();
    let (coordinator, profile) = (mission.coordinator, mission.profile);
    let device = Journal::new();
    let device_id = device.init(OBSERVER);
    device
        .run(&["profile", "import", path_str(&profile)], "")
        .ok();
    let records = [
        json!({"kind": "violation", "category": "shelling", "method": "heard", "lat": 48.12345, "lon": 37.76543,
               "observed_at": "2026-11-20T05:37:12+03:00", "event_count": 40, "narrative": "=cmd|' /C calc'!A0 secret narrative"}),
        json!({"kind": "violation", "category": "shelling", "method": "seen", "lat": 48.2, "lon": 37.8,
               "observed_at": "2026-11-20T06:10:00+03:00", "narrative": "public account", "tags": ["public"]}),
        json!({"kind": "violation", "category": "small_arms", "method": "heard",
               "observed_at": "2026-11-21T22:00:00+03:00", "narrative": "no position"}),
        json!({"kind": "incident", "category": "mine_uxo", "method": "seen", "lat": -33.5, "lon": -70.6,
               "observed_at": "2026-11-21T10:00:00+03:00", "narrative": "south west"}),
        json!({"kind": "movement_restriction", "category": "monitor_obstruction", "method": "seen",
               "observed_at": "2026-11-22T10:00:00+03:00", "narrative": "checkpoint"}),
        json!({"kind": "violation", "category": "airstrike_drone", "method": "uav", "lat": 48.0, "lon": 37.0,
               "observed_at": "2026-11-22T12:00:00+03:00", "narrative": "drone"}),
    ];
    let ids: Vec<String> = records
        .iter()
        .map(|r| device.record(&r.to_string()))
        .collect();
    let usb = device.scratch("usb");
    let bundle = device
        .run(&["export", "--out", path_str(&usb)], "")
        .ok()
        .stdout;
    coordinator.run(&["import", bundle.trim()], "").ok();
    coordinator.run(&["devices", "accept", &device_id], "").ok();
    Seeded {
        coordinator,
        device_id,
        ids,
    }
}

fn export(c: &Journal, format: &str, extra: &[&str]) -> (PathBuf, String) {
    let out = c.scratch("exports").join(format!(
        "out-{format}-{}.txt",
        extra.join("_").replace(['-', '/'], "")
    ));
    let mut args = vec!["export-data", "--format", format, "--out", path_str(&out)];
    args.extend_from_slice(extra);
    c.run(&args, "").ok();
    let text = std::fs::read_to_string(&out).expect("export is UTF-8");
    (out, text)
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn verification_keeps_an_audit_trail_and_leaves_the_record_unchanged() {
    let s = seeded();
    let c = &s.coordinator;
    let before = c.list();
    c.run(
        &[
            "verify",
            &s.ids[0],
            "--status",
            "corroborated",
            "--note",
            "team 2 heard it too",
        ],
        "",
    )
    .ok();
    c.run(
        &[
            "verify",
            &s.ids[0],
            "--status",
            "verified",
            "--note",
            "crater seen on patrol",
        ],
        "",
    )
    .ok();
    assert_eq!(c.list(), before, "the field records are never altered");
    let shown = c.show(&s.ids[0]);
    assert_eq!(shown["status"], "verified");
    let trail = shown["verification"].as_array().expect("trail");
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0]["status"], "corroborated");
    assert_eq!(trail[1]["note"], "crater seen on patrol");
    assert_eq!(trail[1]["by"], "HQ desk");
    assert!(trail[1]["at"].as_str().is_some_and(|t| !t.is_empty()));
    c.run(
        &["verify", &s.ids[0], "--status", "verified", "--note", "  "],
        "",
    )
    .fails(1)
    .stderr_has("note");
    c.run(
        &["verify", &s.ids[0], "--status", "true", "--note", "x"],
        "",
    )
    .fails(2);
    assert_eq!(
        c.show(&s.ids[0])["verification"].as_array().map(Vec::len),
        Some(2)
    );

    let monitor = Journal::created("Ana");
    let id = monitor.record(crate::harness::MINIMAL);
    monitor
        .run(&["verify", &id, "--status", "verified", "--note", "x"], "")
        .fails(1)
        .stderr_has("coordinators");
}

#[test]
fn devices_show_fingerprint_entries_and_gaps() {
    let s = seeded();
    let run = s.coordinator.run(&["devices", "--json"], "").ok();
    let devices = json_lines(&run.stdout);
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["device_id"], s.device_id.as_str());
    assert_eq!(devices[0]["observer"], OBSERVER);
    assert_eq!(devices[0]["entries"], 6);
    assert_eq!(devices[0]["gaps"], json!([]));
}

#[test]
fn exports_parse_back_with_exactly_the_expected_rows() {
    let s = seeded();
    let c = &s.coordinator;

    let (_, text) = export(c, "csv", &[]);
    let (header, rows) = csv_rows(&text);
    assert_eq!(&header[..4], ["id", "kind", "category", "observed_at"]);
    assert_eq!(rows.len(), 6);
    let ids: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, s.ids.iter().map(String::as_str).collect());
    let narrative = header
        .iter()
        .position(|h| h == "narrative")
        .expect("narrative column");
    assert!(
        rows.iter().any(|r| r[narrative].starts_with("'=cmd")),
        "formulas are defused"
    );

    let (_, text) = export(
        c,
        "csv",
        &[
            "--kind",
            "violation",
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-20",
        ],
    );
    assert_eq!(
        csv_rows(&text).1.len(),
        2,
        "violations observed on 20 November (UTC)"
    );
    let (_, text) = export(c, "csv", &["--search", "checkpoint"]);
    assert_eq!(csv_rows(&text).1.len(), 1);

    let (_, text) = export(c, "hxl", &[]);
    let (header, rows) = csv_rows(&text);
    assert_eq!(rows.len(), 7, "the hashtag row, then six records");
    let tags = &rows[0];
    let tag_of = |col: &str| tags[header.iter().position(|h| h == col).expect("column")].clone();
    assert_eq!(tag_of("id"), "#meta+id");
    assert_eq!(tag_of("observed_at"), "#date+occurred");
    assert_eq!(tag_of("lat"), "#geo+lat");
    assert_eq!(tag_of("killed"), "#affected+killed");

    let (_, text) = export(c, "geojson", &[]);
    let doc: Value = serde_json::from_str(&text).expect("GeoJSON is JSON");
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().expect("features");
    assert_eq!(features.len(), 6);
    let points: Vec<&Value> = features
        .iter()
        .filter(|f| f["geometry"]["type"] == "Point")
        .collect();
    assert_eq!(
        points.len(),
        4,
        "records without coordinates have a null geometry"
    );
    assert!(features
        .iter()
        .all(|f| f["type"] == "Feature" && f["properties"]["id"].is_string()));
    let first = features
        .iter()
        .find(|f| f["properties"]["id"] == s.ids[0].as_str())
        .expect("first record");
    assert_eq!(
        first["geometry"]["coordinates"],
        json!([37.76543, 48.12345])
    );
}

#[test]
fn public_export_reveals_no_identity_or_exact_place() {
    let s = seeded();
    let c = &s.coordinator;
    let (_, text) = export(c, "geojson", &["--public"]);
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        doc["features"].as_array().map(Vec::len),
        Some(0),
        "nothing is verified yet"
    );

    for (i, status) in [(0, "verified"), (1, "corroborated"), (3, "disputed")] {
        c.run(
            &["verify", &s.ids[i], "--status", status, "--note", "checked"],
            "",
        )
        .ok();
    }
    for format in ["csv", "hxl", "geojson"] {
        let (_, text) = export(c, format, &["--public"]);
        for secret in [
            OBSERVER,
            s.device_id.as_str(),
            "48.12345",
            "37.76543",
            "secret narrative",
            "HQ desk",
            &s.ids[0],
        ] {
            assert!(
                !text.contains(secret),
                "{format}: the public export reveals {secret:?}"
            );
        }
        assert!(
            text.contains("public account"),
            "{format}: a narrative tagged public is kept"
        );
        assert!(
            text.contains("48.125") && text.contains("37.775"),
            "{format}: coordinates on the 0.05° grid"
        );
        assert!(
            text.contains("2026-11-20T02:00:00Z") && !text.contains("+03:00"),
            "{format}: times to the hour, in UTC"
        );
    }
    let (_, text) = export(c, "csv", &["--public"]);
    let (header, rows) = csv_rows(&text);
    assert_eq!(rows.len(), 2, "only verified and corroborated records");
    assert!(!header
        .iter()
        .any(|h| h == "observer" || h == "device_id" || h == "recorded_at"));
    let (_, text) = export(c, "csv", &["--public", "--status", "disputed"]);
    assert_eq!(csv_rows(&text).1.len(), 1);
}

/// Free text next to coordinates on the grid would undo the grid ("Roof of Ana's house at
/// 48.5124N 37.5432E"), and an offset names the team's time zone: the public export keeps free
/// text only from records tagged `public`, and writes every time in UTC.
#[test]
fn public_export_drops_free_text_unless_tagged_public_and_writes_utc() {
    let mission = Mission::new();
    let device = mission.device("Ana K.");
    let device_id = device.run(&["status"], "").ok().stdout;
    let device_id = device_id
        .lines()
        .find_map(|l| l.strip_prefix("device:"))
        .map(|d| d.trim().to_owned())
        .expect("status names the device");
    let place = "Roof of Ana's house at 48.5124N 37.5432E";
    let weapon = "82mm mortar fired from Ana's yard";
    let ids = [
        device.record(
            &json!({"kind": "violation", "category": "shelling", "method": "seen",
                    "lat": 48.5124, "lon": 37.5432, "location_source": "gps",
                    "observed_at": "2026-11-20T05:37:12+03:00", "observed_until": "2026-11-20T07:05:00+03:00",
                    "place": place, "weapon": weapon, "initiator": "Ana's neighbours",
                    "narrative": "seen from the roof", "tags": ["night"]})
            .to_string(),
        ),
        device.record(
            &json!({"kind": "violation", "category": "shelling", "method": "heard",
                    "observed_at": "2026-11-21T10:15:00-05:00", "place": "Market square of X",
                    "weapon": "mortar (assessed)", "narrative": "public account", "tags": ["public"]})
            .to_string(),
        ),
    ];
    let bundle = device
        .run(&["export", "--out", path_str(&device.scratch("usb"))], "")
        .ok()
        .stdout;
    let c = &mission.coordinator;
    c.run(&["import", bundle.trim()], "").ok();
    c.run(&["devices", "accept", &device_id], "").ok();
    for id in &ids {
        c.run(
            &["verify", id, "--status", "verified", "--note", "checked"],
            "",
        )
        .ok();
    }
    for format in ["csv", "hxl", "geojson"] {
        let (_, text) = export(c, format, &["--public"]);
        for secret in [
            place,
            weapon,
            "Ana",
            "48.5124",
            "37.5432",
            "seen from the roof",
            "night",
            "+03:00",
            "-05:00",
        ] {
            assert!(
                !text.contains(secret),
                "{format}: the public export reveals {secret:?}"
            );
        }
        for kept in ["Market square of X", "mortar (assessed)", "public account"] {
            assert!(
                text.contains(kept),
                "{format}: a record tagged public keeps {kept:?}"
            );
        }
        for time in [
            "2026-11-20T02:00:00Z",
            "2026-11-20T04:00:00Z",
            "2026-11-21T15:00:00Z",
        ] {
            assert!(text.contains(time), "{format}: {time} (UTC, to the hour)");
        }
    }
    let (_, text) = export(c, "csv", &["--public"]);
    let (header, rows) = csv_rows(&text);
    assert_eq!(rows.len(), 2);
    for column in ["observed_at", "observed_until"] {
        let at = header.iter().position(|h| h == column).expect(column);
        for row in &rows {
            assert!(
                row[at].is_empty() || row[at].ends_with('Z'),
                "{column}: {}",
                row[at]
            );
        }
    }
    // The full export keeps everything as recorded.
    let (_, text) = export(c, "csv", &[]);
    assert!(text.contains(place) && text.contains("2026-11-20T05:37:12+03:00"));
}

#[test]
fn report_counts_against_the_previous_period_and_alerts_fire_at_their_threshold() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from(
        "East",
        &json!({
            "areas": [{"code": "north", "label": "North", "bbox": [37.0, 48.0, 38.0, 49.0]}],
            "alert_rules": [
                {"name": "shelling north", "kinds": ["violation"], "categories": ["shelling"], "area": "north",
                 "window_hours": 24, "threshold": 3, "level": 3},
                {"name": "small arms anywhere", "categories": ["small_arms"], "window_hours": 24, "threshold": 3, "level": 2}
            ]
        }),
    );
    let device = Journal::with_profile("Ana", &profile);
    let record = |category: &str, at: &str, lat: f64| {
        device.record(
            &json!({"kind": "violation", "category": category, "method": "heard", "observed_at": at, "lat": lat, "lon": 37.5})
                .to_string(),
        )
    };
    let shelling: Vec<String> = [
        "2026-11-20T01:00:00Z",
        "2026-11-20T09:00:00Z",
        "2026-11-20T20:00:00Z",
    ]
    .iter()
    .map(|t| record("shelling", t, 48.5))
    .collect();
    record("small_arms", "2026-11-20T02:00:00Z", 10.0);
    record("small_arms", "2026-11-20T03:00:00Z", 10.0);
    record("shelling", "2026-11-19T00:30:00Z", 48.5); // more than 24 h before the next one
    let bundle = device
        .run(&["export", "--out", path_str(&device.scratch("usb"))], "")
        .ok()
        .stdout;
    let run = coordinator.run(&["import", bundle.trim()], "").ok();
    assert!(!run.stderr.contains("escalation alert"), "{}", run.stderr);
    assert!(run.stdout.contains("PENDING"), "{}", run.stdout);
    let device_id = device
        .run(&["status"], "")
        .ok()
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("device:").map(|d| d.trim().to_owned()))
        .expect("the device's id");
    let accepted = coordinator.run(&["devices", "accept", &device_id], "").ok();
    assert!(
        accepted.stderr.contains("Accepted device"),
        "{}",
        accepted.stderr
    );

    let report = coordinator
        .run(
            &[
                "report",
                "--from",
                "2026-11-20",
                "--to",
                "2026-11-20",
                "--format",
                "json",
            ],
            "",
        )
        .ok()
        .stdout;
    let report: Value = serde_json::from_str(&report).expect("JSON report");
    assert_eq!(report["total"], 5);
    assert_eq!(report["previous_total"], 1);
    let line = |dimension: &str, key: &str| -> Value {
        let b = report["breakdowns"]
            .as_array()
            .expect("breakdowns")
            .iter()
            .find(|b| b["dimension"] == dimension)
            .expect("dimension");
        let c = b["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .find(|c| c["key"] == key)
            .expect("key");
        c.clone()
    };
    let count = |dimension: &str, key: &str| -> (u64, u64) {
        let c = line(dimension, key);
        (
            c["current"].as_u64().expect("n"),
            c["previous"].as_u64().expect("n"),
        )
    };
    assert_eq!(count("area", "north"), (3, 1));
    assert_eq!(count("area", ""), (2, 0));
    assert_eq!(line("area", "north")["label"], "North");
    assert_eq!(line("area", "")["label"], "(no area)");
    // The area lines name their area as an object, or null outside every area; the other
    // dimensions have no `area` field.
    assert_eq!(
        line("area", "north")["area"],
        json!({"code": "north", "label": "North"})
    );
    let outside = line("area", "");
    assert!(outside.get("area").is_some_and(Value::is_null), "{outside}");
    assert!(line("kind", "violation").get("area").is_none());
    assert_eq!(report["from"], json!("2026-11-20T00:00:00Z"));
    assert_eq!(report["to"], json!("2026-11-21T00:00:00Z"));
    assert_eq!(count("category", "shelling"), (3, 1));
    assert_eq!(count("category", "small_arms"), (2, 0));
    assert_eq!(count("method", "heard"), (5, 1));
    let daily = report["daily"].as_array().expect("daily");
    assert_eq!(daily.len(), 30);
    assert_eq!(daily[29], json!({"day": "2026-11-20", "count": 5}));
    assert_eq!(daily[28], json!({"day": "2026-11-19", "count": 1}));

    let html = coordinator.scratch("out").join("report.html");
    coordinator
        .run(
            &[
                "report",
                "--from",
                "2026-11-20",
                "--to",
                "2026-11-20",
                "--format",
                "html",
                "--out",
                path_str(&html),
            ],
            "",
        )
        .ok();
    let html = std::fs::read_to_string(&html).expect("html");
    assert!(html.contains("<svg") && html.contains("North"));
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("<script"),
        "self-contained"
    );

    let alerts = json_lines(&coordinator.run(&["alerts", "--json"], "").ok().stdout);
    assert_eq!(
        alerts.len(),
        1,
        "small arms stay just under their threshold: {alerts:?}"
    );
    assert_eq!(alerts[0]["rule"], "shelling north");
    assert_eq!(alerts[0]["level"], 3);
    assert_eq!(
        alerts[0]["area"],
        json!({"code": "north", "label": "North"})
    );
    // The window runs from the first to the last shelling report, in UTC.
    assert_eq!(alerts[0]["from"], json!("2026-11-20T01:00:00Z"));
    assert_eq!(alerts[0]["to"], json!("2026-11-20T20:00:00Z"));
    let ids: BTreeSet<&str> = alerts[0]["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(ids, shelling.iter().map(String::as_str).collect());
}

#[test]
fn the_incident_queue_filters_and_links_reports_of_one_event() {
    let s = seeded();
    let c = &s.coordinator;
    let shelling = json_lines(
        &c.run(&["list", "--json", "--category", "shelling"], "")
            .ok()
            .stdout,
    );
    assert_eq!(shelling.len(), 2);
    assert!(shelling.iter().all(|r| r["category"] == "shelling"));
    let day = json_lines(
        &c.run(
            &[
                "list",
                "--json",
                "--from",
                "2026-11-21",
                "--to",
                "2026-11-21",
            ],
            "",
        )
        .ok()
        .stdout,
    );
    assert_eq!(day.len(), 2, "two records observed on 21 November (UTC)");
    let oldest = json_lines(
        &c.run(&["list", "--json", "--sort", "oldest"], "")
            .ok()
            .stdout,
    );
    let newest = json_lines(&c.run(&["list", "--json"], "").ok().stdout);
    assert_eq!(oldest.len(), 6);
    assert_eq!(
        oldest[0]["id"],
        s.ids[0].as_str(),
        "the earliest observation first"
    );
    assert_eq!(oldest.iter().rev().cloned().collect::<Vec<_>>(), newest);
    let by_kind = json_lines(&c.run(&["list", "--json", "--sort", "kind"], "").ok().stdout);
    let kinds: Vec<&str> = by_kind
        .iter()
        .map(|r| r["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "incident",
            "movement_restriction",
            "violation",
            "violation",
            "violation",
            "violation"
        ]
    );
    let limited = json_lines(&c.run(&["list", "--json", "--limit", "3"], "").ok().stdout);
    assert_eq!(limited.len(), 3);
    c.run(
        &[
            "verify",
            &s.ids[4],
            "--status",
            "disputed",
            "--note",
            "no second source",
        ],
        "",
    )
    .ok();
    let disputed = json_lines(
        &c.run(
            &["list", "--json", "--status", "disputed", "--with-status"],
            "",
        )
        .ok()
        .stdout,
    );
    assert_eq!(disputed.len(), 1);
    assert_eq!(disputed[0]["id"], s.ids[4].as_str());
    assert_eq!(disputed[0]["status"], "disputed");
    let none = c.run(&["list", "--search", "nothing like this"], "").ok();
    assert!(none.stdout.is_empty() && none.stderr.contains("No observation matches"));

    let event = c
        .run(&["link", &s.ids[0], &s.ids[1]], "")
        .ok()
        .stdout
        .trim()
        .to_owned();
    let again = c
        .run(&["link", &s.ids[1], &s.ids[5]], "")
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert_eq!(
        event, again,
        "linking to a report of an event joins that event"
    );
    c.run(&["link", &s.ids[2], &s.ids[3]], "").ok();
    c.run(&["link", &s.ids[0], &s.ids[2]], "")
        .fails(1)
        .stderr_has("different events");
    c.run(&["link", &s.ids[0]], "").fails(2);
    let events = json_lines(&c.run(&["events", "--json"], "").ok().stdout);
    assert_eq!(events.len(), 2);
    let first = events
        .iter()
        .find(|e| e["event_id"] == event.as_str())
        .expect("the first event");
    let members: BTreeSet<&str> = first["observations"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        members,
        [s.ids[0].as_str(), s.ids[1].as_str(), s.ids[5].as_str()]
            .into_iter()
            .collect()
    );
}

/// `profile show` prints everything a device will work with, and a bad template names the
/// field at fault.
#[test]
fn the_profile_reads_in_full_and_a_bad_template_names_its_field() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from(
        "East",
        &json!({
            "areas": [{"code": "north", "label": "North", "bbox": [37.0, 48.0, 38.0, 49.0]},
                      {"code": "gate", "label": "Checkpoint 7"}],
            "parties": [{"code": "party_a", "label": "Party A"}],
            "alert_rules": [{"name": "shelling north", "categories": ["shelling"], "area": "north",
                             "window_hours": 24, "threshold": 3, "level": 3}]
        }),
    );
    let device = Journal::with_profile("Ana", &profile);
    let shown = device.run(&["profile", "show"], "").ok().stdout;
    for part in [
        "mission:     East",
        "  north (North): lon 37 to 38, lat 48 to 49",
        "  gate (Checkpoint 7): no bounding box",
        "parties:     party_a (Party A)",
        "  shelling north: level 3 when 3 or more in 24 h; kinds any; categories shelling; area north",
        "recipients (bundles are encrypted to each):\n  age1",
        "shelling (Shelling)",
    ] {
        assert!(shown.contains(part), "{part:?} in:\n{shown}");
    }
    let dir = coordinator.scratch("bad");
    let template = dir.join("template.json");
    std::fs::write(
        &template,
        json!({"areas": [{"code": "north", "label": "North", "bbox": [37.0, 48.0, 38.0]}]})
            .to_string(),
    )
    .expect("template");
    coordinator
        .run(
            &[
                "profile",
                "create",
                "--mission",
                "East",
                "--out",
                path_str(&dir.join("profile.json")),
                "--template",
                path_str(&template),
            ],
            "",
        )
        .fails(1)
        .stderr_has("field `areas[0].bbox`")
        .stderr_has("docs/profile-format.md");
}

/// Public exports never carry an attached original, its name, its hash or the camera's EXIF
/// position (the full export names none of them either: the files stay in the journal).
#[test]
fn public_exports_carry_no_attachment_name_hash_or_exif_position() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from("East", &serde_json::json!({}));
    let device = Journal::new();
    let device_id = device.init("Ana");
    device
        .run(&["profile", "import", path_str(&profile)], "")
        .ok();
    let camera = device.scratch("camera");
    let photo = camera.join("CONFIDENTIAL_SOURCE_ANA.JPG");
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    bytes.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    bytes.extend(std::iter::repeat_n(0x42u8, 5_000));
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    std::fs::write(&photo, &bytes).expect("photo");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let id = device.record_attaching(&photo);
    let usb = device.scratch("usb");
    let bundle = device
        .run(&["export", "--out", path_str(&usb)], "")
        .ok()
        .stdout;
    coordinator.run(&["import", bundle.trim()], "").ok();
    coordinator.run(&["devices", "accept", &device_id], "").ok();
    coordinator
        .run(
            &["verify", &id, "--status", "verified", "--note", "seen"],
            "",
        )
        .ok();
    for format in ["csv", "geojson", "hxl"] {
        for extra in [&["--public"][..], &[][..]] {
            let (_, text) = export(&coordinator, format, extra);
            assert!(
                text.contains("shelling"),
                "{format} {extra:?} holds the record: {text}"
            );
            for secret in [
                "CONFIDENTIAL_SOURCE_ANA",
                sha.as_str(),
                "attachments",
                "exif",
            ] {
                assert!(
                    !text.contains(secret),
                    "{format} {extra:?} names {secret:?}: {text}"
                );
            }
        }
    }
}
