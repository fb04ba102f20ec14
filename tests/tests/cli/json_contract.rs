//! The JSON contract of docs/cli-json.md, checked on every `--json` output at once: times Truce
//! makes are UTC with `Z`, observation times keep their offset and have a `_utc` companion in
//! UTC, areas are `{"code", "label"}` or null, daily counts are objects.
//!
//! Every command runs with a clock at UTC+05:45 (`TZ`), so a time written in the device's
//! local offset instead of UTC would show here.

use chrono::DateTime;
use serde_json::{json, Value};

use crate::harness::{json_lines, path_str, Journal};

/// A clock far from UTC, as a POSIX TZ string (needs no time zone database).
const TZ: (&str, &str) = ("TZ", "<+0545>-05:45");

/// Fields holding a time Truce makes itself (or derives in UTC): UTC, written with `Z`.
const TRUCE_TIMES: [&str; 8] = [
    "recorded_at",
    "accepted_at",
    "last_bundle_at",
    "latest_bundle_created_at",
    "newest_entry_at",
    "at",
    "from",
    "to",
];

/// Fields holding an observation time: the observed offset, with a `_utc` companion.
const OBSERVATION_TIMES: [&str; 2] = ["observed_at", "observed_until"];

fn is_utc_z(text: &str) -> bool {
    text.ends_with('Z') && DateTime::parse_from_rfc3339(text).is_ok()
}

/// Every breach of the convention in `value`, each with the path to it.
fn breaches(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                breaches(item, &format!("{path}[{i}]"), found);
            }
        }
        Value::Object(fields) => {
            for (key, v) in fields {
                let here = format!("{path}.{key}");
                if TRUCE_TIMES.contains(&key.as_str()) {
                    match v {
                        Value::Null => {}
                        Value::String(t) if is_utc_z(t) => {}
                        other => found.push(format!("{here}: {other} is not UTC with Z")),
                    }
                }
                if let Some(base) = key.strip_suffix("_utc") {
                    match (v, fields.get(base)) {
                        (Value::Null, Some(Value::Null)) => {}
                        (Value::String(t), Some(Value::String(observed))) if is_utc_z(t) => {
                            let same = DateTime::parse_from_rfc3339(observed)
                                .is_ok_and(|o| DateTime::parse_from_rfc3339(t).ok() == Some(o));
                            if !same {
                                found.push(format!("{here}: {t} is not the instant {observed}"));
                            }
                        }
                        (other, base_value) => found.push(format!(
                            "{here}: {other} is not the UTC companion of {base_value:?}"
                        )),
                    }
                }
                if OBSERVATION_TIMES.contains(&key.as_str())
                    && !fields.contains_key(&format!("{key}_utc"))
                {
                    found.push(format!("{here}: no {key}_utc companion"));
                }
                if key == "area" {
                    let shape_ok = match v {
                        Value::Null => true,
                        Value::Object(area) => {
                            area.len() == 2
                                && area.get("code").is_some_and(Value::is_string)
                                && area.get("label").is_some_and(Value::is_string)
                        }
                        _ => false,
                    };
                    if !shape_ok {
                        found.push(format!("{here}: {v} is not {{code, label}} or null"));
                    }
                }
                if key == "daily" {
                    let objects = v.as_array().is_some_and(|days| {
                        days.iter().all(|d| {
                            d.get("day").is_some_and(Value::is_string)
                                && d.get("count").is_some_and(Value::is_u64)
                        })
                    });
                    if !objects {
                        found.push(format!("{here}: daily counts are not {{day, count}}"));
                    }
                }
                breaches(v, &here, found);
            }
        }
        _ => {}
    }
}

/// `text` as JSON Lines, or one JSON document.
fn documents(text: &str) -> Vec<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(one) => vec![one],
        Err(_) => json_lines(text),
    }
}

/// Counts every area and time field seen, to show the check looked at something.
fn count_keys(value: &Value, keys: &[&str], n: &mut usize) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| count_keys(v, keys, n)),
        Value::Object(fields) => {
            for (k, v) in fields {
                *n += usize::from(keys.contains(&k.as_str()) && !v.is_null());
                count_keys(v, keys, n);
            }
        }
        _ => {}
    }
}

