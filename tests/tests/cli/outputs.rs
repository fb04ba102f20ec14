//! The data exports read back by the tools that outside users open them with: GDAL
//! (`ogrinfo`) for GeoJSON, libhxl (`hxlvalidate` and its Python API) for HXL, and Python's
//! `csv` module for CSV, whose UTC columns must give each record's time.
//!
//! libhxl comes from a virtual environment that `.ci/run` makes; its Python is named by
//! `TRUCE_TEST_HXL_PYTHON`. CI must have every tool; elsewhere a missing one is skipped with a
//! note.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{path_str, Journal};

/// A coordinator with an accepted device and four records: a position in North, a place that
/// names North, a record outside every area with an approximate count, and one observed in
/// another offset. Returns the coordinator.
fn coordinator_with_records() -> Journal {
    coordinator_with_records_in(None)
}

/// [`coordinator_with_records`] under a profile that names the mission's time zone and the
/// end of its reporting day, when given.
fn coordinator_with_records_in(zone: Option<(&str, &str)>) -> Journal {
    let coordinator = Journal::coordinator();
    let mut template = json!({
        "areas": [{"code": "north", "label": "North", "bbox": [37.0, 48.0, 38.0, 49.0]}],
        "parties": [{"code": "party_a", "label": "Party A"}, {"code": "party_b", "label": "Party B"}]
    });
    if let Some((zone, day_ends)) = zone {
        template["time_zone"] = json!(zone);
        template["reporting_day_ends"] = json!(day_ends);
    }
    let profile = coordinator.create_profile_from("East", &template);
    let device = Journal::with_profile("Ana", &profile);
    for record in [
        json!({"kind": "violation", "category": "shelling", "method": "heard", "event_count": 12,
               "observed_at": "2026-11-20T23:30:00+02:00", "lat": 48.5, "lon": 37.5,
               "accuracy_m": 150.0, "initiator": "party_a", "narrative": "=1+1 Обстріл"}),
        json!({"kind": "violation", "category": "small_arms", "method": "heard", "event_count": 40,
               "count_approx": true, "time_precision": "approx",
               "observed_at": "2026-11-20T22:00:00+03:00", "place": "North"}),
        json!({"kind": "incident", "category": "mine_uxo", "method": "seen",
               "observed_at": "2026-11-21T01:15:00+02:00", "lat": 10.0, "lon": 10.0}),
        json!({"kind": "violation", "category": "shelling", "method": "seen",
               "observed_at": "2026-11-20T21:45:00Z", "observed_until": "2026-11-20T22:05:00Z",
               "lat": 48.7, "lon": 37.9, "killed": 1, "injured": 2}),
    ] {
        device.record(&record.to_string());
    }
    let bundle = device
        .run(&["export", "--out", path_str(&device.scratch("usb"))], "")
        .ok()
        .stdout;
    coordinator.run(&["import", bundle.trim()], "").ok();
    let device_id = device
        .run(&["status"], "")
        .ok()
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("device:").map(|d| d.trim().to_owned()))
        .expect("the device's id");
    coordinator.run(&["devices", "accept", &device_id], "").ok();
    coordinator
}

/// `truce export-data --format FORMAT [extra]` into the coordinator's scratch folder.
fn export(coordinator: &Journal, format: &str, extra: &[&str]) -> PathBuf {
    let name = format!("export{}.{format}", extra.join(""));
    let out = coordinator.scratch("exports").join(name);
    let mut args = vec!["export-data", "--format", format, "--out", path_str(&out)];
    args.extend_from_slice(extra);
    coordinator.run(&args, "").ok();
    out
}

/// Whether `tool --version` (or `tool -v`, as minisign spells it) runs; in CI a missing tool
/// fails the test.
fn have(tool: &str, package: &str) -> bool {
    let here = ["--version", "-v"].iter().any(|flag| {
        Command::new(tool)
            .arg(flag)
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !here {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {package} (see .ci/run)"
        );
        eprintln!("note: {tool} missing ({package}); skipping");
    }
    here
}

/// Runs `python` on `script` with `args`; returns its stdout parsed as JSON.
fn python_json(python: &str, script: &str, args: &[&Path]) -> Value {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{python} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// The records as `truce list --json` has them, by id: observed_at as recorded.
fn observed_at_by_id(coordinator: &Journal) -> Vec<(String, String)> {
    coordinator
        .list()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["observed_at"].as_str().expect("observed_at").to_owned(),
            )
        })
        .collect()
}

