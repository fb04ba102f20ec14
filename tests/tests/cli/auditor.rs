//! An auditor checks a bundle without trusting it or Truce: `docs/verify-bundle.py` and the
//! stock-tool recipes of `docs/bundle-format.md` accept a real bundle and refuse forgeries (a
//! record altered, a bundle re-signed with a fresh key, a fingerprint that is not the device's).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::harness::{path_str, Journal, Mission};

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join("docs")
}

/// Whether the stock tools the auditor uses are here; CI must have them.
fn have_tools() -> bool {
    let missing: Vec<&str> = ["python3", "openssl", "jq", "xxd", "bash"]
        .into_iter()
        .filter(|tool| {
            Command::new(tool)
                .arg("--version")
                .output()
                .map_or(true, |o| {
                    !o.status.success() && o.stdout.is_empty() && o.stderr.is_empty()
                })
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must install {missing:?} (see .ci/run)"
    );
    eprintln!("note: {missing:?} missing; skipping the auditor's checks");
    false
}

/// The device's fingerprint as `truce keys` prints it.
fn fingerprint_of(device: &Journal) -> String {
    let keys = device.run(&["keys"], "").ok().stdout;
    keys.lines()
        .find_map(|l| l.strip_prefix("fingerprint:"))
        .map(|f| f.trim().to_owned())
        .unwrap_or_else(|| panic!("`truce keys` prints the fingerprint: {keys}"))
}

/// The coordinator's age identity, written where the auditor works (`coordinator.key`).
fn coordinator_key(mission: &Mission, dir: &Path) {
    let key = dir.join("coordinator.key");
    mission
        .coordinator
        .run(&["keys", "--export-secret", path_str(&key)], "")
        .no_panic();
    assert!(key.exists(), "keys --export-secret writes the identity");
}

/// `python3 docs/verify-bundle.py FILE --fingerprint FP`: (exit code, stdout, stderr).
fn verifier(jsonl: &Path, fingerprint: &str) -> (i32, String, String) {
    let out = Command::new("python3")
        .arg(docs().join("verify-bundle.py"))
        .arg(jsonl)
        .args(["--fingerprint", fingerprint])
        .output()
        .expect("run python3");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The shell block of `docs/bundle-format.md` marked `<!-- tested: NAME -->`, run by bash in
/// `dir` (which holds `bundle.age` and `coordinator.key`): its output and whether it succeeded.
fn recipe(name: &str, dir: &Path) -> (bool, String) {
    let doc = std::fs::read_to_string(docs().join("bundle-format.md")).expect("bundle-format.md");
    let marker = format!("<!-- tested: {name} -->\n```sh\n");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/bundle-format.md has no `{name}` recipe"))
        + marker.len();
    let script = &doc[start..start + doc[start..].find("```").expect("block end")];
    let out = Command::new("bash")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .expect("run bash");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_documented_checks_accept_a_real_bundle_and_refuse_forgeries() {
    if !have_tools() {
        return;
    }
    let mission = Mission::new();
    let device = mission.device("Ana");
    // Numbers a re-serialiser would rewrite (150.0, 1e2), and text outside ASCII.
    for n in 1..=3 {
        device.record(
            &json!({"kind": "violation", "category": "shelling", "method": "heard",
                    "event_count": n, "lat": 48.0, "lon": 37.5, "accuracy_m": 150.0,
                    "narrative": format!("Обстріл {n}: « 150.0 » — ۱۲۳")})
            .to_string(),
        );
    }
    let usb = device.scratch("usb");
    let bundle = PathBuf::from(
        device
            .run(&["export", "--out", path_str(&usb)], "")
            .ok()
            .single_line(),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(&bundle, dir.path().join("bundle.age")).expect("copy");
    coordinator_key(&mission, dir.path());
    // Opened with stock tools, as the document says.
    let (ok, out) = recipe("open", dir.path());
    assert!(ok, "{out}");
    let folder = dir.path().join("out");
    let jsonl = folder.join("entries.jsonl");
    let text = std::fs::read_to_string(&jsonl).expect("entries.jsonl");
    assert!(
        text.contains("150.0"),
        "the bundle keeps the number as written"
    );
    let fingerprint = fingerprint_of(&device);

    // The genuine bundle verifies, with the fingerprint the device shows.
    let (code, out, err) = verifier(&folder, &fingerprint);
    assert_eq!(code, 0, "the real bundle verifies: {out}{err}");
    assert!(out.starts_with("ok: 3 entries"), "{out}");
    let (ok, out) = recipe("fingerprint", dir.path());
    assert!(ok, "{out}");
    assert_eq!(
        out.trim(),
        fingerprint,
        "the recipe computes the same fingerprint"
    );
    let (ok, out) = recipe("entries", dir.path());
    assert!(ok, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.ends_with(" ok")).count(),
        3,
        "{out}"
    );
    assert!(!out.contains("ALTERED"), "{out}");
    let (ok, out) = recipe("signature", dir.path());
    assert!(
        ok && out.contains("Signature Verified Successfully"),
        "{out}"
    );

    // Another device's fingerprint: refused, naming both.
    let other = mission.device("Eve");
    let (code, _, err) = verifier(&folder, &fingerprint_of(&other));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not the key registered"), "{err}");

    // One record altered: the verifier and the recipe name its seq, and the signature fails.
    let altered = text.replacen("Обстріл 2", "Обстріл 9", 1);
    assert_ne!(altered, text);
    std::fs::write(&jsonl, &altered).expect("write");
    let (code, _, err) = verifier(&folder, &fingerprint);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("entry seq 2"), "{err}");
    let (_, out) = recipe("entries", dir.path());
    assert!(out.contains("seq 2 ALTERED"), "{out}");
    assert!(
        out.contains("seq 1 ok") && out.contains("seq 3 ok"),
        "{out}"
    );
    let (ok, out) = recipe("signature", dir.path());
    assert!(!ok, "an altered record breaks the signature: {out}");

    // Re-signed: the same device id and records, hashes recomputed, signed with a fresh key.
    // Its own signature verifies (the recipe says so); the registered fingerprint does not.
    let mut manifest: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("manifest")).expect("manifest");
    let device_id = manifest["device_id"]
        .as_str()
        .expect("device id")
        .to_owned();
    let forger = truce_tests::corpus::Forger::claiming(77, &device_id);
    let records: Vec<String> = text
        .lines()
        .skip(1)
        .take(3)
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).expect("entry");
            let mut record = entry["record"].clone();
            record["narrative"] = json!("rewritten by someone else");
            record.to_string()
        })
        .collect();
    manifest["device_key"] = json!(hex::encode(forger.key.verifying_key().as_bytes()));
    let (entries, _) = forger.entries(1, [0; 32], &records);
    let mut lines = vec![manifest.to_string()];
    lines.extend(entries);
    let (forged, signature) = forger.signed_v2(&lines);
    std::fs::write(&jsonl, &forged).expect("write");
    std::fs::write(folder.join("signature.json"), signature).expect("write");
    let (ok, out) = recipe("signature", dir.path());
    assert!(ok, "a re-signed bundle verifies with its own key: {out}");
    let (code, _, err) = verifier(&folder, &fingerprint);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("re-signed"), "{err}");

    // Truncated: the last entry is gone.
    let cut: Vec<&str> = text.lines().take(3).collect();
    std::fs::write(&jsonl, format!("{}\n", cut.join("\n"))).expect("write");
    let (code, _, err) = verifier(&folder, &fingerprint);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused:"), "{err}");
}

