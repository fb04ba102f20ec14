//! Bundles end to end: mission profile, export on devices, import and merge on a coordinator,
//! stock `age`/`zstd` opening a bundle, and a hostile-input corpus built from raw layers.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::{json_lines, Journal};

/// A coordinator journal with a signed profile written next to it.
struct Mission {
    coordinator: Journal,
    profile: PathBuf,
    recipient: String,
}

impl Mission {
    fn new() -> Mission {
        let coordinator = Journal::new();
        coordinator
            .run(
                &["init", "--observer", "HQ desk", "--role", "coordinator"],
                "",
            )
            .ok();
        let profile = coordinator.scratch("mission").join("profile.json");
        coordinator
            .run(
                &[
                    "profile",
                    "create",
                    "--mission",
                    "Mission East",
                    "--out",
                    path_str(&profile),
                ],
                "",
            )
            .ok();
        let keys = coordinator.run(&["keys"], "").ok().stdout;
        let recipient = keys
            .lines()
            .find_map(|l| l.strip_prefix("recipient:"))
            .map(|r| r.trim().to_owned())
            .expect("a coordinator shows its recipient");
        assert!(recipient.starts_with("age1"), "{recipient}");
        Mission {
            coordinator,
            profile,
            recipient,
        }
    }

    /// A monitor device with the mission profile installed.
    fn device(&self, observer: &str) -> Journal {
        let device = Journal::created(observer);
        device
            .run(&["profile", "import", path_str(&self.profile)], "")
            .ok();
        device
    }

    /// Imports `paths`; returns the run (not asserted) and the JSON report lines.
    fn import(&self, paths: &[PathBuf]) -> (crate::harness::Run, Vec<Value>) {
        let mut args = vec!["import", "--json"];
        args.extend(paths.iter().map(|p| path_str(p)));
        let run = self.coordinator.run(&args, "").no_panic();
        let report = json_lines(&run.stdout);
        (run, report)
    }

