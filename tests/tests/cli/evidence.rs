//! Evidence attachments through the real binary: a photo attached to an observation is named
//! in the record by its SHA-256, kept encrypted (its bytes are found nowhere in the clear),
//! comes back byte for byte, is checked by `truce check`, and goes with the emergency wipe.
//! Files Truce does not accept are refused by their content, and nothing is half-saved.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use truce_tests::{contains_bytes, files_under, unique_marker};

use crate::harness::{path_str, Journal};

/// A JPEG (by its magic bytes: SOI, a JFIF APP0 segment) whose comment holds `marker`.
fn jpeg_with(dir: &Path, name: &str, marker: &str) -> PathBuf {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    bytes.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let comment = marker.as_bytes();
    bytes.extend_from_slice(&[0xFF, 0xFE]);
    bytes.extend_from_slice(
        &u16::try_from(comment.len() + 2)
            .expect("short")
            .to_be_bytes(),
    );
    bytes.extend_from_slice(comment);
    // Enough bytes to span several of age's 64 KiB chunks.
    bytes.extend(std::iter::repeat_n(0x5Au8, 200_000));
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the photo");
    path
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read")))
}

const QUICK: [&str; 6] = [
    "--kind",
    "violation",
    "--category",
    "shelling",
    "--method",
    "camera",
];

#[test]
fn an_attached_photo_is_named_by_hash_kept_encrypted_and_comes_back_whole() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from("East", &serde_json::json!({}));
    let journal = Journal::with_profile("Ana", &profile);
    let marker = unique_marker("crater photo");
    let outside = journal.scratch("camera");
    let photo = jpeg_with(&outside, "IMG_0412.JPG", &marker);
    let mut args = QUICK.to_vec();
    args.extend(["--attach", path_str(&photo)]);
    let mut record = vec!["record"];
    record.extend(args);
    let temp = journal.scratch("tmp");
    let id = journal
        .run_env(&record, "", &[("TMPDIR", path_str(&temp))])
        .ok()
        .stdout
        .trim()
        .to_owned();

    let shown = journal.show(&id);
    let attachments = shown["current"]["attachments"].as_array().expect("named");
    assert_eq!(attachments.len(), 1);
    let a = &attachments[0];
    assert_eq!(a["sha256"].as_str(), Some(sha256_hex(&photo).as_str()));
    assert_eq!(a["media_type"], "image/jpeg");
    assert_eq!(a["name"], "IMG_0412.JPG");
    assert_eq!(
        a["size"].as_u64(),
        Some(std::fs::metadata(&photo).expect("size").len())
    );
    let text = journal.run(&["show", &id], "").ok().stdout;
    assert!(
        text.contains("IMG_0412.JPG") && text.contains("image/jpeg"),
        "{text}"
    );

    // Nowhere in the clear: not in the data folder, the temp folder, nor a bundle.
    let usb = journal.scratch("usb");
    journal.run(&["export", "--out", path_str(&usb)], "").ok();
    let everywhere = files_under(&journal.dir)
        .into_iter()
        .chain(files_under(&temp))
        .chain(files_under(&usb));
    for file in everywhere {
        let bytes = std::fs::read(&file).expect("read");
        assert!(
            !contains_bytes(&bytes, marker.as_bytes()),
            "{} holds the photo's bytes in the clear",
            file.display()
        );
    }
    assert_eq!(journal.run(&["check"], "").ok().stdout.trim(), "ok");

    // A copy on request, byte for byte, with a warning that it is not encrypted.
    let copy = outside.join("copy.jpg");
    let sha = a["sha256"].as_str().expect("hash").to_owned();
    journal
        .run(&["save-copy", &sha, "--out", path_str(&copy)], "")
        .ok()
        .stderr_has("NOT encrypted");
    assert_eq!(
        std::fs::read(&copy).expect("copy"),
        std::fs::read(&photo).expect("photo")
    );
    journal
        .run(&["save-copy", &sha, "--out", path_str(&copy)], "")
        .fails(1)
        .stderr_has("exists already");

    // A second file as an amendment: revision 2 names both; the same file twice is one.
    let second = jpeg_with(&outside, "IMG_0413.JPG", &unique_marker("second"));
    let revision = journal
        .run(&["attach", &id, path_str(&second), path_str(&second)], "")
        .ok()
        .stdout;
    assert_eq!(revision.trim(), "2");
    let shown = journal.show(&id);
    assert_eq!(
        shown["current"]["attachments"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        shown["history"][0]["attachments"].as_array().map(Vec::len),
        Some(1)
    );

    // Altered at rest: `check` names the attachment.
    let stored = files_under(&journal.dir.join("attachments"));
    assert_eq!(
        stored.len(),
        2,
        "one encrypted file per original: {stored:?}"
    );
    for file in &stored {
        truce_tests::flip_byte(file, 400);
    }
    journal
        .run(&["check"], "")
        .fails(1)
        .stderr_has(&format!("attachment {sha}"));

    // The emergency wipe takes the attachments with it.
    journal.run(&["wipe", "--yes"], "").ok();
    assert!(
        !journal.dir.join("attachments").exists(),
        "the attachment files are removed"
    );
}