/// `2026-11-20T23:30:00+02:00` as the UTC column writes it: `2026-11-20 21:30:00`.
fn utc_cell(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[test]
fn the_csv_reads_back_with_python_and_its_utc_columns_sort_in_time_order() {
    if !have("python3", "python3") {
        return;
    }
    let coordinator = coordinator_with_records();
    let csv = export(&coordinator, "csv", &[]);
    let rows = python_json(
        "python3",
        "import csv, json, sys\n\
         with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n\
         \x20   print(json.dumps(list(csv.DictReader(f))))",
        &[&csv],
    );
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    let header: Vec<&String> = rows[0].as_object().expect("row").keys().collect();
    assert!(
        header.iter().any(|h| *h == "id"),
        "the BOM is not part of `id`: {header:?}"
    );
    for (id, observed_at) in observed_at_by_id(&coordinator) {
        let row = rows
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} is in the CSV"));
        assert_eq!(
            row["observed_at"],
            observed_at.as_str(),
            "the original stays"
        );
        assert_eq!(
            row["observed_at_utc"],
            utc_cell(&observed_at).as_str(),
            "{id}"
        );
        let recorded = row["recorded_at"].as_str().expect("recorded_at");
        assert_eq!(row["recorded_at_utc"], utc_cell(recorded).as_str());
    }
    // Sorted as text, the UTC column is in time order; the original column is not.
    let mut by_text: Vec<&str> = rows
        .iter()
        .map(|r| r["observed_at_utc"].as_str().expect("utc"))
        .collect();
    by_text.sort_unstable();
    let mut by_time: Vec<(chrono::DateTime<chrono::FixedOffset>, &str)> = rows
        .iter()
        .map(|r| {
            (
                chrono::DateTime::parse_from_rfc3339(r["observed_at"].as_str().expect("t"))
                    .expect("time"),
                r["observed_at_utc"].as_str().expect("utc"),
            )
        })
        .collect();
    by_time.sort();
    assert_eq!(
        by_text,
        by_time.iter().map(|(_, u)| *u).collect::<Vec<_>>(),
        "text order of the UTC column is time order"
    );
    let mut original: Vec<&str> = rows
        .iter()
        .map(|r| r["observed_at"].as_str().expect("t"))
        .collect();
    original.sort_unstable();
    assert_ne!(
        original.iter().map(|t| utc_cell(t)).collect::<Vec<_>>(),
        by_text,
        "this data set is one where the offsets put the original column out of time order"
    );
    let area = |place_or_lat: &str| {
        rows.iter()
            .find(|r| r["place"] == place_or_lat || r["lat"] == place_or_lat)
            .map(|r| (r["area_code"].clone(), r["area"].clone()))
            .expect("row")
    };
    assert_eq!(area("North"), (json!("north"), json!("North")));
    assert_eq!(area("10.0"), (json!(""), json!("")));
    let narrative = rows
        .iter()
        .find_map(|r| r["narrative"].as_str().filter(|n| n.contains("Обстріл")))
        .expect("narrative");
    assert_eq!(narrative, "'=1+1 Обстріл", "the CSV defuses a formula");
}

#[test]
fn gdal_reads_the_geojson_with_typed_columns() {
    if !have("ogrinfo", "gdal-bin") {
        return;
    }
    let coordinator = coordinator_with_records();
    let geojson = export(&coordinator, "geojson", &[]);
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(&geojson)
        .output()
        .expect("run ogrinfo");
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{info}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(info.contains("Feature Count: 4"), "{info}");
    for field in [
        "observed_at_utc: DateTime",
        "recorded_at_utc: DateTime",
        "area_code: String",
        "area: String",
        "event_count: Integer",
        "accuracy_m: Real",
        "count_approx: Integer(Boolean)",
    ] {
        assert!(info.contains(field), "GDAL reads {field}: {info}");
    }
    // Every feature's point is where the record is, and an area is two flat columns.
    let out = Command::new("ogr2ogr")
        .args(["-f", "CSV", "/vsistdout/"])
        .arg(&geojson)
        .args(["-lco", "GEOMETRY=AS_XY"])
        .output()
        .expect("run ogr2ogr");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let at = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 4);
    let north: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[at("area_code")] == "north")
        .collect();
    assert_eq!(
        north.len(),
        3,
        "the position in North, the place that names it, and 48.7/37.9"
    );
    for row in &rows {
        if !row[at("X")].is_empty() {
            let x: f64 = row[at("X")].parse().expect("X");
            let y: f64 = row[at("Y")].parse().expect("Y");
            assert!((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y));
        }
    }
}

