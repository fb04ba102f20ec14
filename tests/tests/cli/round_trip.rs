//! Saving and reading back: init, record, list, show, amend.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use truce_tests::is_uuid;

use crate::harness::{json_lines, run, Journal, MINIMAL};

/// Every key of a `list --json` line: the 25 schema v1 names plus the device-side metadata,
/// the UTC companions of the observation times and the area (docs/cli-json.md).
const LIST_KEYS: [&str; 32] = [
    "id",
    "kind",
    "category",
    "observed_at",
    "observed_until",
    "time_precision",
    "lat",
    "lon",
    "accuracy_m",
    "location_source",
    "place",
    "method",
    "direction_deg",
    "distance_min_m",
    "distance_max_m",
    "event_count",
    "count_approx",
    "weapon",
    "initiator",
    "target",
    "killed",
    "injured",
    "severity",
    "narrative",
    "tags",
    "revision",
    "recorded_at",
    "device_id",
    "observer",
    "observed_at_utc",
    "observed_until_utc",
    "area",
];

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

/// The last 8 hex digits of an id, as the table of `truce list` shows it.
fn short(id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    hex[hex.len() - 8..].to_owned()
}

#[test]
fn init_record_list_round_trip() {
    let journal = Journal::new();
    let observer = "Ana Round-Trip";
    let init = journal
        .run(
            &[
                "init",
                "--observer",
                observer,
                "--team",
                "Team 3",
                "--role",
                "coordinator",
            ],
            "",
        )
        .ok();
    let device_id = init.single_line().to_owned();
    assert!(
        is_uuid(&device_id),
        "init prints the device id: {:?}",
        init.stdout
    );
    assert!(journal.path("journal.db").is_file() && journal.path("journal.key").is_file());

    // An empty journal lists nothing, in both formats.
    assert_eq!(journal.list_raw(), "");
    let empty_table = journal.run(&["list"], "").ok();
    assert_eq!(
        empty_table.stdout, "",
        "the empty-journal hint goes to stderr"
    );

    // Observed at instants 02:30Z, 03:00Z, 01:00Z and 02:15Z: newest first is b, a, d, c. The
    // text of observed_at sorts differently (c, a, b, d descending), so sorting by text fails.
    let a = json!({
        "kind": "violation", "category": "shelling", "method": "heard",
        "observed_at": "2026-03-01T05:30:00+03:00",
        "lat": 48.5, "lon": 37.25, "accuracy_m": 12.5, "location_source": "gps", "place": "hill 4",
        "direction_deg": 90, "distance_min_m": 1000, "distance_max_m": 2000,
        "event_count": 3, "count_approx": true, "weapon": "82mm mortar (assessed)",
        "initiator": "unknown", "target": "party_b", "killed": 0, "injured": 1,
        "severity": 3, "narrative": "Three impacts, north-east.", "tags": ["night", "impact"],
        "time_precision": "approx", "observed_until": "2026-03-01T05:45:00+03:00"
    });
    let b = json!({"kind": "incident", "category": "mine_uxo", "method": "seen", "observed_at": "2026-03-01T03:00:00+00:00"});
    let c = json!({"kind": "movement_restriction", "category": "monitor_obstruction", "method": "reported", "observed_at": "2026-03-01T06:45:00+05:45"});

    let id_a = journal.record(&a.to_string());
    let id_b = journal.record(&b.to_string());
    // From a file instead of stdin.
    let file = journal.scratch("input").join("c.json");
    std::fs::write(&file, c.to_string()).expect("write input file");
    let from_file = journal
        .run(
            &["record", "--json", file.to_str().expect("UTF-8 path")],
            "",
        )
        .ok();
    let id_c = from_file.single_line().to_owned();
    assert!(
        is_uuid(&id_c),
        "record --json FILE prints only the id: {:?}",
        from_file.stdout
    );
    // Quick-entry flags, with negative coordinates.
    let quick = journal
        .run(
            &[
                "record",
                "--kind",
                "violation",
                "--category",
                "small_arms",
                "--method",
                "seen_heard",
                "--lat",
                "-33.5",
                "--lon",
                "-70.25",
                "--place",
                "checkpoint 7",
                "--count",
                "12",
                "--approx",
                "--severity",
                "2",
                "--narrative",
                "Bursts of small arms fire.",
                "--observed-at",
                "2026-03-01T00:15:00-02:00",
            ],
            "",
        )
        .ok();
    let id_d = quick.single_line().to_owned();
    assert!(
        is_uuid(&id_d),
        "quick record prints only the id: {:?}",
        quick.stdout
    );

    let ids = [&id_a, &id_b, &id_c, &id_d];
    let distinct: BTreeSet<&String> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), 4, "every record gets its own id: {ids:?}");
    for id in ids {
        assert_eq!(&id[14..15], "7", "ids are UUID v7: {id}");
    }

    let rows = journal.list();
    let order: Vec<&str> = rows
        .iter()
        .map(|r| r["id"].as_str().expect("id is a string"))
        .collect();
    assert_eq!(
        order,
        [&id_b, &id_a, &id_d, &id_c],
        "newest observed_at first"
    );

    let expected_keys: BTreeSet<String> = LIST_KEYS.iter().map(|k| (*k).to_owned()).collect();
    for row in &rows {
        assert_eq!(keys(row), expected_keys, "list --json fields: {row}");
        assert_eq!(row["revision"], json!(1), "{row}");
        assert_eq!(row["device_id"], json!(device_id), "{row}");
        assert_eq!(row["observer"], json!(observer), "{row}");
        let recorded_at = row["recorded_at"]
            .as_str()
            .expect("recorded_at is a string");
        assert!(
            recorded_at.len() >= 20 && recorded_at.as_bytes()[10] == b'T',
            "recorded_at is an RFC 3339 time: {recorded_at}"
        );
        assert!(recorded_at.ends_with('Z'), "recorded_at is UTC: {row}");
        // No mission profile on this device: no area.
        assert!(row["area"].is_null(), "{row}");
        assert_eq!(
            row["observed_until"].is_null(),
            row["observed_until_utc"].is_null(),
            "{row}"
        );
    }

    // Every field of the full record comes back as given, the +03:00 offset included.
    let row_a = &rows[1];
    for (key, value) in a.as_object().expect("object") {
        assert_eq!(&row_a[key], value, "field {key} of the full record");
    }
    // Defaults of the minimal records.
    let row_b = &rows[0];
    // A zero offset comes back in its RFC 3339 short form.
    assert_eq!(row_b["observed_at"], json!("2026-03-01T03:00:00Z"));
    assert_eq!(row_b["narrative"], json!(""));
    assert_eq!(row_b["tags"], json!([]));
    assert_eq!(row_b["time_precision"], json!("exact"));
    assert_eq!(row_b["count_approx"], json!(false));
    assert!(row_b["lat"].is_null() && row_b["lon"].is_null() && row_b["severity"].is_null());
    assert_eq!(rows[3]["observed_at"], json!("2026-03-01T06:45:00+05:45"));
    assert_eq!(rows[3]["kind"], json!("movement_restriction"));
    // The quick-entry record.
    let row_d = &rows[2];
    assert_eq!(row_d["observed_at"], json!("2026-03-01T00:15:00-02:00"));
    // The observed offset stays; the UTC companion says the same instant in UTC.
    assert_eq!(row_d["observed_at_utc"], json!("2026-03-01T02:15:00Z"));
    assert_eq!(rows[3]["observed_at_utc"], json!("2026-03-01T01:00:00Z"));
    assert_eq!(row_d["method"], json!("seen_heard"));
    assert_eq!(row_d["lat"], json!(-33.5));
    assert_eq!(row_d["lon"], json!(-70.25));
    assert_eq!(row_d["place"], json!("checkpoint 7"));
    assert_eq!(row_d["event_count"], json!(12));
    assert_eq!(row_d["count_approx"], json!(true));
    assert_eq!(row_d["severity"], json!(2));
    assert_eq!(row_d["narrative"], json!("Bursts of small arms fire."));

    // --limit keeps the order and cuts the tail.
    let limited = json_lines(
        &journal
            .run(&["list", "--json", "--limit", "2"], "")
            .ok()
            .stdout,
    );
    assert_eq!(limited, rows[..2].to_vec());

    // The table shows the short ids, newest first, after one header line.
    let table = journal.run(&["list"], "").ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "a header and four rows:\n{table}");
    for (line, id) in lines[1..].iter().zip([&id_b, &id_a, &id_d, &id_c]) {
        assert!(
            line.starts_with(&short(id)),
            "row for {id} must start with its short id:\n{table}"
        );
    }

    // show accepts the full id, its beginning and its end; current is the listed row.
    for (id, row) in [(&id_a, row_a), (&id_d, row_d)] {
        for part in [id.clone(), short(id), id[..23].to_owned()] {
            let shown = journal.show(&part);
            assert_eq!(&shown["current"], row, "show {part}");
            assert_eq!(shown["history"], json!([row]), "show {part}");
        }
    }

    // TRUCE_DATA_DIR works like --data-dir.
    let mut cmd = journal.bare_command();
    cmd.env("TRUCE_DATA_DIR", &journal.dir)
        .args(["list", "--json"]);
    let via_env = run(cmd, "TRUCE_DATA_DIR=... truce list --json", "").ok();
    assert_eq!(json_lines(&via_env.stdout), rows);

    // status names the device and counts the observations.
    let status = journal.run(&["status"], "").ok().stdout;
    assert!(status.contains(&device_id), "{status}");
    assert!(
        status.contains(observer) && status.contains("Team 3") && status.contains("coordinator"),
        "{status}"
    );
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("records:") && l.trim_end().ends_with(" 4")),
        "{status}"
    );
    assert_eq!(journal.run(&["check"], "").ok().stdout, "ok\n");
}