    /// The coordinator's current records, by id.
    fn state(&self) -> BTreeMap<String, Value> {
        by_id(self.coordinator.list())
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

fn by_id(rows: Vec<Value>) -> BTreeMap<String, Value> {
    rows.into_iter()
        .map(|row| (row["id"].as_str().expect("id").to_owned(), row))
        .collect()
}

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
        expected.extend(by_id(device.list()));
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
    let mut zstd = std::process::Command::new("zstd")
        .args(["-d", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run zstd");
    zstd.stdin
        .take()
        .expect("stdin")
        .write_all(&age.stdout)
        .expect("pipe");
    let plain = zstd.wait_with_output().expect("zstd output");
    assert!(plain.status.success());
    let text = String::from_utf8(plain.stdout).expect("UTF-8");
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 3, "manifest, one entry, signature");
    assert_eq!(lines[0]["format"], "truce-bundle");
    assert_eq!(lines[1]["record"]["narrative"], marker.as_str());
    assert!(lines[2]["signature"].is_string());
    assert!(!std::fs::read(&bundle)
        .expect("read")
        .windows(marker.len())
        .any(|w| w == marker.as_bytes()));
}

// ---------------------------------------------------------------------------------------------
// Hostile corpus: bundles built from raw layers (JSON Lines -> zstd -> age), one case each,
// with the error each must produce. After every case the coordinator's records are unchanged.

struct Forger {
    key: SigningKey,
    device_id: String,
}

impl Forger {
    fn new(seed: u8) -> Forger {
        Forger {
            key: SigningKey::from_bytes(&[seed; 32]),
            device_id: uuid::Uuid::now_v7().to_string(),
        }
    }

    fn record(&self, n: u64, extra: Value) -> String {
        let mut record = json!({
            "id": uuid::Uuid::now_v7().to_string(), "kind": "violation", "category": "shelling",
            "observed_at": "2026-11-24T05:30:00+03:00", "method": "heard", "event_count": n,
            "revision": 1, "recorded_at": "2026-11-24T05:31:00+03:00",
            "device_id": self.device_id, "observer": "Forger",
        });
        if let (Value::Object(r), Value::Object(e)) = (&mut record, extra) {
            r.extend(e);
        }
        record.to_string()
    }

    /// Entry lines for `records`, chained from `first` after `prev`.
    fn entries(&self, first: u64, prev: [u8; 32], records: &[String]) -> (Vec<String>, [u8; 32]) {
        let mut prev = prev;
        let mut lines = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let seq = first + i as u64;
            let mut h = Sha256::new();
            h.update(format!("truce-entry-v1\n{seq}\n{}\n", hex::encode(prev)));
            h.update(record.as_bytes());
            let hash: [u8; 32] = h.finalize().into();
            lines.push(format!(
                r#"{{"seq":{seq},"prev_hash":"{}","hash":"{}","record":{record}}}"#,
                hex::encode(prev),
                hex::encode(hash)
            ));
            prev = hash;
        }
        (lines, prev)
    }

    fn manifest(&self, first: u64, count: u64) -> String {
        json!({"format": "truce-bundle", "version": 1, "bundle_id": hex::encode(uuid::Uuid::now_v7().as_bytes()),
               "device_id": self.device_id, "device_key": hex::encode(self.key.verifying_key().as_bytes()),
               "observer": "Forger", "mission": "Mission East", "created_at": "2026-11-24T06:00:00+03:00",
               "first_seq": first, "last_seq": first + count - 1, "entry_count": count})
        .to_string()
    }

    /// Manifest + entries + a signature by `signer`, as plaintext.
    fn signed(&self, signer: &SigningKey, body: &[String]) -> Vec<u8> {
        let mut plain = Vec::new();
        for line in body {
            plain.extend_from_slice(line.as_bytes());
            plain.push(b'\n');
        }
        let digest = Sha256::digest(&plain);
        let mut message = b"truce-bundle-v1\n".to_vec();
        message.extend_from_slice(&digest);
        let sig = signer.sign(&message);
        plain.extend_from_slice(
            format!(r#"{{"signature":"{}"}}"#, hex::encode(sig.to_bytes())).as_bytes(),
        );
        plain.push(b'\n');
        plain
    }

    fn bundle(&self, first: u64, prev: [u8; 32], records: &[String]) -> (Vec<u8>, [u8; 32]) {
        let (entries, last) = self.entries(first, prev, records);
        let mut body = vec![self.manifest(first, records.len() as u64)];
        body.extend(entries);
        (self.signed(&self.key, &body), last)
    }
}

fn compress(plain: &[u8]) -> Vec<u8> {
    zstd::encode_all(plain, 3).expect("zstd")
}

fn seal(compressed: &[u8], recipient: &str) -> Vec<u8> {
    let recipient: age::x25519::Recipient = recipient.parse().expect("recipient");
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .expect("encryptor");
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).expect("wrap");
    w.write_all(compressed).expect("write");
    w.finish().expect("finish");
    out
}

#[test]
fn hostile_bundles_are_refused_with_a_clear_reason_and_change_nothing() {
    let mission = Mission::new();
    let to = mission.recipient.clone();
    let dir = mission.coordinator.scratch("hostile");
    let good = Forger::new(1);
    let genesis = [0u8; 32];

    // A legitimate first bundle from `good` (entries 1-2), imported first: trust on first use.
    let (first_plain, after_two) = good.bundle(
        1,
        genesis,
        &[good.record(1, json!({})), good.record(2, json!({}))],
    );
    let first = dir.join("first.age");
    std::fs::write(&first, seal(&compress(&first_plain), &to)).expect("write");
    let (run, _) = mission.import(std::slice::from_ref(&first));
    run.ok();
    let sealed_first = std::fs::read(&first).expect("read");

    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    cases.push((
        "truncated",
        sealed_first[..sealed_first.len() / 2].to_vec(),
        "truncated",
    ));
    for (region, at) in [
        ("header", 30),
        ("body", sealed_first.len() / 2),
        ("tail", sealed_first.len() - 3),
    ] {
        let mut flipped = sealed_first.clone();
        flipped[at] ^= 0x01;
        cases.push((
            region,
            flipped,
            if region == "header" { "" } else { "damaged" },
        ));
    }
    let stranger = age::x25519::Identity::generate().to_public().to_string();
    cases.push((
        "wrong recipient",
        seal(&compress(&first_plain), &stranger),
        "wrong recipient",
    ));

    let next = [good.record(3, json!({}))];
    let (entries, _) = good.entries(3, after_two, &next);
    let mut body = vec![good.manifest(3, 1)];
    body.extend(entries.clone());
    let mut unsigned = Vec::new();
    for line in &body {
        unsigned.extend_from_slice(line.as_bytes());
        unsigned.push(b'\n');
    }
    cases.push(("no signature", seal(&compress(&unsigned), &to), "signature"));
    let other = SigningKey::from_bytes(&[9u8; 32]);
    cases.push((
        "wrong signature",
        seal(&compress(&good.signed(&other, &body)), &to),
        "signature",
    ));

    let impostor = Forger {
        key: other.clone(),
        device_id: good.device_id.clone(),
    };
    let (plain, _) = impostor.bundle(3, after_two, &[impostor.record(3, json!({}))]);
    cases.push((
        "another key claims the device",
        seal(&compress(&plain), &to),
        "another key",
    ));

    // Out of order: entries 4 then 3 in one bundle.
    let (mut ooo, _) = good.entries(
        3,
        after_two,
        &[good.record(3, json!({})), good.record(4, json!({}))],
    );
    ooo.swap(0, 1);
    let mut body = vec![good.manifest(3, 2)];
    body.extend(ooo);
    cases.push((
        "out of order",
        seal(&compress(&good.signed(&good.key, &body)), &to),
        "out of order",
    ));

    // Same seq 2 with other content (a rewritten history): tampering.
    let (plain, _) = good.bundle(2, hex_prev(&first_plain, 2), &[good.record(99, json!({}))]);
    cases.push((
        "conflicting entry",
        seal(&compress(&plain), &to),
        "tampering",
    ));

    let (plain, _) = good.bundle(
        3,
        after_two,
        &[good.record(3, json!({"lat": 95.0, "lon": 10.0}))],
    );
    cases.push(("schema violation", seal(&compress(&plain), &to), "`lat`"));
    let (plain, _) = good.bundle(
        3,
        after_two,
        &[good.record(3, json!({"narrative": "x".repeat(10_001)}))],
    );
    cases.push((
        "oversize field",
        seal(&compress(&plain), &to),
        "`narrative`",
    ));
    let (plain, _) = good.bundle(
        3,
        after_two,
        &[good.record(3, json!({"narrative": "x".repeat(300_000)}))],
    );
    cases.push(("oversize line", seal(&compress(&plain), &to), "too large"));

    let mut bomb = zstd::Encoder::new(Vec::new(), 1).expect("encoder");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        bomb.write_all(&zeros).expect("compress");
    }
    cases.push((
        "decompression bomb",
        seal(&bomb.finish().expect("finish"), &to),
        "too large",
    ));

