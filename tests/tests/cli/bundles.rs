//! Bundles end to end: mission profile, export on devices, import and merge on a coordinator,
//! stock `age`/`zstd` opening a bundle, and a hostile-input corpus built from raw layers.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::{by_id, json_lines, names_in, path_str, Journal, Mission};

fn export(device: &Journal, out: &Path) -> PathBuf {
    let run = device.run(&["export", "--out", path_str(out)], "").ok();
    let path = PathBuf::from(run.single_line());
    assert!(
        path.is_file(),
        "export prints the bundle's path: {}",
        run.stdout
    );
    path
}

fn observation(n: usize, narrative: &str) -> String {
    json!({"kind": "violation", "category": "shelling", "method": "heard",
           "event_count": n, "narrative": narrative})
    .to_string()
}

/// A deterministic shuffle (no RNG crate needed): sort by a keyed hash.
fn shuffled(mut paths: Vec<PathBuf>, key: &str) -> Vec<PathBuf> {
    paths.sort_by_key(|p| Sha256::digest(format!("{key}{}", p.display())).to_vec());
    paths
}

#[test]
fn three_devices_merge_in_any_order_any_number_of_times() {
    let mission = Mission::new();
    let usb = mission.coordinator.scratch("usb");
    let mut bundles = Vec::new();
    let mut expected = BTreeMap::new();
    for name in ["Ana", "Bo", "Chen"] {
        let device = mission.device(name);
        for round in 0..3 {
            let first = device.record(&observation(round, &format!("{name} round {round} a")));
            device.record(&observation(round, &format!("{name} round {round} b")));
            if round == 1 {
                device.run(&["amend", &first], r#"{"severity": 4}"#).ok();
            }
            bundles.push(export(&device, &usb));
        }
        expected.extend(by_id(device.records()));
    }
    assert_eq!(bundles.len(), 9);
    assert_eq!(expected.len(), 18);

    let (run, report) = mission.import(&shuffled(bundles.clone(), "first"));
    let run = run.ok();
    assert_eq!(report.len(), 9, "{}", run.stdout);
    let new: u64 = report
        .iter()
        .map(|r| r["new_entries"].as_u64().expect("count"))
        .sum();
    assert_eq!(new, 21, "18 first revisions and 3 amendments");
    let state = mission.state();
    assert_eq!(
        state, expected,
        "the coordinator holds exactly the union of the devices' records"
    );

    let (run, report) = mission.import(&shuffled(bundles, "second"));
    run.ok();
    assert!(report
        .iter()
        .all(|r| r["new_entries"] == 0 && r["refused"].is_null()));
    let known: u64 = report
        .iter()
        .map(|r| r["known_entries"].as_u64().expect("count"))
        .sum();
    assert_eq!(known, 21);
    assert_eq!(mission.state(), state, "a second import changes nothing");
    assert!(report.iter().all(|r| r["gaps"] == json!([])));
}

#[test]
fn a_withheld_bundle_is_reported_as_a_gap() {
    let mission = Mission::new();
    let device = mission.device("Ana");
    let usb = mission.coordinator.scratch("usb");
    let mut bundles = Vec::new();
    for round in 0..3 {
        for i in 0..2 {
            device.record(&observation(i, &format!("round {round}")));
        }
        bundles.push(export(&device, &usb));
    }
    let (run, report) = mission.import(&[bundles[2].clone(), bundles[0].clone()]);
    run.ok();
    assert_eq!(
        report[1]["gaps"],
        json!([[3, 4]]),
        "entries 3-4 are in the withheld bundle"
    );
    assert!(run_stdout_has_gap(&mission, &bundles[0]));
    let (run, report) = mission.import(&[bundles[1].clone()]);
    run.ok();
    assert_eq!(report[0]["gaps"], json!([]));
    assert_eq!(report[0]["new_entries"], 2);
}

fn run_stdout_has_gap(mission: &Mission, bundle: &Path) -> bool {
    let run = mission
        .coordinator
        .run(&["import", path_str(bundle)], "")
        .ok();
    run.stdout.contains("entries 3–4 missing")
}

#[test]
fn a_monitor_without_profile_cannot_export_and_cannot_import() {
    let device = Journal::created("Ana");
    device.record(&observation(1, "x"));
    let out = device.scratch("usb");
    device
        .run(&["export", "--out", path_str(&out)], "")
        .fails(1)
        .stderr_has("profile import");
    assert!(crate::harness::names_in(&out).is_empty(), "nothing written");
    let some = out.join("x.age");
    std::fs::write(&some, b"age-encryption.org/v1\n").expect("write");
    device
        .run(&["import", path_str(&some)], "")
        .fails(1)
        .stderr_has("coordinator");
}

/// A folder that is not there (a stick not mounted) is named, with what to do, and nothing is
/// counted as exported.
#[test]
fn export_to_a_missing_folder_says_to_create_it() {
    let mission = Mission::new();
    let device = mission.device("Ana");
    device.record(&observation(1, "x"));
    let missing = device.scratch("usb").join("not-mounted");
    device
        .run(&["export", "--out", path_str(&missing)], "")
        .fails(1)
        .stderr_has("is not a folder: create it (or mount the stick)");
    let status = device.run(&["status"], "").ok().stdout;
    assert!(status.contains("to export:   1"), "{status}");
}

#[test]
fn a_profile_update_must_come_from_the_same_coordinator() {
    let mission = Mission::new();
    let device = mission.device("Ana");
    let other = Mission::new();
    device
        .run(&["profile", "import", path_str(&other.profile)], "")
        .fails(1)
        .stderr_has("another coordinator");
    let tampered = device.scratch("t").join("profile.json");
    let text = std::fs::read_to_string(&mission.profile)
        .expect("read")
        .replace("Mission East", "Mission Evil");
    std::fs::write(&tampered, text).expect("write");
    device
        .run(&["profile", "import", path_str(&tampered)], "")
        .fails(1)
        .stderr_has("signature");
    let shown = device.run(&["profile", "show"], "").ok().stdout;
    assert!(shown.contains("Mission East"), "{shown}");
}

#[test]
fn stock_age_and_zstd_open_a_bundle() {
    let have = |tool: &str| {
        std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok()
    };
    if !have("age") || !have("zstd") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install the `age` and `zstd` packages"
        );
        eprintln!("note: `age` or `zstd` missing; skipping the stock-tools check (apt-get install age zstd)");
        return;
    }
    let mission = Mission::new();
    let device = mission.device("Ana");
    let marker = truce_tests::unique_marker("stock");
    device.record(&observation(3, &marker));
    let bundle = export(&device, &device.scratch("usb"));
    let key = mission.coordinator.scratch("keys").join("coordinator.key");
    mission
        .coordinator
        .run(&["keys", "--export-secret", path_str(&key)], "")
        .no_panic()
        .stderr_has("warning");
    let age = std::process::Command::new("age")
        .args(["-d", "-i", path_str(&key), path_str(&bundle)])
        .output()
        .expect("run age");
    assert!(
        age.status.success(),
        "age -d failed: {}",
        String::from_utf8_lossy(&age.stderr)
    );
    // Version 2: a tar archive inside the age layer, the entries in zstd members.
    let out = mission.coordinator.scratch("opened");
    let mut tar = std::process::Command::new("tar")
        .args(["-x", "-C", path_str(&out)])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run tar");
    tar.stdin
        .take()
        .expect("stdin")
        .write_all(&age.stdout)
        .expect("pipe");
    assert!(tar.wait().expect("tar").success());
    let members = names_in(&out);
    assert!(
        members.contains(&"signature.json".to_owned()),
        "{members:?}"
    );
    let plain = std::process::Command::new("bash")
        .args(["-c", "cat entries.jsonl.zst.* | zstd -d"])
        .current_dir(&out)
        .output()
        .expect("run zstd");
    assert!(plain.status.success());
    let text = String::from_utf8(plain.stdout).expect("UTF-8");
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 2, "manifest, one entry");
    assert_eq!(lines[0]["format"], "truce-bundle");
    assert_eq!(lines[0]["version"], 2);
    assert_eq!(lines[1]["record"]["narrative"], marker.as_str());
    let signature: Value =
        serde_json::from_slice(&std::fs::read(out.join("signature.json")).expect("signature.json"))
            .expect("JSON");
    assert!(signature["signature"].is_string());
    assert!(!std::fs::read(&bundle)
        .expect("read")
        .windows(marker.len())
        .any(|w| w == marker.as_bytes()));
}

