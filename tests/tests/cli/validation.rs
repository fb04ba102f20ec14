//! Bad input is refused with a message that names the field, and saves nothing.

use serde_json::{json, Value};

use crate::harness::{assert_same_files, Journal, MINIMAL};

fn minimal_with(pairs: &[(&str, Value)]) -> String {
    let mut value: Value = serde_json::from_str(MINIMAL).expect("valid JSON");
    for (key, v) in pairs {
        value[*key] = v.clone();
    }
    value.to_string()
}

#[test]
fn invalid_records_are_refused_and_save_nothing() {
    let journal = Journal::created("Ana Validation");
    journal.record(MINIMAL);
    let listed = journal.list_raw();
    assert_eq!(listed.lines().count(), 1);

    // (stdin, exit code, what stderr must say)
    let cases: Vec<(String, i32, &str)> = vec![
        ("{\"kind\": ".into(), 1, "not valid JSON"),
        ("kind=violation".into(), 1, "not valid JSON"),
        (format!("{MINIMAL}{MINIMAL}"), 1, "not valid JSON"),
        (format!("[{MINIMAL}]"), 1, "one JSON object"),
        ("\"violation\"".into(), 1, "one JSON object"),
        ("null".into(), 1, "one JSON object"),
        (String::new(), 2, "no observation given"),
        (
            minimal_with(&[("narative", json!("typo"))]),
            1,
            "field `narative`",
        ),
        (
            minimal_with(&[("kind", json!("skirmish"))]),
            1,
            "field `kind`",
        ),
        (minimal_with(&[("kind", json!(null))]), 1, "field `kind`"),
        (
            r#"{"category":"shelling","method":"heard"}"#.into(),
            1,
            "field `kind`",
        ),
        (
            minimal_with(&[("category", json!("Shelling"))]),
            1,
            "field `category`",
        ),
        (
            minimal_with(&[("method", json!("smelled"))]),
            1,
            "field `method`",
        ),
        (
            r#"{"kind":"violation","category":"shelling"}"#.into(),
            1,
            "field `method`",
        ),
        (
            minimal_with(&[("lat", json!(90.5)), ("lon", json!(10.0))]),
            1,
            "field `lat`",
        ),
        (
            minimal_with(&[("lat", json!(-91)), ("lon", json!(10.0))]),
            1,
            "field `lat`",
        ),
        (
            minimal_with(&[("lat", json!(10.0)), ("lon", json!(180.5))]),
            1,
            "field `lon`",
        ),
        (
            minimal_with(&[("lat", json!("48.5")), ("lon", json!(10.0))]),
            1,
            "field `lat`",
        ),
        (minimal_with(&[("lat", json!(48.5))]), 1, "field `lon`"),
        (minimal_with(&[("lon", json!(10.0))]), 1, "field `lat`"),
        (
            minimal_with(&[("direction_deg", json!(360))]),
            1,
            "field `direction_deg`",
        ),
        (
            minimal_with(&[("direction_deg", json!(-1))]),
            1,
            "field `direction_deg`",
        ),
        (
            minimal_with(&[
                ("distance_min_m", json!(500)),
                ("distance_max_m", json!(100)),
            ]),
            1,
            "field `distance_min_m`",
        ),
        (
            minimal_with(&[("severity", json!(0))]),
            1,
            "field `severity`",
        ),
        (
            minimal_with(&[("severity", json!(6))]),
            1,
            "field `severity`",
        ),
        (
            minimal_with(&[("severity", json!(256))]),
            1,
            "field `severity`",
        ),
        (
            minimal_with(&[
                ("observed_at", json!("2026-11-24T10:00:00+02:00")),
                ("observed_until", json!("2026-11-24T07:59:00Z")),
            ]),
            1,
            "field `observed_until`",
        ),
        (
            minimal_with(&[("observed_at", json!("yesterday"))]),
            1,
            "field `observed_at`",
        ),
        (
            minimal_with(&[("narrative", json!("x".repeat(10_001)))]),
            1,
            "field `narrative`",
        ),
        (
            minimal_with(&[("narrative", json!("é".repeat(10_001)))]),
            1,
            "field `narrative`",
        ),
        (minimal_with(&[("killed", json!(-2))]), 1, "field `killed`"),
        (
            minimal_with(&[("tags", json!(["ok", ""]))]),
            1,
            "field `tags`",
        ),
        (
            minimal_with(&[("location_source", json!("gps"))]),
            1,
            "field `location_source`",
        ),
        (
            minimal_with(&[("id", json!("not-a-uuid"))]),
            1,
            "field `id`",
        ),
    ];
    for (stdin, code, says) in &cases {
        let shown: String = stdin.chars().take(120).collect();
        let run = journal.run(&["record"], stdin);
        assert!(
            run.stdout.is_empty(),
            "input {shown:?}: nothing on stdout, got {:?}",
            run.stdout
        );
        let run = run.fails(*code).stderr_has(says);
        assert!(
            *code == 2 || run.stderr.contains("Nothing was saved"),
            "input {shown:?}: the error must say nothing was saved: {}",
            run.stderr
        );
        assert_eq!(
            journal.list_raw(),
            listed,
            "input {shown:?} changed the journal"
        );
    }

    // Quick-entry flags go through the same rules.
    let quick: &[(&[&str], &str)] = &[
        (
            &[
                "record",
                "--kind",
                "violation",
                "--category",
                "shelling",
                "--method",
                "heard",
                "--lat",
                "91",
                "--lon",
                "0",
            ],
            "field `lat`",
        ),
        (
            &[
                "record",
                "--kind",
                "violation",
                "--category",
                "shelling",
                "--method",
                "heard",
                "--lat",
                "45",
            ],
            "field `lon`",
        ),
        (
            &[
                "record",
                "--kind",
                "violation",
                "--category",
                "shelling",
                "--method",
                "heard",
                "--severity",
                "6",
            ],
            "field `severity`",
        ),
        (
            &[
                "record",
                "--kind",
                "violation",
                "--category",
                "shelling",
                "--method",
                "smelled",
            ],
            "field `method`",
        ),
        (
            &["record", "--kind", "violation", "--category", "shelling"],
            "field `method`",
        ),
    ];
    for (args, says) in quick {
        journal.run(args, "").fails(1).no_stdout().stderr_has(says);
        assert_eq!(
            journal.list_raw(),
            listed,
            "`truce {}` changed the journal",
            args.join(" ")
        );
    }

    // The limits themselves are accepted: 10,000 characters of narrative (counted in
    // characters, not bytes), and the edges of every range.
    journal.record(&minimal_with(&[("narrative", json!("x".repeat(10_000)))]));
    journal.record(&minimal_with(&[("narrative", json!("é".repeat(10_000)))]));
    journal.record(&minimal_with(&[
        ("lat", json!(-90.0)),
        ("lon", json!(180.0)),
        ("direction_deg", json!(359)),
        ("distance_min_m", json!(100)),
        ("distance_max_m", json!(100)),
        ("severity", json!(5)),
        ("observed_at", json!("2026-11-24T10:00:00+01:00")),
        ("observed_until", json!("2026-11-24T09:00:00Z")),
    ]));
    journal.record(&minimal_with(&[
        ("lat", json!(90)),
        ("lon", json!(-180)),
        ("direction_deg", json!(0)),
        ("severity", json!(1)),
    ]));
    let rows = journal.list();
    assert_eq!(rows.len(), 5);
    let narratives: Vec<usize> = rows
        .iter()
        .map(|r| r["narrative"].as_str().expect("text").chars().count())
        .collect();
    assert_eq!(
        narratives.iter().filter(|n| **n == 10_000).count(),
        2,
        "{narratives:?}"
    );
}

