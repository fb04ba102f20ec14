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
    // Imported again: nothing new, no second copy.
    coordinator.run(&["import", &bundle], "").ok();
    assert_eq!(files_under(&coordinator.dir.join("attachments")).len(), 1);
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