// ---------------------------------------------------------------------------------------------
// The hostile-input corpus in tests/testdata/bundles (written by `make-corpus`): each case with
// the outcome it must have. After every refused case the coordinator's records are unchanged.

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/bundles")
}

#[test]
fn the_committed_corpus_has_every_case() {
    let expected: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("expected.json")).expect("expected.json"),
    )
    .expect("JSON");
    let names: Vec<String> = expected
        .iter()
        .map(|c| c["file"].as_str().expect("file").to_owned())
        .collect();
    let built: Vec<String> = truce_tests::corpus::cases(
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
    )
    .into_iter()
    .map(|c| c.name)
    .collect();
    assert_eq!(
        names, built,
        "the corpus is stale: run `cargo run -p truce-tests --bin make-corpus`"
    );
    for name in &names {
        assert!(corpus_dir().join(name).is_file(), "{name} is missing");
    }
}

/// A coordinator holding the corpus's coordinator key, and the corpus's cases in order.
fn corpus_coordinator() -> (Journal, Vec<Value>) {
    let coordinator = Journal::coordinator();
    let key = corpus_dir().join("coordinator.key");
    coordinator
        .run(&["keys", "--import-secret", path_str(&key)], "")
        .ok();
    let expected: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("expected.json")).expect("expected.json"),
    )
    .expect("JSON");
    assert!(expected.len() >= 20, "the corpus has all its cases");
    (coordinator, expected)
}