#[test]
fn amend_keeps_history() {
    let journal = Journal::created("Ana Amend");
    let id = journal.record(
        r#"{"kind":"violation","category":"shelling","method":"heard","severity":2,"place":"hill 4","observed_at":"2026-03-01T05:30:00+03:00"}"#,
    );
    let other = journal.record(MINIMAL);
    let before = journal
        .records()
        .into_iter()
        .find(|r| r["id"] == json!(id))
        .expect("listed");

    // Second revision from stdin, by full id.
    let second = journal.run(&["amend", &id], r#"{"severity":4}"#).ok();
    assert_eq!(
        second.stdout, "2\n",
        "amend prints only the new revision number"
    );
    // Third revision from a file, by the short id, clearing `place`.
    let file = journal.scratch("input").join("patch.json");
    std::fs::write(
        &file,
        r#"{"place":null,"narrative":"Confirmed by the patrol."}"#,
    )
    .expect("write patch");
    let third = journal
        .run(
            &[
                "amend",
                &short(&id),
                "--json",
                file.to_str().expect("UTF-8 path"),
            ],
            "",
        )
        .ok();
    assert_eq!(third.stdout, "3\n");

    let shown = journal.show(&id);
    let history = shown["history"].as_array().expect("history is an array");
    assert_eq!(history.len(), 3, "{shown}");
    let revisions: Vec<&Value> = history.iter().map(|r| &r["revision"]).collect();
    assert_eq!(revisions, [&json!(1), &json!(2), &json!(3)]);
    assert_eq!(history[0], before, "the first revision is kept unchanged");
    assert_eq!(shown["current"], history[2], "current is the last revision");
    for rev in history {
        assert_eq!(rev["id"], json!(id));
        assert_eq!(rev["observed_at"], json!("2026-03-01T05:30:00+03:00"));
        assert_eq!(rev["observer"], json!("Ana Amend"));
    }
    assert_eq!(history[1]["severity"], json!(4));
    assert_eq!(history[1]["place"], json!("hill 4"));
    assert_eq!(history[1]["narrative"], json!(""));
    assert_eq!(history[2]["severity"], json!(4));
    assert!(
        history[2]["place"].is_null(),
        "null clears a field: {}",
        history[2]
    );
    assert_eq!(history[2]["narrative"], json!("Confirmed by the patrol."));

    let listed = journal.records();
    assert_eq!(listed.len(), 2, "amending adds revisions, not observations");
    let current = listed
        .iter()
        .find(|r| r["id"] == json!(id))
        .expect("listed");
    assert_eq!(current["revision"], json!(3));
    assert_eq!(current, &shown["current"]);
    let untouched = listed
        .iter()
        .find(|r| r["id"] == json!(other))
        .expect("listed");
    assert_eq!(untouched["revision"], json!(1));

    // An id that matches nothing.
    journal
        .run(&["amend", "ffffffff"], r#"{"severity":1}"#)
        .fails(1)
        .no_stdout()
        .stderr_has("no observation matches");
    journal
        .run(&["show", "ffffffff"], "")
        .fails(1)
        .no_stdout()
        .stderr_has("no observation matches");
}