/// The corpus's bundles that decrypt and decompress, as (file name, plaintext).
fn corpus_plaintexts() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/bundles");
    let key = std::fs::read_to_string(dir.join("coordinator.key")).expect("corpus key");
    let identity: age::x25519::Identity = key
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .expect("identity line")
        .parse()
        .expect("identity");
    let expected: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("JSON");
    let mut out = Vec::new();
    for case in expected {
        let name = case["file"].as_str().expect("file").to_owned();
        let Ok(file) = std::fs::File::open(dir.join(&name)) else {
            continue;
        };
        let Ok(decryptor) = age::Decryptor::new(file) else {
            continue;
        };
        let Ok(reader) = decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)) else {
            continue;
        };
        let mut compressed = Vec::new();
        if reader.take(64 << 20).read_to_end(&mut compressed).is_err() {
            continue;
        }
        // A bomb stops at 64 MiB of plaintext, far more than any case needs.
        let Ok(decoder) = zstd::Decoder::new(&compressed[..]) else {
            continue;
        };
        let mut plain = Vec::new();
        if decoder.take(64 << 20).read_to_end(&mut plain).is_ok() {
            out.push((name, plain));
        }
    }
    out
}

/// Over the hostile corpus, with each device's fingerprint registered from its first imported
/// bundle (as a coordinator registers it): the bundles Truce imports verify, and those it
/// refuses for their signature, their key or their chain do not.
#[test]
fn the_verifier_agrees_with_the_importer_on_the_corpus() {
    if !have_tools() {
        return;
    }
    let cases = corpus_plaintexts();
    assert!(
        cases.len() >= 15,
        "most corpus cases decrypt: {}",
        cases.len()
    );
    let manifest_of = |plain: &[u8]| -> Option<(String, String)> {
        let first = plain.split(|&b| b == b'\n').next()?;
        let manifest: serde_json::Value = serde_json::from_slice(first).ok()?;
        Some((
            manifest["device_id"].as_str()?.to_owned(),
            manifest["device_key"].as_str()?.to_owned(),
        ))
    };
    let imported = [
        "00-first.age",
        "18-replayed.age",
        "19-gap.age",
        "22-another-device-reuses-an-id.age",
    ];
    let mut registered = std::collections::BTreeMap::new();
    for (name, plain) in &cases {
        if imported.contains(&name.as_str()) {
            let (device, key) = manifest_of(plain).expect("an imported case has a manifest");
            let key = truce_sync::bundle::parse_device_key(&key).expect("device key");
            registered
                .entry(device)
                .or_insert_with(|| truce_sync::fingerprint(&key));
        }
    }
    assert_eq!(registered.len(), 2, "two devices: {registered:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut checked = 0;
    for (name, plain) in &cases {
        let Some(fingerprint) = manifest_of(plain).and_then(|(d, _)| registered.get(&d).cloned())
        else {
            continue;
        };
        let jsonl = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&jsonl, plain).expect("write");
        let (code, out, err) = verifier(&jsonl, &fingerprint);
        assert_ne!(code, 2, "{name}: the verifier could not run: {err}");
        if imported.contains(&name.as_str()) {
            assert_eq!(code, 0, "{name} is imported, so it verifies: {out}{err}");
            checked += 1;
        }
        if [
            "06-no-signature.age",
            "07-wrong-signature.age",
            "08-another-key-claims-the-device.age",
            "09-out-of-order.age",
        ]
        .contains(&name.as_str())
        {
            assert_eq!(code, 1, "{name} is refused, so it does not verify: {out}");
            assert!(err.starts_with("refused: "), "{name}: {err}");
            checked += 1;
        }
    }
    assert_eq!(checked, 8, "every case named above was checked");
}