/// Checks one import report line against the corpus's expected outcome for that case.
fn check_case(case: &Value, report: &Value) {
    let name = case["file"].as_str().expect("file name");
    assert!(
        report["file"].as_str().is_some_and(|f| f.ends_with(name)),
        "{name}: the report is for {}",
        report["file"]
    );
    match case["outcome"].as_str() {
        Some("refused") => {
            let reason = report["refused"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: must be refused: {report}"));
            let wanted = case["reason"].as_str().expect("reason");
            assert!(
                reason.to_lowercase().contains(&wanted.to_lowercase()),
                "{name}: the reason must mention {wanted:?}, got: {reason}"
            );
        }
        Some("imported") => {
            assert!(report["refused"].is_null(), "{name}: {report}");
            assert_eq!(report["new_entries"], case["new_entries"], "{name}");
            assert_eq!(report["known_entries"], case["known_entries"], "{name}");
            assert_eq!(report["gaps"], case["gaps"], "{name}");
        }
        other => panic!("{name}: unknown outcome {other:?}"),
    }
}

/// What the coordinator holds after the whole corpus: its quarantine and its three entries.
fn check_corpus_imported(coordinator: &Journal) {
    let refused = expected_refusals();
    let status = coordinator.run(&["status"], "").ok().stdout;
    assert!(
        status.contains(&format!("quarantined: {refused} bundles")),
        "{status}"
    );
    assert!(status.contains("received:    4 entries"), "{status}");
}

#[test]
fn hostile_bundles_are_refused_with_a_clear_reason_and_change_nothing() {
    let (coordinator, expected) = corpus_coordinator();
    let key = corpus_dir().join("coordinator.key");
    coordinator
        .run(&["keys", "--import-secret", path_str(&key)], "")
        .fails(1)
        .stderr_has("already has");
    for case in expected {
        let name = case["file"].as_str().expect("file name");
        let path = corpus_dir().join(name);
        let before = by_id(coordinator.list());
        let run = coordinator
            .run(&["import", "--json", path_str(&path)], "")
            .no_panic();
        let report = json_lines(&run.stdout);
        assert_eq!(report.len(), 1, "{name}: one report line");
        check_case(&case, &report[0]);
        if case["outcome"] == "refused" {
            assert_eq!(
                run.code,
                Some(1),
                "{name}: a refused bundle makes import exit 1"
            );
            assert!(run.stderr.contains("error: "), "{name}: {}", run.stderr);
            assert_eq!(
                by_id(coordinator.list()),
                before,
                "{name}: the coordinator's records changed"
            );
        } else {
            assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        }
    }
    check_corpus_imported(&coordinator);
}

/// One `truce import` of every case shares one transaction among the bundles: each refused
/// bundle must roll back to its own savepoint, leaving the bundles before and after it whole.
#[test]
fn the_whole_corpus_in_one_import_ends_as_one_bundle_at_a_time_does() {
    let (coordinator, expected) = corpus_coordinator();
    let paths: Vec<PathBuf> = expected
        .iter()
        .map(|c| corpus_dir().join(c["file"].as_str().expect("file name")))
        .collect();
    let mut args = vec!["import", "--json"];
    args.extend(paths.iter().map(|p| path_str(p)));
    let run = coordinator.run(&args, "").no_panic();
    assert_eq!(run.code, Some(1), "refused bundles make import exit 1");
    let report = json_lines(&run.stdout);
    assert_eq!(
        report.len(),
        expected.len(),
        "one line per bundle, in order"
    );
    // The gaps each report gives are the device's once the run is durable (found once per
    // device, not once per bundle): those the device's last imported bundle expects.
    for (case, line) in expected.iter().zip(&report) {
        let mut case = case.clone();
        if case["outcome"] == "imported" {
            let last = expected
                .iter()
                .zip(&report)
                .rfind(|(c, r)| c["outcome"] == "imported" && r["device_id"] == line["device_id"])
                .map(|(c, _)| c["gaps"].clone())
                .expect("this case itself");
            case["gaps"] = last;
        }
        check_case(&case, line);
    }
    check_corpus_imported(&coordinator);
    assert!(
        run.stderr
            .contains(&format!("{} bundle(s) were refused", expected_refusals())),
        "{}",
        run.stderr
    );
}

fn expected_refusals() -> usize {
    let expected: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("expected.json")).expect("expected.json"),
    )
    .expect("JSON");
    expected
        .iter()
        .filter(|c| c["outcome"] == "refused")
        .count()
}

