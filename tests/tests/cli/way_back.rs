//! The way back from the coordinators to the devices: receipts written on the stick, applied
//! on the device, the three states of each record, what was lost sent again unasked, and
//! receipts that are not for the device or were tampered with.

use std::path::{Path, PathBuf};

use crate::harness::{json_lines, names_in, path_str, Journal, Mission, MINIMAL};

/// `export --out DIR` with `extra` flags; the bundle paths written.
fn export(device: &Journal, out: &Path, extra: &[&str]) -> Vec<PathBuf> {
    let mut args = vec!["export", "--out", path_str(out)];
    args.extend_from_slice(extra);
    let run = device.run(&args, "").ok();
    run.stdout.lines().map(PathBuf::from).collect()
}

/// Where each record of the device stands, by id: `list --json`'s `delivery`.
fn delivery(device: &Journal) -> std::collections::BTreeMap<String, String> {
    device
        .list()
        .into_iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["delivery"]
                    .as_str()
                    .expect("a monitor's list says delivery")
                    .to_owned(),
            )
        })
        .collect()
}

/// `receipts --out DIR` on the coordinator: the receipt files written.
fn write_receipts(mission: &Mission, out: &Path) -> Vec<PathBuf> {
    let run = mission
        .coordinator
        .run(&["receipts", "--out", path_str(out)], "")
        .ok();
    run.stdout
        .lines()
        .map(|l| PathBuf::from(l.split(": ").next().expect("a path")))
        .collect()
}

#[test]
fn receipts_confirm_what_arrived_and_bring_back_what_was_lost() {
    let mission = Mission::new();
    let ana = mission.device("Ana");
    let first = ana.record(MINIMAL);
    let second = ana.record(MINIMAL);
    let third = ana.record(MINIMAL);
    assert!(delivery(&ana).values().all(|s| s == "not_exported"));

    // Entry 1 goes on a stick that is lost; 2-3 arrive.
    let lost = ana.scratch("lost");
    export(&ana, &lost, &["--from", "1", "--to", "1"]);
    let stick = ana.scratch("stick");
    let bundles = export(&ana, &stick, &[]);
    assert_eq!(bundles.len(), 1);
    assert!(delivery(&ana)
        .values()
        .all(|s| s == "awaiting_confirmation"));
    let (run, report) = mission.import(&bundles);
    run.ok();
    assert_eq!(report[0]["gaps"], serde_json::json!([[1, 1]]));

    // The coordinator writes receipts onto the same stick; a second device's bundles never
    // came, so it gets none.
    let _bea = mission.device("Bea");
    let receipts = write_receipts(&mission, &stick);
    assert_eq!(receipts.len(), 1, "one device sent bundles");
    // The stick's file names say nothing of what is a receipt.
    for name in names_in(&stick) {
        assert!(
            name.ends_with(".age") && !name.contains("receipt"),
            "{name}"
        );
    }
    // A coordinator reading the stick again passes over its receipts.
    let (run, report) = mission.import(std::slice::from_ref(&stick));
    run.ok();
    assert!(report
        .iter()
        .any(|r| r["passed_over"].as_str() == Some("Truce receipt")));

    // The device takes the stick: its bundle is passed over, the receipt applied.
    let run = ana.run(&["import", "--json", path_str(&stick)], "").ok();
    let applied = json_lines(&run.stdout);
    assert_eq!(applied.len(), 1, "{}", run.stdout);
    assert_eq!(applied[0]["held_through"], 3);
    assert_eq!(applied[0]["missing"], serde_json::json!([[1, 1]]));
    assert_eq!(applied[0]["newly_confirmed"], 2);
    let states = delivery(&ana);
    assert_eq!(states[&first], "awaiting_confirmation");
    assert_eq!(states[&second], "received");
    assert_eq!(states[&third], "received");
    let fourth = ana.record(MINIMAL);
    assert_eq!(delivery(&ana)[&fourth], "not_exported");
    let status = ana.run(&["status"], "").ok().stdout;
    assert!(
        status.contains("2 confirmed by a coordinator, 1 awaiting confirmation, 1 not exported"),
        "{status}"
    );
    assert!(status.contains("resend:      1 "), "{status}");

    // The same receipt again changes nothing.
    let again = ana
        .run(&["import", "--json", path_str(&receipts[0])], "")
        .ok();
    assert_eq!(json_lines(&again.stdout)[0]["applied_already"], true);

    // The next export sends entry 4, and entry 1 again without being asked.
    let stick2 = ana.scratch("stick2");
    let bundles = export(&ana, &stick2, &[]);
    assert_eq!(bundles.len(), 2, "the new entry and the lost one");
    let (run, report) = mission.import(&bundles);
    run.ok();
    assert!(report.iter().all(|r| r["gaps"] == serde_json::json!([])));
    let receipts = write_receipts(&mission, &stick2);
    ana.run(&["import", path_str(&receipts[0])], "").ok();
    assert!(delivery(&ana).values().all(|s| s == "received"));
    let status = ana.run(&["status"], "").ok().stdout;
    assert!(!status.contains("resend:"), "{status}");
    // Nothing is owed now: an export writes nothing.
    assert!(export(&ana, &ana.scratch("stick3"), &[]).is_empty());
}

