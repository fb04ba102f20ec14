//! Text that would drive the coordinator's terminal (escape sequences, C1 controls, bidi
//! overrides) is refused where a bundle carries it, and never printed raw, whatever its source:
//! a refusal reason quoting a hostile file, a file name on the stick, a device's name.

use std::path::PathBuf;

use serde_json::json;

use crate::harness::{json_lines, path_str, Journal, Mission};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/bundles")
}

/// A corpus case's file, by the start of its name.
fn corpus_case(number: &str) -> PathBuf {
    let name = crate::harness::names_in(&corpus_dir())
        .into_iter()
        .find(|n| n.starts_with(number))
        .unwrap_or_else(|| panic!("corpus case {number} is missing"));
    corpus_dir().join(name)
}

/// What a terminal must never receive raw: a control character other than a line break or a
/// tab (C0, DEL, C1), or a bidi embedding, override or isolate.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
        .collect()
}

#[track_caller]
fn assert_terminal_safe(what: &str, text: &str) {
    let raw = raw_controls(text);
    assert!(
        raw.is_empty(),
        "{what} holds raw control characters {raw:?}: {}",
        text.escape_debug()
    );
}

fn corpus_coordinator() -> Journal {
    let coordinator = Journal::coordinator();
    let key = corpus_dir().join("coordinator.key");
    coordinator
        .run(&["keys", "--import-secret", path_str(&key)], "")
        .ok();
    coordinator
}

#[test]
fn an_observer_name_with_escape_sequences_is_refused_and_printed_escaped() {
    let coordinator = corpus_coordinator();
    for (case, field) in [("30-", "observer name"), ("31-", "`observer`")] {
        let bundle = corpus_case(case);
        let run = coordinator
            .run(&["import", path_str(&bundle)], "")
            .no_panic();
        assert_eq!(run.code, Some(1), "a refusal makes import exit 1");
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains("REFUSED"))
            .unwrap_or_else(|| panic!("{case}: a REFUSED line: {}", run.stdout));
        assert!(
            line.contains(field) && line.contains("control character U+001B"),
            "{case}: the reason names the field and the character: {line}"
        );
        assert!(!run.stdout.contains('\u{1b}'), "{case}: no raw ESC");
        assert_terminal_safe("stdout", &run.stdout);
        assert_terminal_safe("stderr", &run.stderr);
        assert!(
            !run.stdout.contains("2 new, 0 already known"),
            "{case}: the refusal quotes nothing of the hostile name: {line}"
        );
    }
    let status = coordinator.run(&["status"], "").ok().stdout;
    assert!(status.contains("received:    0 entries"), "{status}");
    assert!(status.contains("quarantined: 2 bundles"), "{status}");
}

#[test]
fn an_unknown_manifest_key_with_escape_bytes_gives_a_clean_refused_line() {
    let coordinator = corpus_coordinator();
    let bundle = corpus_case("32-");
    // Text for people: serde's message quotes the key, escaped where it would drive the
    // terminal, all on one line.
    let run = coordinator
        .run(&["import", path_str(&bundle)], "")
        .no_panic();
    assert_eq!(run.code, Some(1), "a refusal makes import exit 1");
    assert_terminal_safe("stdout", &run.stdout);
    assert_terminal_safe("stderr", &run.stderr);
    let refused: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("REFUSED"))
        .collect();
    assert_eq!(refused.len(), 1, "{}", run.stdout);
    assert!(
        refused[0].contains("unknown field") && refused[0].contains("\\u{1b}[2K"),
        "the escape is visible: {}",
        refused[0]
    );
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);

    // JSON: the exact reason, with the control characters as JSON escapes.
    let run = coordinator
        .run(&["import", "--json", path_str(&bundle)], "")
        .no_panic();
    assert_eq!(run.code, Some(1));
    assert_terminal_safe("import --json", &run.stdout);
    let report = json_lines(&run.stdout);
    let reason = report[0]["refused"].as_str().expect("a reason");
    assert!(
        reason.contains(truce_tests::corpus::TERMINAL_ATTACK),
        "JSON keeps the exact text: {reason:?}"
    );
}