/// A device of `mission` with `records` observations, the `ranges` of its log exported alone
/// (`--from A --to B`): the device, its stick and the bundles written.
fn ranges_exported(
    mission: &Mission,
    observer: &str,
    records: usize,
    ranges: &[(&str, &str)],
) -> (Journal, PathBuf, Vec<PathBuf>) {
    let device = mission.device(observer);
    for n in 1..=records {
        device.record(&observation(n, &format!("entry {n}")));
    }
    let usb = device.scratch("usb");
    let mut bundles = Vec::new();
    for (from, to) in ranges {
        let run = device
            .run(
                &[
                    "export",
                    "--out",
                    path_str(&usb),
                    "--from",
                    from,
                    "--to",
                    to,
                ],
                "",
            )
            .ok();
        bundles.push(PathBuf::from(run.single_line()));
    }
    (device, usb, bundles)
}

/// `truce export` sends every entry no export carried, not only those after the highest one
/// exported: a range exported alone (`--from 6 --to 6`) leaves the entries before it pending.
#[test]
fn a_range_export_does_not_hide_older_unexported_entries() {
    let mission = Mission::new();
    let (device, usb, mut bundles) = ranges_exported(&mission, "Ana", 6, &[("1", "2"), ("6", "6")]);
    let usb_arg = path_str(&usb);
    let status = device.run(&["status"], "").ok().stdout;
    assert!(status.contains("to export:   3"), "entries 3-5: {status}");

    let run = device.run(&["export", "--out", usb_arg], "").ok();
    let written = PathBuf::from(run.single_line());
    assert!(written.is_file(), "{}", run.stdout);
    assert!(
        run.stderr.contains("Exported entries 3-5"),
        "the export names what it wrote: {}",
        run.stderr
    );
    bundles.push(written);
    device
        .run(&["export", "--out", usb_arg], "")
        .ok()
        .no_stdout()
        .stderr_has("nothing new");
    let status = device.run(&["status"], "").ok().stdout;
    assert!(status.contains("to export:   0"), "{status}");

    let (run, report) = mission.import(&bundles);
    run.ok();
    let new: u64 = report
        .iter()
        .map(|r| r["new_entries"].as_u64().expect("count"))
        .sum();
    assert_eq!(new, 6, "every entry reached the coordinator: {report:?}");
    assert_eq!(report[2]["gaps"], json!([]), "{report:?}");
    assert_eq!(mission.state().len(), 6);
}