#[test]
fn a_receipt_for_another_device_or_altered_changes_nothing() {
    let mission = Mission::new();
    let ana = mission.device("Ana");
    let bea = mission.device("Bea");
    ana.record(MINIMAL);
    bea.record(MINIMAL);
    let stick = mission.coordinator.scratch("stick");
    let mut bundles = export(&ana, &stick, &[]);
    bundles.extend(export(&bea, &stick, &[]));
    mission.import(&bundles).0.ok();
    let out = mission.coordinator.scratch("receipts");
    let receipts = write_receipts(&mission, &out);
    assert_eq!(receipts.len(), 2);

    // Ana's folder holds both receipts: hers is applied, Bea's passed over without a word.
    let run = ana.run(&["import", "--json", path_str(&out)], "").ok();
    assert_eq!(json_lines(&run.stdout).len(), 1);
    // Named alone, a receipt for another device is refused with the reason.
    let before = bea.list();
    let bea_receipt = receipts
        .iter()
        .find(|r| ana.run(&["import", path_str(r)], "").no_panic().code == Some(1))
        .expect("one of them is not Ana's")
        .clone();
    ana.run(&["import", path_str(&bea_receipt)], "")
        .fails(1)
        .stderr_has("not addressed to this device");

    // Altered on the stick (one byte of its ciphertext): refused, nothing changes.
    let mut bytes = std::fs::read(&bea_receipt).expect("receipt");
    let at = bytes.len() - 40;
    bytes[at] ^= 1;
    let altered = bea.scratch("altered").join("r.age");
    std::fs::write(&altered, &bytes).expect("write");
    bea.run(&["import", path_str(&altered)], "")
        .fails(1)
        .stderr_has("damaged");
    assert_eq!(bea.list(), before, "nothing changed");
    // Cut short: the same.
    std::fs::write(&altered, &bytes[..bytes.len() / 2]).expect("write");
    bea.run(&["import", path_str(&altered)], "")
        .fails(1)
        .stderr_has("damaged");
    // Random bytes named .age.
    std::fs::write(&altered, b"not an age file at all").expect("write");
    bea.run(&["import", path_str(&altered)], "")
        .fails(1)
        .stderr_has("not an age-encrypted file");
    assert_eq!(bea.list(), before, "nothing changed");
    // The real one applies.
    let bea_receipt_ok = receipts.iter().find(|r| **r != bea_receipt).expect("Ana's");
    assert_ne!(bea_receipt_ok, &bea_receipt);
    bea.run(&["import", path_str(&bea_receipt)], "").ok();
    assert!(bea.list().iter().all(|r| r["delivery"] == "received"));
}

#[test]
fn confirmed_records_leave_the_device_under_the_purge_policy() {
    let mission = Mission::new();
    let hq = &mission.coordinator;
    // A profile with purge after receipt, 0 days: at the first unlock after the receipt.
    let profile = hq.scratch("purge").join("profile.json");
    hq.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&profile),
            "--purge-after-days",
            "0",
        ],
        "",
    )
    .ok();
    let ana = Journal::with_profile("Ana", &profile);
    let kept = ana.record(MINIMAL);
    let stick = ana.scratch("stick");
    mission.import(&export(&ana, &stick, &[])).0.ok();
    let later = ana.record(MINIMAL);
    write_receipts(&mission, &stick);
    let status = ana.run(&["status"], "").ok().stdout;
    assert!(
        status.contains("purge:       confirmed records leave this device 0 day(s)"),
        "{status}"
    );
    ana.run(&["import", path_str(&stick)], "").ok();
    // The next unlock purges the confirmed record, says so, and re-encrypts.
    let key_before = std::fs::read(ana.path("journal.key")).expect("key file");
    let run = ana.run(&["status"], "").ok();
    assert!(run.stderr.contains("Removed 1 record(s)"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("holds:       1 record(s) not yet confirmed, 1 purged"),
        "{}",
        run.stdout
    );
    assert_ne!(
        std::fs::read(ana.path("journal.key")).expect("key file"),
        key_before
    );
    let left: Vec<String> = ana
        .list()
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(left, vec![later.clone()]);
    assert!(!left.contains(&kept));
    ana.run(&["check"], "").ok();
    // The chain goes on: the next bundle follows the purged entry at the coordinator.
    let (run, report) = mission.import(&export(&ana, &ana.scratch("stick2"), &[]));
    run.ok();
    assert_eq!(report[0]["new_entries"], 1);
    assert_eq!(report[0]["gaps"], serde_json::json!([]));
    // A coordinator's journal never purges, and a device may only be stricter.
    hq.run(&["settings", "--purge-after-days", "3"], "")
        .fails(1)
        .stderr_has("never purges");
    let strict = ana
        .run(&["settings", "--purge-after-days", "5"], "")
        .ok()
        .stdout;
    assert!(
        strict.contains("0 day(s)"),
        "the mission's 0 stays: {strict}"
    );
}