#[test]
fn files_truce_does_not_accept_are_refused_by_content_and_nothing_is_saved() {
    let journal = Journal::created("Ana");
    let outside = journal.scratch("downloads");
    let program = outside.join("photo.jpg");
    std::fs::write(&program, b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff").expect("write");
    let photo = jpeg_with(&outside, "ok.jpg", "fine");
    let mut record = vec!["record"];
    record.extend(QUICK);
    record.extend(["--attach", path_str(&photo), "--attach", path_str(&program)]);
    journal
        .run(&record, "")
        .fails(1)
        .stderr_has("judging by its content");
    assert!(journal.list().is_empty(), "no record was saved");
    assert!(
        files_under(&journal.dir.join("attachments")).is_empty(),
        "no attachment file is left behind"
    );

    // A record cannot name a file by typing its hash.
    let typed = format!(
        r#"{{"kind":"violation","category":"shelling","method":"seen","attachments":[{{"sha256":"{}","size":10,"media_type":"image/jpeg","name":"x.jpg"}}]}}"#,
        "ab".repeat(32)
    );
    journal
        .run(&["record"], &typed)
        .fails(1)
        .stderr_has("does not hold");
    let missing = outside.join("gone.jpg");
    record.truncate(7);
    record.extend(["--attach", path_str(&missing)]);
    journal.run(&record, "").fails(1).stderr_has("gone.jpg");
    assert!(journal.list().is_empty());
}

/// A photo goes from the device to the coordinator: the bundle that carries it is version 2
/// (a tar archive inside age), the coordinator's import checks it against the signed record
/// and keeps it encrypted, and gives back the same bytes.
#[test]
fn an_attachment_travels_in_a_version_2_bundle_and_arrives_whole() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from("East", &serde_json::json!({}));
    let device = Journal::with_profile("Ana", &profile);
    let camera = device.scratch("camera");
    let marker = unique_marker("drone photo");
    let photo = jpeg_with(&camera, "DRONE.JPG", &marker);
    let mut record = vec!["record"];
    record.extend(QUICK);
    record.extend(["--attach", path_str(&photo)]);
    let id = device.run(&record, "").ok().stdout.trim().to_owned();
    let usb = device.scratch("usb");
    let bundle = device
        .run(&["export", "--out", path_str(&usb)], "")
        .ok()
        .stdout
        .trim()
        .to_owned();
    let bytes = std::fs::read(&bundle).expect("bundle");
    assert!(
        !contains_bytes(&bytes, marker.as_bytes()),
        "the bundle is encrypted"
    );

    // Stock tools open it, and the auditor's verifier checks it (outside CI, skipped
    // without them).
    if stock_tools() {
        audit_with_stock_tools(&coordinator, &device, &bundle, &photo);
    }

    let report = coordinator
        .run(&["import", &bundle, "--json"], "")
        .ok()
        .stdout;
    assert!(report.contains("\"new_entries\":1"), "{report}");
    let shown = coordinator.show(&id);
    let sha = shown["current"]["attachments"][0]["sha256"]
        .as_str()
        .expect("the record names the photo")
        .to_owned();
    assert_eq!(sha, sha256_hex(&photo));
    let copy = coordinator.scratch("evidence").join("copy.jpg");
    coordinator
        .run(&["save-copy", &sha, "--out", path_str(&copy)], "")
        .ok();
    assert_eq!(
        std::fs::read(&copy).expect("copy"),
        std::fs::read(&photo).expect("photo"),
        "the coordinator holds the original, byte for byte"
    );
    assert_eq!(coordinator.run(&["check"], "").ok().stdout.trim(), "ok");
    for file in files_under(&coordinator.dir) {
        let held = std::fs::read(&file).expect("read");
        assert!(
            !contains_bytes(&held, marker.as_bytes()),
            "{} holds the photo in the clear",
            file.display()
        );
    }
    // Imported again: nothing new, no second copy (of the photo, or of the signed text).
    let stored = files_under(&coordinator.dir.join("attachments"));
    assert_eq!(stored.len(), 2, "the photo and the bundle's signed text");
    coordinator.run(&["import", &bundle], "").ok();
    assert_eq!(files_under(&coordinator.dir.join("attachments")), stored);
}