#[test]
fn invalid_amendments_change_nothing() {
    let journal = Journal::created("Ana Amend Validation");
    let id = journal.record(&minimal_with(&[
        ("severity", json!(2)),
        ("lat", json!(48.5)),
        ("lon", json!(37.25)),
    ]));
    let before_show = journal.show(&id);
    let before_files = journal.files();

    let other_id = "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000";
    let cases: Vec<(String, &str)> = vec![
        (r#"{"severity":9}"#.into(), "field `severity`"),
        (r#"{"severity":0}"#.into(), "field `severity`"),
        (r#"{"lat":95}"#.into(), "field `lat`"),
        (r#"{"lon":null}"#.into(), "field `lon`"),
        (r#"{"direction_deg":360}"#.into(), "field `direction_deg`"),
        (r#"{"kind":"skirmish"}"#.into(), "field `kind`"),
        (r#"{"category":null}"#.into(), "field `category`"),
        (r#"{"method":"smelled"}"#.into(), "field `method`"),
        (r#"{"narative":"typo"}"#.into(), "field `narative`"),
        (format!(r#"{{"id":"{other_id}"}}"#), "field `id`"),
        (
            r#"{"observed_until":"2000-01-01T00:00:00Z"}"#.into(),
            "field `observed_until`",
        ),
        (
            json!({"narrative": "x".repeat(10_001)}).to_string(),
            "field `narrative`",
        ),
        (r#"{"severity":2}"#.into(), "changes nothing"),
        ("{}".into(), "empty"),
        ("[1,2]".into(), "one JSON object"),
        ("{\"severity\":".into(), "not valid JSON"),
    ];
    for (stdin, says) in &cases {
        let shown: String = stdin.chars().take(80).collect();
        let run = journal.run(&["amend", &id], stdin);
        assert!(
            run.stdout.is_empty(),
            "amendment {shown:?}: nothing on stdout, got {:?}",
            run.stdout
        );
        run.fails(1).stderr_has(says);
        assert_eq!(
            journal.show(&id),
            before_show,
            "amendment {shown:?} changed the observation"
        );
    }
    assert_same_files(&before_files, &journal.files(), "after refused amendments");

    // A valid amendment afterwards becomes revision 2: the refused ones left no trace.
    assert_eq!(
        journal
            .run(&["amend", &id], r#"{"severity":3}"#)
            .ok()
            .stdout,
        "2\n"
    );
}