#[test]
fn a_revoked_device_is_cut_off_at_a_seq_and_the_mission_learns_of_it() {
    let mission = Mission::new();
    let hq = &mission.coordinator;
    let ana = mission.device("Ana");
    let honest = ana.record(MINIMAL);
    let doubtful = ana.record(MINIMAL);
    let (run, report) = mission.import(&export(&ana, &ana.scratch("stick"), &[]));
    run.ok();
    let device = report[0]["device_id"].as_str().expect("device").to_owned();
    hq.run(&["devices", "accept", &device], "").ok();
    // The device is stolen after entry 1; what it sends later is someone else's.
    ana.record(MINIMAL);
    let later = export(&ana, &ana.scratch("later"), &[]);
    hq.run(
        &[
            "devices",
            "revoke",
            &device,
            "--reason",
            "stolen at checkpoint 7",
            "--after-seq",
            "1",
        ],
        "",
    )
    .ok();
    let devices = hq.run(&["devices", "--json"], "").ok().stdout;
    let listed = &json_lines(&devices)[0];
    assert_eq!(listed["revoked"]["after_seq"], 1);
    assert_eq!(listed["revoked"]["reason"], "stolen at checkpoint 7");
    // Held entries past the cut-off are flagged in the queue and the full export, and left
    // out of the public one.
    let rows = hq.list();
    let flag = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .map(|r| r["after_revocation"] == true)
            .expect("listed")
    };
    assert!(!flag(&honest));
    assert!(flag(&doubtful));
    let csv = hq.scratch("out").join("all.csv");
    hq.run(
        &["export-data", "--format", "csv", "--out", path_str(&csv)],
        "",
    )
    .ok();
    let text = std::fs::read_to_string(&csv).expect("csv");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().expect("headers").clone();
    let at = headers
        .iter()
        .position(|h| h == "after_revocation")
        .expect("the column");
    let flagged: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[at].to_owned())
        .collect();
    assert_eq!(
        flagged.iter().filter(|v| *v == "true").count(),
        1,
        "{flagged:?}"
    );
    // Its later bundle goes past the cut-off: quarantined with the reason.
    let (run, report) = mission.import(&later);
    assert_eq!(run.code, Some(1), "a refused bundle fails the import");
    let refused = report[0]["refused"].as_str().expect("refused");
    assert!(refused.contains("revoked after its entry 1"), "{refused}");
    // The revocation travels in the next profile: a regional office that installs it
    // quarantines the same bundle.
    let next = hq.scratch("next").join("profile.json");
    hq.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&next),
        ],
        "",
    )
    .ok();
    let profile: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&next).expect("profile")).expect("json");
    assert_eq!(profile["profile"]["revocations"][0]["after_seq"], 1);
    let office = Mission::on_coordinator_of(&mission);
    office
        .coordinator
        .run(&["profile", "import", path_str(&next)], "")
        .ok();
    let (run, report) = office.import(&later);
    assert_eq!(run.code, Some(1), "a refused bundle fails the import");
    assert!(report[0]["refused"]
        .as_str()
        .is_some_and(|r| r.contains("revoked")));
}

/// `truce keys --card FILE` on a coordinator: its card's path.
fn card(coordinator: &Journal, name: &str) -> PathBuf {
    let path = coordinator.scratch("cards").join(format!("{name}.json"));
    coordinator
        .run(&["keys", "--card", path_str(&path)], "")
        .ok();
    path
}

#[test]
fn devices_follow_a_hand_over_and_refuse_a_forged_one() {
    let mission = Mission::new();
    let hq = &mission.coordinator;
    let ana = mission.device("Ana");
    // Bea's device is in the field when the hand-over goes out, and misses it.
    let bea = mission.device("Bea");
    let successor = Journal::coordinator();
    let eve = Journal::coordinator();
    // Eve, with the mission's profile, signs her own "update" of it: refused.
    let forged = eve.scratch("forged").join("profile.json");
    eve.run(&["profile", "import", path_str(&mission.profile)], "")
        .ok();
    eve.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&forged),
        ],
        "",
    )
    .ok();
    ana.run(&["profile", "import", path_str(&forged)], "")
        .fails(1)
        .stderr_has("neither signed the installed profile nor was named its successor");
    // A hand-over Eve signs herself names Eve, but the chain does not reach her.
    let eve_handover = eve.scratch("forged").join("handover.json");
    let eve_card = card(&eve, "eve");
    eve.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&eve.scratch("x").join("p.json")),
        ],
        "",
    )
    .ok();
    eve.run(
        &[
            "profile",
            "handover",
            "--to",
            path_str(&eve_card),
            "--out",
            path_str(&eve_handover),
        ],
        "",
    )
    .fails(1)
    .stderr_has("own");

    // HQ hands over to the successor; the devices install it from HQ.
    let handover = hq.scratch("handover").join("profile.json");
    hq.run(
        &[
            "profile",
            "handover",
            "--to",
            path_str(&card(&successor, "successor")),
            "--out",
            path_str(&handover),
        ],
        "",
    )
    .ok();
    ana.run(&["profile", "import", path_str(&handover)], "")
        .ok();
    let shown = ana.run(&["profile", "show"], "").ok().stdout;
    assert!(shown.contains("hand-over:   to key"), "{shown}");
    // Bundles now go to the successor too.
    ana.record(MINIMAL);
    let bundles = export(&ana, &ana.scratch("stick"), &[]);
    successor
        .run(&["profile", "import", path_str(&handover)], "")
        .ok();
    let run = successor
        .run(&["import", "--json", path_str(&bundles[0])], "")
        .ok();
    assert_eq!(json_lines(&run.stdout)[0]["new_entries"], 1);
    // The successor issues the next profile: the devices take it, no reinstall.
    let next = successor.scratch("next").join("profile.json");
    successor
        .run(
            &[
                "profile",
                "create",
                "--mission",
                "Mission East",
                "--out",
                path_str(&next),
            ],
            "",
        )
        .ok();
    ana.run(&["profile", "import", path_str(&next)], "").ok();
    let shown = ana.run(&["profile", "show"], "").ok().stdout;
    assert!(shown.contains("number:      3"), "{shown}");
    // Bea, still on HQ's first profile, follows the hand-over the successor's profile carries.
    bea.run(&["profile", "import", path_str(&next)], "").ok();
    let shown = bea.run(&["profile", "show"], "").ok().stdout;
    assert!(shown.contains("number:      3"), "{shown}");
    // The successor's receipts are taken too.
    let out = successor.scratch("receipts");
    let written = successor
        .run(&["receipts", "--out", path_str(&out)], "")
        .ok()
        .stdout;
    assert_eq!(written.lines().count(), 1, "{written}");
    let run = ana.run(&["import", "--json", path_str(&out)], "").ok();
    assert_eq!(json_lines(&run.stdout)[0]["newly_confirmed"], 1);
    // The old coordinator can no longer update the devices: the chain moved on.
    let stale = hq.scratch("stale").join("profile.json");
    hq.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&stale),
        ],
        "",
    )
    .ok();
    ana.run(&["profile", "import", path_str(&stale)], "")
        .fails(1);
}