/// Whether `age`, `tar`, `zstd`, `python3` and `openssl` are here; CI must have them.
fn stock_tools() -> bool {
    let missing: Vec<&str> = ["age", "tar", "zstd", "python3", "openssl"]
        .into_iter()
        .filter(|tool| {
            !["--version", "version"].iter().any(|flag| {
                std::process::Command::new(tool)
                    .arg(flag)
                    .output()
                    .is_ok_and(|o| o.status.success())
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
    eprintln!("note: {missing:?} missing; skipping the stock-tool checks");
    false
}

/// Opens the version-2 `bundle` with stock age and tar as an auditor would: the members are
/// the compressed entries, the photo under its hash, and the signature; docs/verify-bundle.py
/// verifies it, and refuses it once the photo is altered.
fn audit_with_stock_tools(coordinator: &Journal, device: &Journal, bundle: &str, photo: &Path) {
    let key = coordinator.scratch("keys").join("coordinator.txt");
    coordinator
        .run(&["keys", "--export-secret", path_str(&key)], "")
        .ok();
    let listed = std::process::Command::new("sh")
        .arg("-c")
        .arg("age -d -i \"$1\" \"$2\" | tar -tf -")
        .args(["sh", path_str(&key), bundle])
        .output()
        .expect("age and tar");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        vec![
            "entries.jsonl.zst.00000".to_owned(),
            format!("attachments/{}", sha256_hex(photo)),
            "signature.json".to_owned()
        ],
        "{listed}"
    );
    // The auditor's check with stock tools and docs/verify-bundle.py, which refuses the
    // bundle once the photo is altered.
    let fingerprint = device
        .run(&["keys"], "")
        .ok()
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint:").map(|f| f.trim().to_owned()))
        .expect("fingerprint");
    let audit = coordinator.scratch("audit");
    let verifier = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root")
        .join("docs/verify-bundle.py");
    let run_verifier = || {
        std::process::Command::new("python3")
            .arg(&verifier)
            .arg(audit.join("out"))
            .args(["--fingerprint", &fingerprint])
            .output()
            .expect("python3")
    };
    let extracted = std::process::Command::new("sh")
        .current_dir(&audit)
        .arg("-c")
        .arg("mkdir out && age -d -i \"$1\" \"$2\" | tar -x -C out && cat out/entries.jsonl.zst.* | zstd -d > out/entries.jsonl")
        .args(["sh", path_str(&key), bundle])
        .status()
        .expect("sh");
    assert!(extracted.success());
    let verified = run_verifier();
    assert!(
        verified.status.success()
            && String::from_utf8_lossy(&verified.stdout).contains("1 attachment(s)"),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    let extracted_photo = audit.join("out/attachments").join(sha256_hex(photo));
    let mut altered = std::fs::read(&extracted_photo).expect("extracted photo");
    altered[40] ^= 1;
    std::fs::write(&extracted_photo, altered).expect("alter");
    let refused = run_verifier();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("altered"));
}

/// The README's commands of an evidence package, run as written in `dir` with `sh -e`.
fn run_readme_commands(dir: &Path) -> std::process::Output {
    let readme = std::fs::read_to_string(dir.join("README.txt")).expect("README");
    let (_, how) = readme
        .split_once("How to check it")
        .expect("a section says how to check the package");
    let script: String = how
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(script.contains("openssl pkeyutl -verify"), "{readme}");
    std::process::Command::new("sh")
        .current_dir(dir)
        .args(["-e", "-c", &script])
        .output()
        .expect("sh")
}

/// The end-to-end path a court sees: a device attaches two photos (one when it records, one
/// in an amendment carried by a later bundle), the coordinator imports both bundles, and the
/// evidence package's README commands check every original and both device signatures with
/// sha256sum and openssl alone; an altered original or an altered signed line fails them.
#[test]
fn an_evidence_package_verifies_with_sha256sum_and_openssl() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from("East", &serde_json::json!({}));
    let device = Journal::with_profile("Ana", &profile);
    let camera = device.scratch("camera");
    let first = jpeg_with(&camera, "CRATER.JPG", &unique_marker("crater"));
    let second = jpeg_with(&camera, "SCHOOL.JPG", &unique_marker("school"));
    let mut record = vec!["record"];
    record.extend(QUICK);
    record.extend(["--attach", path_str(&first)]);
    let id = device.run(&record, "").ok().stdout.trim().to_owned();
    let usb = device.scratch("usb");
    let bundle_one = device
        .run(&["export", "--out", path_str(&usb)], "")
        .ok()
        .stdout
        .trim()
        .to_owned();
    device.run(&["attach", &id, path_str(&second)], "").ok();
    let bundle_two = device
        .run(&["export", "--out", path_str(&usb)], "")
        .ok()
        .stdout
        .trim()
        .to_owned();
    coordinator
        .run(&["import", &bundle_one, &bundle_two], "")
        .ok();
    coordinator
        .run(
            &[
                "verify",
                &id,
                "--status",
                "corroborated",
                "--note",
                "two teams",
            ],
            "",
        )
        .ok();

    let out = coordinator.scratch("court").join("package");
    let printed = coordinator
        .run(&["evidence", &id, "--out", path_str(&out)], "")
        .ok();
    assert_eq!(printed.stdout.trim(), path_str(&out));
    assert!(
        printed.stderr.contains("NOT encrypted"),
        "{}",
        printed.stderr
    );
    for photo in [&first, &second] {
        let sha = sha256_hex(photo);
        let copy = out.join("originals").join(format!("{sha}.jpg"));
        assert_eq!(
            std::fs::read(&copy).expect("original"),
            std::fs::read(photo).expect("photo"),
            "the package holds the original byte for byte"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(manifest["signed_bundles"].as_array().map(Vec::len), Some(2));
    let trail = std::fs::read_to_string(out.join("trail.txt")).expect("trail");
    assert!(
        trail.contains("corroborated") && trail.contains("two teams"),
        "{trail}"
    );
    // A second package into the same folder is refused, and changes nothing.
    let again = coordinator
        .run(&["evidence", &id, "--out", path_str(&out)], "")
        .fails(1);
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);
    // A device cannot write one: its records are not signed texts it received.
    let elsewhere = device.scratch("x").join("p");
    let refused = device
        .run(&["evidence", &id, "--out", path_str(&elsewhere)], "")
        .fails(1);
    assert!(refused.stderr.contains("coordinator"), "{}", refused.stderr);
    assert!(!elsewhere.exists());

    if !stock_tools() {
        return;
    }
    let checked = run_readme_commands(&out);
    let said = String::from_utf8_lossy(&checked.stdout).into_owned();
    assert!(
        checked.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert_eq!(
        said.matches("Signature Verified Successfully").count(),
        2,
        "{said}"
    );
    assert_eq!(
        said.matches("the manifest names the key").count(),
        2,
        "{said}"
    );

    // Altered copies fail the same commands.
    let tampered = coordinator.scratch("tampered");
    for (what, file) in [
        (
            "an original",
            format!("originals/{}.jpg", sha256_hex(&second)),
        ),
        ("a signed line", "signed/LINES".to_owned()),
    ] {
        let copy = tampered.join(what.replace(' ', "-"));
        let status = std::process::Command::new("cp")
            .args(["-r", path_str(&out), path_str(&copy)])
            .status()
            .expect("cp");
        assert!(status.success());
        let target = if file == "signed/LINES" {
            let signed = copy.join("signed");
            let bundle = std::fs::read_dir(&signed)
                .expect("signed")
                .next()
                .expect("a bundle")
                .expect("entry")
                .path();
            bundle.join("lines.jsonl")
        } else {
            copy.join(file)
        };
        let mut bytes = std::fs::read(&target).expect("read");
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(&target, bytes).expect("write");
        let checked = run_readme_commands(&copy);
        assert!(!checked.status.success(), "{what} altered still passes");
    }
}

/// Text first: a courier with a small stick takes the record now; the coordinator shows the
/// photo as pending; the next export (without the flag) carries it with its range again, the
/// coordinator keeps it, and nothing is owed after that.
#[test]
fn a_text_first_export_sends_the_record_now_and_the_photo_later() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from("East", &serde_json::json!({}));
    let device = Journal::with_profile("Ana", &profile);
    let camera = device.scratch("camera");
    let marker = unique_marker("checkpoint photo");
    let photo = jpeg_with(&camera, "CP7.JPG", &marker);
    let mut record = vec!["record"];
    record.extend(QUICK);
    record.extend(["--attach", path_str(&photo)]);
    let id = device.run(&record, "").ok().stdout.trim().to_owned();
    let small = device.scratch("small-stick");
    let run = device
        .run(&["export", "--text-first", "--out", path_str(&small)], "")
        .ok();
    assert!(
        run.stderr.contains("text first: 1 attached file(s) left"),
        "{}",
        run.stderr
    );
    let text_only = run.stdout.trim().to_owned();
    let size = std::fs::metadata(&text_only).expect("bundle").len();
    assert!(
        size < 20_000,
        "the photo stayed on the device: {size} bytes"
    );

    coordinator.run(&["import", &text_only], "").ok();
    let shown = coordinator.show(&id);
    let sha = sha256_hex(&photo);
    assert_eq!(shown["pending_attachments"], serde_json::json!([sha]));
    let text = coordinator.run(&["show", &id], "").ok().stdout;
    assert!(text.contains("attachment pending"), "{text}");
    // Nothing new for a text-first export again: the record left already.
    let again = device
        .run(&["export", "--text-first", "--out", path_str(&small)], "")
        .ok();
    assert!(again.stdout.trim().is_empty(), "{}", again.stdout);

    // The next export carries the photo, with its entries again.
    let usb = device.scratch("usb");
    let run = device.run(&["export", "--out", path_str(&usb)], "").ok();
    assert!(
        run.stderr.contains("now with their files"),
        "{}",
        run.stderr
    );
    let with_files = run.stdout.trim().to_owned();
    let report = coordinator
        .run(&["import", &with_files, "--json"], "")
        .ok()
        .stdout;
    assert!(report.contains("\"known_entries\":1"), "{report}");
    assert_eq!(
        coordinator.show(&id)["pending_attachments"],
        serde_json::json!([])
    );
    let copy = coordinator.scratch("copies").join("cp7.jpg");
    coordinator
        .run(&["save-copy", &sha, "--out", path_str(&copy)], "")
        .ok();
    assert_eq!(
        std::fs::read(&copy).expect("copy"),
        std::fs::read(&photo).expect("photo")
    );
    // Owed nothing now.
    let done = device.run(&["export", "--out", path_str(&usb)], "").ok();
    assert!(done.stdout.trim().is_empty(), "{}", done.stdout);
}

/// The mission profile's limits hold on the device: a type it does not allow and a file over
/// its size are refused by name, and nothing is saved.
#[test]
fn the_mission_profile_limits_what_a_device_attaches() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from(
        "East",
        &serde_json::json!({"limits": {"attachment_media_types": ["image/jpeg"],
                                       "attachment_max_bytes": 100_000}}),
    );
    let device = Journal::with_profile("Ana", &profile);
    let camera = device.scratch("camera");
    let photo = jpeg_with(&camera, "BIG.JPG", "large");
    let voice = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/media/voice.wav");
    for (file, says) in [
        (
            photo.as_path(),
            "the most the mission profile allows one attachment",
        ),
        (
            voice.as_path(),
            "audio/wav, which the mission profile does not allow",
        ),
    ] {
        let mut record = vec!["record"];
        record.extend(QUICK);
        record.extend(["--attach", path_str(file)]);
        let refused = device.run(&record, "").fails(1);
        assert!(refused.stderr.contains(says), "{}", refused.stderr);
    }
    assert!(
        device.run(&["list"], "").ok().stdout.lines().count() <= 1,
        "nothing saved"
    );
}