#[test]
fn the_checker_finds_each_kind_of_breach() {
    let bad = json!({
        "recorded_at": "2026-12-01T10:00:00+05:45",
        "observed_at": "2026-12-01T10:00:00+03:00",
        "area": "north",
        "daily": [["2026-12-01", 3]],
        "history": [{"observed_at": "2026-12-01T10:00:00+03:00",
                     "observed_at_utc": "2026-12-01T10:00:00Z"}],
    });
    let mut found = Vec::new();
    breaches(&bad, "$", &mut found);
    assert_eq!(found.len(), 5, "{found:#?}");
    let good = json!({
        "recorded_at": "2026-12-01T04:15:00Z",
        "observed_at": "2026-12-01T10:00:00+03:00",
        "observed_at_utc": "2026-12-01T07:00:00Z",
        "area": {"code": "north", "label": "North"},
        "daily": [{"day": "2026-12-01", "count": 3}],
    });
    let mut found = Vec::new();
    breaches(&good, "$", &mut found);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn every_json_output_follows_the_time_and_area_convention() {
    let coordinator = Journal::coordinator();
    let dir = coordinator.scratch("mission");
    let template = dir.join("template.json");
    std::fs::write(
        &template,
        json!({
            "areas": [{"code": "north", "label": "North", "bbox": [37.0, 48.0, 38.0, 49.0]},
                      {"code": "gate", "label": "Checkpoint 7"}],
            "alert_rules": [{"name": "shelling", "categories": ["shelling"],
                             "window_hours": 24, "threshold": 2, "level": 3}]
        })
        .to_string(),
    )
    .expect("template");
    let profile = dir.join("profile.json");
    coordinator
        .run_env(
            &[
                "profile",
                "create",
                "--mission",
                "East",
                "--out",
                path_str(&profile),
                "--template",
                path_str(&template),
            ],
            "",
            &[TZ],
        )
        .ok();
    let device = Journal::created("Ana");
    device
        .run_env(&["profile", "import", path_str(&profile)], "", &[TZ])
        .ok();
    let record = |fields: Value| {
        device
            .run_env(&["record"], &fields.to_string(), &[TZ])
            .ok()
            .single_line()
            .to_owned()
    };
    let north = record(
        json!({"kind": "violation", "category": "shelling", "method": "heard",
        "observed_at": "2026-11-20T10:00:00+03:00", "observed_until": "2026-11-20T10:30:00+03:00",
        "lat": 48.5, "lon": 37.5}),
    );
    record(
        json!({"kind": "violation", "category": "shelling", "method": "heard",
        "observed_at": "2026-11-20T13:00:00+03:00", "lat": 48.6, "lon": 37.6}),
    );
    let gate = record(
        json!({"kind": "violation", "category": "shelling", "method": "seen",
        "observed_at": "2026-11-20T09:00:00-02:00", "place": "checkpoint 7"}),
    );
    let nowhere = record(
        json!({"kind": "incident", "category": "mine_uxo", "method": "seen",
        "observed_at": "2026-11-20T12:00:00Z", "place": "somewhere else"}),
    );
    let bundle = device
        .run_env(
            &["export", "--out", path_str(&device.scratch("usb"))],
            "",
            &[TZ],
        )
        .ok()
        .stdout;
    let c = |args: &[&str]| coordinator.run_env(args, "", &[TZ]).ok().stdout;

    let mut outputs: Vec<(String, String)> = Vec::new();
    fn keep(outputs: &mut Vec<(String, String)>, what: &str, text: String) {
        outputs.push((what.to_owned(), text));
    }
    keep(
        &mut outputs,
        "import --json",
        c(&["import", "--json", bundle.trim()]),
    );
    keep(
        &mut outputs,
        "devices --json (pending)",
        c(&["devices", "--json"]),
    );
    // The record for people shows the stored time as it is: with the clock's offset, which
    // is what the JSON must not pass on.
    let text = device.run_env(&["show", &north], "", &[TZ]).ok().stdout;
    assert!(
        text.contains("+05:45"),
        "the clock offset did not reach the journal, so this test proves nothing: {text}"
    );
    let device_id = documents(&outputs[1].1)[0]["device_id"]
        .as_str()
        .expect("device id")
        .to_owned();
    keep(
        &mut outputs,
        "devices accept --json",
        c(&["devices", "--json", "accept", &device_id]),
    );
    keep(&mut outputs, "devices --json", c(&["devices", "--json"]));
    c(&[
        "verify",
        &north,
        "--status",
        "verified",
        "--note",
        "seen by two teams",
    ]);
    c(&["link", &north, &gate]);
    keep(&mut outputs, "events --json", c(&["events", "--json"]));
    keep(
        &mut outputs,
        "list --json",
        c(&["list", "--json", "--with-status"]),
    );
    keep(&mut outputs, "show --json", c(&["show", &north, "--json"]));
    keep(&mut outputs, "alerts --json", c(&["alerts", "--json"]));
    let report_args = [
        "report",
        "--from",
        "2026-11-20",
        "--to",
        "2026-11-20",
        "--format",
        "json",
    ];
    keep(&mut outputs, "report --format json", c(&report_args));
    let file = coordinator.scratch("out").join("report.json");
    let mut to_file = report_args.to_vec();
    to_file.extend(["--out", path_str(&file)]);
    c(&to_file);
    keep(
        &mut outputs,
        "report --format json --out FILE",
        std::fs::read_to_string(&file).expect("the report file"),
    );

    let mut found = Vec::new();
    let (mut times, mut areas) = (0, 0);
    for (what, text) in &outputs {
        let docs = documents(text);
        assert!(!docs.is_empty(), "{what} printed no JSON");
        for doc in &docs {
            breaches(doc, what, &mut found);
            count_keys(doc, &TRUCE_TIMES, &mut times);
            count_keys(doc, &["area"], &mut areas);
        }
    }
    assert!(found.is_empty(), "{found:#?}");
    // The check saw the fields it is about, in every kind of output.
    assert!(times >= 10, "only {times} Truce times seen");
    assert!(areas >= 5, "only {areas} areas seen");

    let output = |what: &str| {
        outputs
            .iter()
            .find(|(w, _)| w == what)
            .map(|(_, text)| text.as_str())
            .expect("kept")
    };
    // The areas: by bounding box, by place (the one area rule), or none.
    let rows = json_lines(output("list --json"));
    let area_of = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .map(|r| r["area"].clone())
            .expect("listed")
    };
    assert_eq!(area_of(&north), json!({"code": "north", "label": "North"}));
    assert_eq!(
        area_of(&gate),
        json!({"code": "gate", "label": "Checkpoint 7"})
    );
    assert_eq!(area_of(&nowhere), Value::Null);
    let shown = &documents(output("show --json"))[0];
    assert_eq!(shown["current"]["observed_at"], "2026-11-20T10:00:00+03:00");
    assert_eq!(shown["current"]["observed_at_utc"], "2026-11-20T07:00:00Z");
    assert_eq!(
        shown["current"]["observed_until_utc"],
        "2026-11-20T07:30:00Z"
    );
    assert_eq!(shown["verification"][0]["status"], "verified");
    let alerts = json_lines(output("alerts --json"));
    assert!(
        alerts.iter().any(|a| a["area"]["code"] == "north"),
        "{alerts:?}"
    );
}