/// The `recipient:` and `earlier:` lines of `truce keys`.
fn recipients(coordinator: &Journal) -> (String, Vec<String>) {
    let keys = coordinator.run(&["keys"], "").ok().stdout;
    let field = |name: &str| -> Vec<String> {
        keys.lines()
            .filter_map(|l| l.strip_prefix(name))
            .map(|r| r.trim().to_owned())
            .collect()
    };
    let current = field("recipient:").pop().expect("a recipient line");
    (current, field("earlier:"))
}

/// Whether the identities in an age identity file (as stock `age -d -i FILE` reads it) open
/// `bundle`.
fn identity_file_opens(identities: &Path, bundle: &Path) -> bool {
    let Ok(file) = age::IdentityFile::from_file(path_str(identities).to_owned()) else {
        return false;
    };
    let Ok(identities) = file.into_identities() else {
        return false;
    };
    let Ok(decryptor) = age::Decryptor::new(std::fs::File::open(bundle).expect("bundle")) else {
        return false;
    };
    decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .is_ok()
}

#[test]
fn a_rotated_key_still_opens_old_bundles_and_a_successor_takes_every_identity() {
    let mission = Mission::new();
    let hq = &mission.coordinator;
    let ana = mission.device("Ana");
    ana.record(MINIMAL);
    let before = export(&ana, &ana.scratch("before"), &[]);
    let (first, earlier) = recipients(hq);
    assert!(earlier.is_empty(), "{earlier:?}");

    // HQ rotates its age key: the old one is kept and still opens what was sealed to it.
    let run = hq.run(&["keys", "--rotate"], "").ok();
    assert!(run.stderr.contains("profile create"), "{}", run.stderr);
    let (second, earlier) = recipients(hq);
    assert_ne!(first, second);
    assert_eq!(earlier, vec![first.clone()]);
    let (run, report) = mission.import(&before);
    run.ok();
    assert_eq!(report[0]["new_entries"], 1, "{report:?}");

    // The next profile names the new key; the devices seal to it from then on.
    let next = hq.scratch("next").join("profile.json");
    hq.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&next),
        ],
        "",
    )
    .ok();
    let text = std::fs::read_to_string(&next).expect("profile");
    assert!(text.contains(&second) && !text.contains(&first), "{text}");
    ana.run(&["profile", "import", path_str(&next)], "").ok();
    ana.record(MINIMAL);
    let after = export(&ana, &ana.scratch("after"), &[]);
    let (run, report) = mission.import(&after);
    run.ok();
    assert_eq!(report[0]["new_entries"], 1, "{report:?}");

    // The export carries both identities, the current one first, in age's own format.
    let secret = hq.scratch("secret").join("identities.txt");
    let run = hq
        .run(&["keys", "--export-secret", path_str(&secret)], "")
        .ok();
    assert!(run.stderr.contains("2: the current one"), "{}", run.stderr);
    let text = std::fs::read_to_string(&secret).expect("identities");
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .count(),
        2
    );
    assert!(text.find(&second) < text.find(&first), "current first");
    assert!(identity_file_opens(&secret, &before[0]));
    assert!(identity_file_opens(&secret, &after[0]));

    // A successor with a key of its own takes both as earlier identities and opens every
    // bundle; its own key stays the one it gives out.
    let successor = Journal::coordinator();
    let (own, _) = recipients(&successor);
    let run = successor
        .run(&["keys", "--import-secret", path_str(&secret)], "")
        .ok();
    assert!(
        run.stderr.contains("Kept 2 earlier identities"),
        "{}",
        run.stderr
    );
    let (current, mut earlier) = recipients(&successor);
    assert_eq!(current, own);
    earlier.sort();
    let mut both = vec![first, second];
    both.sort();
    assert_eq!(earlier, both);
    for bundle in before.iter().chain(&after) {
        let run = successor
            .run(&["import", "--json", path_str(bundle)], "")
            .ok();
        assert!(
            json_lines(&run.stdout)[0]["refused"].is_null(),
            "{}",
            run.stdout
        );
    }
    successor
        .run(&["keys", "--import-secret", path_str(&secret)], "")
        .fails(1)
        .stderr_has("already has every identity");
    // A file with a damaged identity names the line.
    let damaged = successor.scratch("damaged").join("identities.txt");
    std::fs::write(&damaged, "# note\nAGE-SECRET-KEY-1NOTAKEY\n").expect("write");
    successor
        .run(&["keys", "--import-secret", path_str(&damaged)], "")
        .fails(1)
        .stderr_has("line 2");
    // Devices have no coordinator key to rotate.
    ana.run(&["keys", "--rotate"], "")
        .fails(1)
        .stderr_has("coordinator");
}