#[test]
fn libhxl_validates_the_hxl_and_reads_each_tag() {
    let Some(python) = std::env::var_os("TRUCE_TEST_HXL_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set TRUCE_TEST_HXL_PYTHON to a Python with libhxl (see .ci/run)"
        );
        eprintln!("note: TRUCE_TEST_HXL_PYTHON unset; skipping the libhxl check");
        return;
    };
    let python = python.to_string_lossy().into_owned();
    let coordinator = coordinator_with_records();
    let hxl = export(&coordinator, "hxl", &[]);
    let bytes = std::fs::read(&hxl).expect("read");
    assert!(
        !bytes.starts_with("\u{feff}".as_bytes()),
        "HXL is for machines: no BOM"
    );
    let found = python_json(
        &python,
        "import hxl, json, sys\n\
         data = hxl.data(sys.argv[1], hxl.InputOptions(allow_local=True)).cache()\n\
         report = []\n\
         valid = data.validate(callback=lambda e: report.append(str(e.message)))\n\
         rows = [{c.display_tag: v for c, v in zip(data.columns, row.values)} for row in data]\n\
         print(json.dumps({'valid': valid, 'errors': report,\n\
         \x20   'tags': [c.display_tag for c in data.columns],\n\
         \x20   'headers': [c.header for c in data.columns], 'rows': rows,\n\
         \x20   'killed': data.with_rows('#affected+killed>0').values}))",
        &[&hxl],
    );
    assert_eq!(
        found["valid"], true,
        "hxlvalidate's default schema: {}",
        found["errors"]
    );
    let tags: Vec<&str> = found["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t.as_str().expect("tag"))
        .collect();
    assert!(
        tags.iter().all(|t| t.starts_with('#')),
        "every column is tagged: {tags:?}"
    );
    for tag in [
        "#loc+area+name",
        "#loc+area+code",
        "#meta+approx",
        "#meta+precision+time",
        "#geo+precision+m",
        "#geo+source",
        "#date+occurred+utc",
        "#event+weapon",
    ] {
        assert!(tags.contains(&tag), "{tag} in {tags:?}");
    }
    assert!(!tags
        .iter()
        .any(|t| t.starts_with("#adm") || t.starts_with("#item")));
    assert_eq!(found["headers"][0], "id");
    let rows = found["rows"].as_array().expect("rows");
    let approx = rows
        .iter()
        .find(|r| r["#meta+approx"] == "true")
        .expect("the approximate count");
    assert_eq!(approx["#indicator+num+events"], "40");
    assert_eq!(approx["#meta+precision+time"], "approx");
    let narrative = rows
        .iter()
        .find_map(|r| r["#description"].as_str().filter(|n| n.contains("Обстріл")))
        .expect("narrative");
    assert_eq!(narrative, "=1+1 Обстріл", "HXL keeps the value as it is");
    assert_eq!(found["killed"].as_array().map(Vec::len), Some(1));
}

/// The public export keeps nothing finer than the grid and the hour, in every format.
#[test]
fn the_public_export_holds_nothing_finer_than_the_grid_and_the_hour() {
    let coordinator = coordinator_with_records();
    let grid = 0.1;
    let on_grid = |v: f64| {
        let cells = v / grid - 0.5;
        (cells - cells.round()).abs() < 1e-6
    };
    let geojson = export(
        &coordinator,
        "geojson",
        &["--public", "--grid", "0.1", "--status", "unverified"],
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&geojson).expect("read")).expect("JSON");
    let features = doc["features"].as_array().expect("features");
    assert_eq!(
        features.len(),
        4,
        "--status unverified takes the unverified records"
    );
    for feature in features {
        if let Some(point) = feature["geometry"]["coordinates"].as_array() {
            for v in point {
                let v = v.as_f64().expect("number");
                assert!(on_grid(v), "{v} is not a cell centre of a 0.1° grid");
            }
        }
        let p = &feature["properties"];
        for column in [
            "observed_at",
            "observed_until",
            "observed_at_utc",
            "observed_until_utc",
        ] {
            if let Some(t) = p[column].as_str() {
                assert!(
                    t.ends_with(":00:00Z"),
                    "{column} {t} is to the hour, in UTC"
                );
            }
        }
        for dropped in [
            "observer",
            "device_id",
            "recorded_at",
            "accuracy_m",
            "place",
            "narrative",
        ] {
            assert!(
                p.get(dropped).is_none_or(|v| v.is_null() || v == ""),
                "{dropped} is not published: {p}"
            );
        }
        assert_eq!(
            p["id"].as_str().map(str::len),
            Some(16),
            "an opaque id: {p}"
        );
    }
    let csv = export(
        &coordinator,
        "csv",
        &["--public", "--grid", "0.1", "--status", "unverified"],
    );
    let text = std::fs::read_to_string(&csv).expect("read");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().expect("header").clone();
    for row in reader.records() {
        let row = row.expect("row");
        for (name, value) in header.iter().zip(row.iter()) {
            match name {
                "lat" | "lon" if !value.is_empty() => {
                    assert!(on_grid(value.parse().expect("number")), "{name} {value}");
                }
                "observed_at_utc" | "observed_until_utc" if !value.is_empty() => {
                    assert!(value.ends_with(":00:00"), "{name} {value}");
                }
                _ => {}
            }
        }
    }
}