    let mut manifest: Value = serde_json::from_str(&good.manifest(3, 1)).expect("json");
    manifest["attachments"] = json!([{"name": "../../../etc/passwd"}]);
    let mut body = vec![manifest.to_string()];
    body.extend(entries.clone());
    cases.push((
        "path-traversal attachment",
        seal(&compress(&good.signed(&good.key, &body)), &to),
        "unknown field",
    ));

    let mut bad_utf8 = good.manifest(3, 1).into_bytes();
    bad_utf8.push(b'\n');
    let mut entry = entries[0].clone().into_bytes();
    let at = entry.len() - 10;
    entry[at] = 0xff;
    bad_utf8.extend_from_slice(&entry);
    bad_utf8.push(b'\n');
    cases.push(("invalid UTF-8", seal(&compress(&bad_utf8), &to), "UTF-8"));
    cases.push((
        "not a bundle",
        b"just some text\n".to_vec(),
        "not a truce bundle",
    ));

    let before = mission.state();
    for (name, bytes, expected) in cases {
        let path = dir.join(format!("{}.age", name.replace(' ', "-")));
        std::fs::write(&path, &bytes).expect("write case");
        let (run, report) = mission.import(std::slice::from_ref(&path));
        assert_eq!(
            run.code,
            Some(1),
            "{name}: a refused bundle makes import exit 1"
        );
        assert!(
            run.stderr.contains("\nerror: ") || run.stderr.starts_with("error: "),
            "{name}: {}",
            run.stderr
        );
        assert_eq!(report.len(), 1, "{name}: one report line");
        let reason = report[0]["refused"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: must be refused: {}", run.stdout));
        assert!(
            reason.to_lowercase().contains(&expected.to_lowercase()),
            "{name}: the reason must mention {expected:?}, got: {reason}"
        );
        assert_eq!(
            mission.state(),
            before,
            "{name}: the coordinator's records changed"
        );
    }

    // Replayed and gapped bundles are not errors: nothing new, or a reported gap.
    let (run, report) = mission.import(std::slice::from_ref(&first));
    run.ok();
    assert_eq!(report[0]["known_entries"], 2);
    assert_eq!(report[0]["new_entries"], 0);
    let (plain, _) = good.bundle(5, [7u8; 32], &[good.record(5, json!({}))]);
    let gap = dir.join("gap.age");
    std::fs::write(&gap, seal(&compress(&plain), &to)).expect("write");
    let (run, report) = mission.import(std::slice::from_ref(&gap));
    run.ok();
    assert_eq!(report[0]["gaps"], json!([[3, 4]]));
}

/// The `prev_hash` of the entry on line `line` (0 is the manifest) of a plaintext bundle.
fn hex_prev(plain: &[u8], line: usize) -> [u8; 32] {
    let text = std::str::from_utf8(plain).expect("UTF-8");
    let line: Value =
        serde_json::from_str(text.lines().nth(line).expect("entry line")).expect("json");
    let mut out = [0u8; 32];
    hex::decode_to_slice(line["prev_hash"].as_str().expect("prev"), &mut out).expect("hex");
    out
}