#[test]
fn under_required_enrolment_only_enrolled_devices_merge() {
    let mission = Mission::new();
    let hq = &mission.coordinator;
    let profile = hq.scratch("enrol").join("profile.json");
    hq.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&profile),
            "--require-enrolment",
        ],
        "",
    )
    .ok();
    let ana = Journal::with_profile("Ana", &profile);
    let bea = Journal::with_profile("Bea", &profile);
    ana.record(MINIMAL);
    bea.record(MINIMAL);
    let stick = hq.scratch("stick");
    // Ana asks to be enrolled; the stick holds her request and both bundles.
    let request = PathBuf::from(
        ana.run(&["enrol", "--out", path_str(&stick)], "")
            .ok()
            .single_line(),
    );
    let ana_keys = ana.run(&["keys"], "").ok().stdout;
    let fingerprint = ana_keys
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint:"))
        .map(|f| f.trim().to_owned())
        .expect("fingerprint");
    let mut bundles = export(&ana, &stick, &[]);
    bundles.extend(export(&bea, &stick, &[]));
    // Without the fingerprint, the coordinator is shown it and nothing is enrolled.
    let shown = hq
        .run(&["devices", "enrol", path_str(&request)], "")
        .fails(1);
    assert!(
        shown.stdout.contains(&fingerprint),
        "both sides show it alike: {}",
        shown.stdout
    );
    // A wrong fingerprint enrols nothing.
    hq.run(
        &[
            "devices",
            "enrol",
            path_str(&request),
            "--fingerprint",
            "0000 0000 0000 0000 0000 0000 0000 0000",
        ],
        "",
    )
    .fails(1)
    .stderr_has("not the request's");
    hq.run(
        &[
            "devices",
            "enrol",
            path_str(&request),
            "--fingerprint",
            &fingerprint,
        ],
        "",
    )
    .ok();
    // The stick: Ana's bundle merges, Bea's is quarantined, the request is passed over.
    let (run, report) = mission.import(std::slice::from_ref(&stick));
    assert_eq!(run.code, Some(1), "Bea's bundle is refused");
    let merged: Vec<&serde_json::Value> = report.iter().filter(|r| r["new_entries"] == 1).collect();
    assert_eq!(merged.len(), 1, "{report:?}");
    assert_eq!(
        merged[0]["device_pending"], false,
        "an enrolled device is accepted"
    );
    assert!(report.iter().any(|r| r["refused"]
        .as_str()
        .is_some_and(|t| t.contains("not enrolled"))));
    assert!(report
        .iter()
        .any(|r| r["passed_over"] == "Truce enrolment request"));
    // Receipts reach the enrolled device.
    let out = hq.scratch("receipts");
    let written = hq
        .run(&["receipts", "--out", path_str(&out)], "")
        .ok()
        .stdout;
    assert_eq!(written.lines().count(), 1, "{written}");
    let run = ana.run(&["import", "--json", path_str(&out)], "").ok();
    assert_eq!(json_lines(&run.stdout).len(), 1);
}

#[test]
fn the_duress_passphrase_wipes_the_journal_and_leaves_a_fresh_install() {
    let with = Journal::created("Ana");
    let without = Journal::created("Bea");
    with.record(MINIMAL);
    let duress = "carrot umbrella fjord";
    with.run_env(
        &["settings", "--duress"],
        "",
        &[("TRUCE_DURESS_PASSPHRASE", duress)],
    )
    .ok();
    // The key files look alike, with a duress passphrase or without.
    let key = |j: &Journal| std::fs::read(j.path("journal.key")).expect("key file");
    assert_eq!(key(&with).len(), key(&without).len());
    assert_eq!(
        key(&with).split(|b| *b == b'\n').next(),
        key(&without).split(|b| *b == b'\n').next()
    );
    // The real passphrase still opens it, and a passphrase change keeps the duress one.
    with.run(&["status"], "").ok();
    with.run_env(
        &["passwd"],
        "",
        &[("TRUCE_NEW_PASSPHRASE", "lantern orbit cedar moss")],
    )
    .ok();
    let real = "lantern orbit cedar moss";
    with.run_env(&["status"], "", &[("TRUCE_PASSPHRASE", real)])
        .ok();
    // The same as the passphrase is refused.
    with.run_env(
        &["settings", "--duress"],
        "",
        &[
            ("TRUCE_PASSPHRASE", real),
            ("TRUCE_DURESS_PASSPHRASE", real),
        ],
    )
    .fails(1)
    .stderr_has("must differ");
    // Typed at unlock, the duress passphrase wipes everything and reads as a fresh install.
    with.run_env(&["list"], "", &[("TRUCE_PASSPHRASE", duress)])
        .fails(1)
        .stderr_has("no journal in");
    assert!(!with.path("journal.key").exists());
    assert!(!with.path("journal.db").exists());
    with.run(&["init", "--observer", "Ana"], "").ok();
}