/// The minisign public key `truce keys` prints, saved as a reader would save it.
fn publication_key(coordinator: &Journal) -> PathBuf {
    let keys = coordinator.run(&["keys"], "").ok().stdout;
    let lines: Vec<&str> = keys.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("untrusted comment: minisign public key"))
        .expect("truce keys prints a minisign public key");
    let key = coordinator.scratch("reader").join("truce.pub");
    std::fs::write(&key, format!("{}\n{}\n", lines[at], lines[at + 1])).expect("write key");
    key
}

/// `minisign -V -p KEY -m FILE`: whether it verifies, and what it printed.
fn minisign_verifies(key: &Path, file: &Path) -> (bool, String) {
    let out = Command::new("minisign")
        .args(["-V", "-p"])
        .arg(key)
        .arg("-m")
        .arg(file)
        .output()
        .expect("run minisign");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// What the mission publishes (the public export, the report) carries a detached signature
/// that stock minisign checks with the key `truce keys` prints; an altered file fails.
#[test]
fn published_files_verify_with_stock_minisign_and_altered_ones_do_not() {
    if !have("minisign", "minisign") {
        return;
    }
    let coordinator = coordinator_with_records();
    let key = publication_key(&coordinator);
    let public = export(
        &coordinator,
        "geojson",
        &["--public", "--status", "unverified"],
    );
    let report = coordinator.scratch("exports").join("report.html");
    coordinator
        .run(
            &[
                "report",
                "--from",
                "2026-11-20",
                "--to",
                "2026-11-21",
                "--format",
                "html",
                "--out",
                path_str(&report),
            ],
            "",
        )
        .ok();
    for file in [&public, &report] {
        let signature = PathBuf::from(format!("{}.minisig", file.display()));
        assert!(signature.is_file(), "{} is signed", file.display());
        let (ok, said) = minisign_verifies(&key, file);
        assert!(ok, "{} verifies: {said}", file.display());
        assert!(
            said.contains("Truce publication:") && said.contains("mission East"),
            "the trusted comment names the file's origin: {said}"
        );
        let mut bytes = std::fs::read(file).expect("read");
        bytes.extend_from_slice(b" ");
        std::fs::write(file, bytes).expect("alter");
        let (ok, said) = minisign_verifies(&key, file);
        assert!(!ok, "an altered {} must not verify: {said}", file.display());
    }
    // A full (internal) export is not a publication: no signature.
    let full = export(&coordinator, "csv", &[]);
    assert!(!PathBuf::from(format!("{}.minisig", full.display())).exists());
}

/// Under a profile that names the mission's zone, days typed on the command line are that
/// zone's days, and the daily report ends at the profile's end of the reporting day.
#[test]
fn days_and_reports_follow_the_mission_time_zone() {
    let coordinator = coordinator_with_records_in(Some(("Europe/Kyiv", "19:30")));
    let show = coordinator.run(&["profile", "show"], "").ok().stdout;
    assert!(
        show.contains("time zone:   Europe/Kyiv, reporting day ends at 19:30"),
        "{show}"
    );
    // In UTC all four records fall on 2026-11-20; in Kyiv (UTC+2) the mine record was seen
    // at 01:15 on the 21st.
    let listed = crate::harness::json_lines(
        &coordinator
            .run(
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
    let categories: Vec<&str> = listed
        .iter()
        .filter_map(|r| r["category"].as_str())
        .collect();
    assert_eq!(categories, vec!["mine_uxo"], "a Kyiv day");
    let report = coordinator
        .run(&["report", "--to", "2026-11-21 19:30"], "")
        .ok()
        .stdout;
    assert!(
        report.starts_with("Daily report 2026-11-20 19:30 to 2026-11-21 19:30 (Europe/Kyiv)"),
        "{report}"
    );
    assert!(report.contains("Events: 4"), "{report}");
}