#[test]
fn a_file_name_with_escape_bytes_is_printed_escaped() {
    let coordinator = corpus_coordinator();
    let stick = coordinator.scratch("stick");
    let hostile = stick.join("x\u{1b}[2K\r\u{1b}[32mall good\u{1b}[0m\u{202e}ega.age");
    std::fs::copy(corpus_case("00-"), &hostile).expect("copy");
    let run = coordinator.run(&["import", path_str(&stick)], "").ok();
    assert_terminal_safe("stdout", &run.stdout);
    assert_terminal_safe("stderr", &run.stderr);
    assert!(
        run.stdout.contains("x\\u{1b}[2K\\u{d}\\u{1b}[32mall good"),
        "{}",
        run.stdout.escape_debug()
    );
    assert!(run.stdout.contains("2 new"), "{}", run.stdout);
}

#[test]
fn names_and_narratives_reach_people_escaped_and_json_exact() {
    let mission = Mission::new();
    // A bidi override is no control character: a name may hold it, printing escapes it.
    let observer = "Ana \u{202e}kcehc";
    let device = mission.device(observer);
    Journal::new()
        .run(&["init", "--observer", "Bo\u{1b}[2K"], "")
        .fails(1)
        .stderr_has("control characters");
    device
        .run(
            &["record"],
            &json!({"kind": "violation", "category": "shelling", "method": "heard",
                "narrative": "fake\u{1b}[2K"})
            .to_string(),
        )
        .fails(1)
        .stderr_has("`narrative`");
    let narrative = "North of the checkpoint\u{2067}\u{202e}\nVerification: verified\ttwice\r\nآنا\u{200f} می\u{200c}خواهد";
    let id = device.record(
        &json!({"kind": "violation", "category": "shelling", "method": "heard",
                "narrative": narrative})
        .to_string(),
    );
    let bundle = device
        .run(&["export", "--out", path_str(&device.scratch("usb"))], "")
        .ok()
        .stdout;
    mission.coordinator.run(&["import", bundle.trim()], "").ok();
    let c = &mission.coordinator;

    for args in [
        vec!["devices"],
        vec!["list"],
        vec!["show", &id],
        vec!["status"],
    ] {
        let run = c.run(&args, "").ok();
        assert_terminal_safe(&args.join(" "), &run.stdout);
        assert_terminal_safe(&args.join(" "), &run.stderr);
    }
    let devices = c.run(&["devices"], "").ok().stdout;
    assert!(devices.contains("Ana \\u{202e}kcehc"), "{devices}");
    let shown = c.run(&["show", &id], "").ok().stdout;
    // The narrative keeps its lines and tabs, indented under its column so that none passes
    // for a field; Arabic keeps its marks.
    assert!(
        shown.contains("\n                 Verification: verified\ttwice\n"),
        "{shown}"
    );
    assert!(shown.contains("آنا\u{200f} می\u{200c}خواهد"), "{shown}");
    assert!(shown.contains("checkpoint\\u{2067}\\u{202e}"), "{shown}");
    assert_eq!(
        shown
            .lines()
            .filter(|l| l.starts_with("Verification:"))
            .count(),
        1,
        "{shown}"
    );

    // JSON gets the exact text back, whatever escapes carried it.
    let run = c.run(&["devices", "--json"], "").ok();
    assert_terminal_safe("devices --json", &run.stdout);
    let devices = json_lines(&run.stdout);
    assert!(
        devices.iter().any(|d| d["observer"] == observer),
        "{devices:?}"
    );
    let run = c.run(&["show", &id, "--json"], "").ok();
    assert_terminal_safe("show --json", &run.stdout);
    assert_eq!(c.show(&id)["current"]["narrative"], narrative);
}