/// The loop with a regional office: three devices, two through the office and one straight to
/// HQ; the office forwards byte for byte, HQ verifies and confirms, the office lets go of what
/// HQ holds, and every device learns its records arrived.
/// The whole loop, end to end: three devices, a regional office and HQ. Bundles go through the
/// office to HQ (and one device straight to HQ), receipts come back, a lost entry goes again
/// unasked, confirmed records leave the devices, a stolen device is cut off, and HQ hands the
/// mission over: the devices follow, one through the chain it carries, and refuse a forgery.
#[test]
fn three_devices_a_regional_office_and_hq_close_the_loop() {
    let hq = Journal::coordinator();
    let office = Journal::coordinator();
    let profile = hq.scratch("mission").join("profile.json");
    hq.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&profile),
            "--coordinator",
            path_str(&card(&office, "east")),
            "--purge-after-days",
            "0",
        ],
        "",
    )
    .ok();
    office
        .run(&["profile", "import", path_str(&profile)], "")
        .ok();
    let devices: Vec<Journal> = ["Ana", "Bea", "Cal"]
        .iter()
        .map(|name| {
            let device = Journal::with_profile(name, &profile);
            device.record(MINIMAL);
            device.record(MINIMAL);
            device
        })
        .collect();
    let (ana, bea, cal) = (&devices[0], &devices[1], &devices[2]);
    // Ana's first entry goes on a stick that is lost.
    export(ana, &ana.scratch("lost"), &["--from", "1", "--to", "1"]);
    let to_office = office.scratch("from-teams");
    let mut originals = export(ana, &to_office, &[]);
    originals.extend(export(bea, &to_office, &[]));
    let to_hq = hq.scratch("direct");
    let direct = export(cal, &to_hq, &[]);

    // The office imports its stick and forwards what it accepted, byte for byte.
    office.run(&["import", path_str(&to_office)], "").ok();
    let courier = office.scratch("courier");
    let forwarded: Vec<PathBuf> = office
        .run(&["forward", "--out", path_str(&courier)], "")
        .ok()
        .stdout
        .lines()
        .map(PathBuf::from)
        .collect();
    assert_eq!(forwarded.len(), 2);
    for original in &originals {
        let copy = courier.join(original.file_name().expect("name"));
        assert_eq!(
            std::fs::read(original).expect("original"),
            std::fs::read(&copy).expect("forwarded"),
            "byte for byte"
        );
    }
    // HQ verifies them itself; the same bundle arriving directly too changes nothing.
    let run = hq.run(&["import", "--json", path_str(&courier)], "").ok();
    let report = json_lines(&run.stdout);
    assert_eq!(
        report
            .iter()
            .map(|r| r["new_entries"].as_u64().unwrap_or(0))
            .sum::<u64>(),
        3
    );
    let run = hq
        .run(
            &[
                "import",
                "--json",
                path_str(&originals[0]),
                path_str(&direct[0]),
            ],
            "",
        )
        .ok();
    let report = json_lines(&run.stdout);
    assert_eq!(report[0]["held_already"], true);
    assert_eq!(report[1]["new_entries"], 2);
    let cal_id = report[1]["device_id"]
        .as_str()
        .expect("device id")
        .to_owned();
    for line in json_lines(&hq.run(&["devices", "--json"], "").ok().stdout) {
        let id = line["device_id"].as_str().expect("device id");
        hq.run(&["devices", "accept", id], "").ok();
    }

    // HQ's receipts go back: the office lets go of what HQ holds, the devices mark received.
    let receipts = hq.scratch("receipts");
    let written = hq
        .run(&["receipts", "--out", path_str(&receipts)], "")
        .ok()
        .stdout;
    assert_eq!(written.lines().count(), 3, "{written}");
    let before = office.run(&["status"], "").ok().stdout;
    assert!(before.contains("for HQ:      2 bundle(s) kept"), "{before}");
    office.run(&["import", path_str(&receipts)], "").ok();
    let after = office.run(&["status"], "").ok().stdout;
    assert!(after.contains("for HQ:      0 bundle(s) kept"), "{after}");
    for device in &devices {
        let run = device
            .run(&["import", "--json", path_str(&receipts)], "")
            .ok();
        assert_eq!(json_lines(&run.stdout).len(), 1, "{}", run.stdout);
    }

    // At the next unlock the confirmed records leave the devices (the mission's purge); Ana's
    // lost entry was never confirmed, so it stays.
    let run = bea.run(&["status"], "").ok();
    assert!(run.stderr.contains("Removed 2 record(s)"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("0 record(s) not yet confirmed, 2 purged"),
        "{}",
        run.stdout
    );
    assert!(bea.list().is_empty());
    let run = ana.run(&["status"], "").ok();
    assert!(run.stderr.contains("Removed 1 record(s)"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("1 record(s) not yet confirmed, 1 purged"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("resend:      1 "), "{}", run.stdout);
    assert_eq!(
        delivery(ana).into_values().collect::<Vec<_>>(),
        vec!["awaiting_confirmation".to_owned()]
    );

    // Ana's next export sends the lost entry again, unasked; HQ's log of her is whole.
    let again = export(ana, &ana.scratch("again"), &[]);
    assert_eq!(again.len(), 1);
    let run = hq.run(&["import", "--json", path_str(&again[0])], "").ok();
    let line = &json_lines(&run.stdout)[0];
    assert_eq!(line["new_entries"], 1);
    assert_eq!(line["gaps"], serde_json::json!([]));

    // Cal's device is stolen after entry 2: what it sends later is quarantined.
    hq.run(
        &[
            "devices",
            "revoke",
            &cal_id,
            "--reason",
            "taken at a checkpoint",
            "--after-seq",
            "2",
        ],
        "",
    )
    .ok();
    cal.record(MINIMAL);
    let stolen = export(cal, &cal.scratch("stolen"), &[]);
    let run = hq
        .run(&["import", "--json", path_str(&stolen[0])], "")
        .no_panic();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let line = &json_lines(&run.stdout)[0];
    assert!(
        line["refused"]
            .as_str()
            .is_some_and(|r| r.contains("revoked")),
        "{line}"
    );

    // HQ hands the mission over. Ana installs the hand-over; Bea misses it and follows the
    // chain the successor's next profile carries; both refuse a forged update.
    let successor = Journal::coordinator();
    let handover = hq.scratch("handover").join("profile.json");
    hq.run(
        &[
            "profile",
            "handover",
            "--to",
            path_str(&card(&successor, "successor")),
            "--out",
            path_str(&handover),
        ],
        "",
    )
    .ok();
    ana.run(&["profile", "import", path_str(&handover)], "")
        .ok();
    successor
        .run(&["profile", "import", path_str(&handover)], "")
        .ok();
    let next = successor.scratch("next").join("profile.json");
    successor
        .run(
            &[
                "profile",
                "create",
                "--mission",
                "Mission East",
                "--out",
                path_str(&next),
            ],
            "",
        )
        .ok();
    let eve = Journal::coordinator();
    eve.run(&["profile", "import", path_str(&profile)], "").ok();
    let forged = eve.scratch("forged").join("profile.json");
    eve.run(
        &[
            "profile",
            "create",
            "--mission",
            "Mission East",
            "--out",
            path_str(&forged),
        ],
        "",
    )
    .ok();
    for device in [ana, bea] {
        device
            .run(&["profile", "import", path_str(&forged)], "")
            .fails(1)
            .stderr_has("neither signed the installed profile");
        device.run(&["profile", "import", path_str(&next)], "").ok();
        let shown = device.run(&["profile", "show"], "").ok().stdout;
        assert!(shown.contains("number:      3"), "{shown}");
    }
}

/// A receipt written before a newer one and applied after it takes back nothing, and the
/// report flags a revoked device's records past its cut-off.
#[test]
fn an_older_receipt_never_undoes_a_confirmation() {
    let mission = Mission::new();
    let ana = mission.device("Ana");
    ana.record(MINIMAL);
    mission.import(&export(&ana, &ana.scratch("a"), &[])).0.ok();
    let older = write_receipts(&mission, &mission.coordinator.scratch("older"));
    ana.record(MINIMAL);
    mission.import(&export(&ana, &ana.scratch("b"), &[])).0.ok();
    let newer = write_receipts(&mission, &mission.coordinator.scratch("newer"));
    ana.run(&["import", path_str(&newer[0])], "").ok();
    assert!(delivery(&ana).values().all(|s| s == "received"));
    let run = ana.run(&["import", "--json", path_str(&older[0])], "").ok();
    assert_eq!(json_lines(&run.stdout)[0]["newly_confirmed"], 0);
    assert!(
        delivery(&ana).values().all(|s| s == "received"),
        "nothing taken back"
    );
    let status = ana.run(&["status"], "").ok().stdout;
    assert!(!status.contains("resend:"), "{status}");

    // Revoked after entry 1: the report flags the second record.
    let device = mission
        .coordinator
        .run(&["devices", "--json"], "")
        .ok()
        .stdout;
    let id = json_lines(&device)[0]["device_id"]
        .as_str()
        .expect("id")
        .to_owned();
    mission
        .coordinator
        .run(&["devices", "accept", &id], "")
        .ok();
    mission
        .coordinator
        .run(
            &[
                "devices",
                "revoke",
                &id,
                "--reason",
                "lost",
                "--after-seq",
                "1",
            ],
            "",
        )
        .ok();
    let report = mission
        .coordinator
        .run(
            &[
                "report",
                "--format",
                "json",
                "--from",
                "2000-01-01",
                "--to",
                "2100-01-01",
            ],
            "",
        )
        .ok()
        .stdout;
    let report: serde_json::Value = serde_json::from_str(&report).expect("json");
    assert_eq!(report["after_revocation_reports"], 1, "{report}");
}

// ---------------------------------------------------------------------------------------------
// The hostile-receipt corpus in tests/testdata/receipts (written by `make-receipt-corpus`): a
// device journal and receipts made for it, each with the outcome it must have when the device
// imports them one by one. After every refused case the device's records stand as before.

fn receipt_corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/receipts")
}

fn receipt_corpus_cases() -> Vec<serde_json::Value> {
    serde_json::from_str(
        &std::fs::read_to_string(receipt_corpus_dir().join("expected.json"))
            .expect("expected.json"),
    )
    .expect("JSON")
}

/// A copy of the corpus device's journal, private like any journal.
fn corpus_device() -> Journal {
    use std::os::unix::fs::PermissionsExt;
    let device = Journal::new();
    std::fs::create_dir(&device.dir).expect("journal folder");
    std::fs::set_permissions(&device.dir, std::fs::Permissions::from_mode(0o700))
        .expect("private folder");
    truce_tests::copy_files(&receipt_corpus_dir().join("device"), &device.dir);
    for name in names_in(&device.dir) {
        std::fs::set_permissions(
            device.dir.join(name),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("private file");
    }
    assert_eq!(device.passphrase, truce_tests::receipt_corpus::PASSPHRASE);
    device
}

/// The number of the installed profile, from `profile show`.
fn profile_number(device: &Journal) -> String {
    let shown = device.run(&["profile", "show"], "").ok().stdout;
    shown
        .lines()
        .find_map(|l| l.strip_prefix("number:"))
        .map(|n| n.trim().to_owned())
        .unwrap_or_else(|| panic!("no number in {shown}"))
}

#[test]
fn the_committed_receipt_corpus_has_every_case() {
    let names: Vec<String> = receipt_corpus_cases()
        .iter()
        .map(|c| c["file"].as_str().expect("file").to_owned())
        .collect();
    assert_eq!(
        names,
        truce_tests::receipt_corpus::CASE_NAMES,
        "the corpus is stale: run `cargo run -p truce-tests --bin make-receipt-corpus`"
    );
    for name in &names {
        assert!(
            receipt_corpus_dir().join(name).is_file(),
            "{name} is missing"
        );
    }
}

#[test]
fn hostile_receipts_are_refused_with_a_reason_and_change_nothing() {
    let device = corpus_device();
    let entries = truce_tests::receipt_corpus::ENTRIES as usize;
    assert_eq!(delivery(&device).len(), entries);
    assert!(delivery(&device)
        .values()
        .all(|s| s == "awaiting_confirmation"));
    for case in receipt_corpus_cases() {
        let name = case["file"].as_str().expect("file");
        let file = receipt_corpus_dir().join(name);
        let (before, number) = (delivery(&device), profile_number(&device));
        let run = device.run(&["import", "--json", path_str(&file)], "");
        match case["outcome"].as_str() {
            Some("applied") => {
                let line = &json_lines(&run.ok().stdout)[0];
                assert_eq!(line["applied_already"], false, "{name}");
                assert_eq!(line["newly_confirmed"], case["newly_confirmed"], "{name}");
                assert_eq!(
                    line["profile_installed"], case["profile_installed"],
                    "{name}"
                );
            }
            Some("applied_before") => {
                let line = &json_lines(&run.ok().stdout)[0];
                assert_eq!(line["applied_already"], true, "{name}");
                assert_eq!(delivery(&device), before, "{name} changes nothing");
            }
            Some("refused") => {
                let run = run.fails(1).no_stdout();
                let wanted = case["reason"].as_str().expect("reason");
                assert!(
                    run.stderr.to_lowercase().contains(&wanted.to_lowercase()),
                    "{name}: the reason must mention {wanted:?}, got: {}",
                    run.stderr
                );
                assert!(run.stderr.contains(name), "{name}: {}", run.stderr);
                assert_eq!(delivery(&device), before, "{name} changes nothing");
                assert_eq!(profile_number(&device), number, "{name}");
            }
            other => panic!("{name}: unknown outcome {other:?}"),
        }
    }
    // The valid receipts confirmed all four entries and brought the second profile; nothing
    // after them took any of it back.
    assert!(delivery(&device).values().all(|s| s == "received"));
    assert!(profile_number(&device).starts_with("2 "));
    let status = device.run(&["status"], "").ok().stdout;
    assert!(status.contains("4 confirmed by a coordinator"), "{status}");
}

/// The whole corpus as one folder on a stick: the valid receipts are applied, the device's
/// own bundle and the receipt for another device passed over, and every hostile file named
/// with its reason; the run says so with exit 1, and the rest is still read.
#[test]
fn a_stick_with_hostile_receipts_applies_the_good_ones_and_names_the_rest() {
    let device = corpus_device();
    let run = device
        .run(&["import", "--json", path_str(&receipt_corpus_dir())], "")
        .fails(1)
        .stderr_has("refused");
    let lines = json_lines(&run.stdout);
    let cases = receipt_corpus_cases();
    let refused: Vec<&str> = lines
        .iter()
        .filter(|l| l["refused"].is_string())
        .map(|l| l["file"].as_str().expect("file"))
        .collect();
    let applied = lines.iter().filter(|l| l["held_through"].is_u64()).count();
    // 02 is 00 again; 04 and 15 are not addressed to the device.
    let passed_over = ["04-", "15-"];
    for case in &cases {
        let name = case["file"].as_str().expect("file");
        let named = refused.iter().any(|f| f.ends_with(name));
        let expected_refused =
            case["outcome"] == "refused" && !passed_over.iter().any(|p| name.starts_with(p));
        assert_eq!(named, expected_refused, "{name}: {}", run.stdout);
    }
    assert_eq!(applied, 4, "00, 01, 02 (already) and 03: {}", run.stdout);
    assert!(delivery(&device).values().all(|s| s == "received"));
}