/// Several ranges never exported: one command writes one bundle for each, lowest first.
#[test]
fn export_writes_one_bundle_per_range_never_exported() {
    let mission = Mission::new();
    let (device, usb, mut bundles) = ranges_exported(&mission, "Bo", 8, &[("2", "3"), ("6", "6")]);
    let usb_arg = path_str(&usb);
    let run = device.run(&["export", "--out", usb_arg], "").ok();
    let written: Vec<PathBuf> = run.stdout.lines().map(PathBuf::from).collect();
    assert_eq!(written.len(), 3, "1, 4-5 and 7-8: {}", run.stdout);
    assert!(written.iter().all(|p| p.is_file()));
    for range in ["1-1", "4-5", "7-8"] {
        assert!(
            run.stderr.contains(&format!("Exported entries {range} ")),
            "{range}: {}",
            run.stderr
        );
    }
    bundles.extend(written);
    device
        .run(&["export", "--out", usb_arg], "")
        .ok()
        .stderr_has("nothing new");

    let (run, report) = mission.import(&bundles);
    run.ok();
    assert_eq!(report.len(), 5);
    assert_eq!(report[4]["gaps"], json!([]), "{report:?}");
    assert_eq!(mission.state().len(), 8);
}

/// Devices set up in the same minute share the beginning of their UUID v7: the import report
/// names each by its observer and the start of its fingerprint.
#[test]
fn the_import_report_tells_devices_apart_by_observer_and_fingerprint() {
    let mission = Mission::new();
    let usb = mission.coordinator.scratch("usb");
    let mut expected = Vec::new();
    for observer in ["Ana", "Eve"] {
        let device = mission.device(observer);
        device.record(&observation(1, observer));
        device.run(&["export", "--out", path_str(&usb)], "").ok();
        let keys = device.run(&["keys"], "").ok().stdout;
        let fingerprint = keys
            .lines()
            .find_map(|l| l.strip_prefix("fingerprint:"))
            .map(str::trim)
            .expect("fingerprint")
            .to_owned();
        expected.push(format!("{observer} ({}): 1 new", &fingerprint[..9]));
    }
    let run = mission
        .coordinator
        .run(&["import", path_str(&usb)], "")
        .ok();
    for line in expected {
        assert!(run.stdout.contains(&line), "{line:?} in {}", run.stdout);
    }
    assert!(
        !run.stdout.contains("…:"),
        "no device named by a cut UUID: {}",
        run.stdout
    );
}
