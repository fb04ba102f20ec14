//! What an outsider can do with only the coordinator's age recipient and the stock `truce`
//! binary, end to end: reuse a verified observation's id from a device of their own, or have a
//! device of their own count before the coordinator checked its fingerprint. Each attack ends
//! in a named refusal or a marked, separate record, and never changes the genuine one.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::harness::{json_lines, path_str, Journal, Mission};

/// The only line of `truce export`'s output, as a path.
fn export(device: &Journal, extra: &[&str]) -> PathBuf {
    let usb = device.scratch("usb");
    let mut args = vec!["export", "--out", path_str(&usb)];
    args.extend_from_slice(extra);
    PathBuf::from(device.run(&args, "").ok().single_line())
}

/// The id of the device `journal` belongs to.
fn device_id(journal: &Journal) -> String {
    let status = journal.run(&["status"], "").ok().stdout;
    status
        .lines()
        .find_map(|l| l.strip_prefix("device:"))
        .map(|d| d.trim().to_owned())
        .unwrap_or_else(|| panic!("status names the device: {status}"))
}

/// An outsider: their own coordinator journal, whose profile names `mission_name` and the
/// mission coordinator's recipient (printed by `truce keys`, carried by every profile), and a
/// monitor with that profile, signed in as `observer` (the victim's name, say).
fn outsider_in(mission: &Mission, mission_name: &str, observer: &str) -> Journal {
    let recipient = mission
        .coordinator
        .run(&["keys"], "")
        .ok()
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("recipient:"))
        .map(|r| r.trim().to_owned())
        .expect("recipient");
    let their_coordinator = Journal::coordinator();
    let profile = their_coordinator.scratch("p").join("profile.json");
    their_coordinator
        .run(
            &[
                "profile",
                "create",
                "--mission",
                mission_name,
                "--recipient",
                &recipient,
                "--out",
                path_str(&profile),
            ],
            "",
        )
        .ok();
    let device = Journal::created(observer);
    device
        .run(&["profile", "import", path_str(&profile)], "")
        .ok();
    device
}

/// [`outsider_in`] the mission's own name.
fn outsider(mission: &Mission, observer: &str) -> Journal {
    outsider_in(mission, "Mission East", observer)
}

/// The victim's record, verified by the coordinator after accepting the victim's device.
struct Verified {
    mission: Mission,
    victim: Journal,
    victim_device: String,
    id: String,
}

fn verified_record() -> Verified {
    let mission = Mission::new();
    let victim = mission.device("Ana");
    let victim_device = device_id(&victim);
    let id = victim.record(
        &json!({"kind": "violation", "category": "shelling", "method": "heard",
                "lat": 48.2, "lon": 37.8, "narrative": "genuine: 12 rounds from the east"})
        .to_string(),
    );
    let bundle = export(&victim, &[]);
    let (run, report) = mission.import(&[bundle]);
    let run = run.ok();
    assert_eq!(report[0]["device_pending"], json!(true), "{}", run.stdout);
    mission
        .coordinator
        .run(&["devices", "accept", &victim_device], "")
        .ok();
    mission
        .coordinator
        .run(
            &["verify", &id, "--status", "verified", "--note", "two teams"],
            "",
        )
        .ok();
    Verified {
        mission,
        victim,
        victim_device,
        id,
    }
}

/// The outsider's bundle holding "revision 2" of `id` on their own device: recorded with the
/// victim's id, amended once, and exported as a range holding only the amendment.
fn forged_revision(mission: &Mission, id: &str) -> (Journal, PathBuf) {
    let forger = outsider(mission, "Ana");
    forger.record(
        &json!({"id": id, "kind": "violation", "category": "shelling", "method": "heard",
                "lat": 48.2, "lon": 37.8, "narrative": "forged"})
        .to_string(),
    );
    forger
        .run(
            &["amend", id],
            r#"{"narrative":"forged: no shelling, the monitors were mistaken"}"#,
        )
        .ok();
    let bundle = export(&forger, &["--from", "2", "--to", "2"]);
    (forger, bundle)
}

fn public_csv(c: &Journal) -> String {
    let out = c.scratch("exports").join("public.csv");
    c.run(
        &[
            "export-data",
            "--format",
            "csv",
            "--public",
            "--out",
            path_str(&out),
        ],
        "",
    )
    .ok();
    std::fs::read_to_string(out).expect("UTF-8")
}

#[test]
fn a_strangers_device_cannot_rewrite_a_verified_record() {
    let Verified {
        mission,
        victim,
        victim_device,
        id,
    } = verified_record();
    let (forger, bundle) = forged_revision(&mission, &id);
    let forger_device = device_id(&forger);

    let (run, report) = mission.import(&[bundle]);
    run.ok();
    assert!(report[0]["refused"].is_null(), "{report:?}");
    assert_eq!(report[0]["new_entries"], json!(1));
    assert_eq!(report[0]["device_pending"], json!(true));

    // The genuine record is unchanged, still verified; `show ID` asks which device is meant.
    let c = &mission.coordinator;
    c.run(&["show", &id], "")
        .fails(1)
        .stderr_has("recorded on 2 devices")
        .stderr_has(&victim_device)
        .stderr_has("--device");
    let genuine: Value = serde_json::from_str(
        &c.run(&["show", &id, "--device", &victim_device, "--json"], "")
            .ok()
            .stdout,
    )
    .expect("JSON");
    assert_eq!(
        genuine["current"]["narrative"],
        "genuine: 12 rounds from the east"
    );
    assert_eq!(genuine["current"]["revision"], 1);
    assert_eq!(genuine["status"], "verified");
    let forged: Value = serde_json::from_str(
        &c.run(&["show", &format!("{id}@{forger_device}"), "--json"], "")
            .ok()
            .stdout,
    )
    .expect("JSON");
    assert_eq!(forged["status"], "unverified");
    assert_eq!(forged["current"]["device_id"], json!(forger_device));

    // Listed separately, flagged; the public export publishes only the genuine text.
    let rows = json_lines(&c.run(&["list", "--json", "--with-status"], "").ok().stdout);
    let of = |device: &str| {
        rows.iter()
            .find(|r| r["id"] == json!(id) && r["device_id"] == json!(device))
            .unwrap_or_else(|| panic!("a row of {device}: {rows:?}"))
            .clone()
    };
    assert_eq!(of(&victim_device)["status"], "verified");
    assert_eq!(
        of(&victim_device)["id_also_used_by"],
        json!([forger_device])
    );
    assert_eq!(of(&forger_device)["device_pending"], json!(true));
    let text = c.run(&["list"], "").ok().stdout;
    assert!(text.contains("[id also used by device"), "{text}");
    assert!(text.contains("[device pending]"), "{text}");
    let public = public_csv(c);
    assert!(!public.contains("forged"), "{public}");
    c.run(&["check"], "").ok();

    // The genuine device reaches revision 2 later: its bundle is not refused as tampering.
    victim
        .run(
            &["amend", &id],
            r#"{"narrative":"genuine: 14 rounds from the east"}"#,
        )
        .ok();
    let second = victim.record(r#"{"kind":"incident","category":"mine_uxo","method":"seen"}"#);
    let (run, report) = mission.import(&[export(&victim, &[])]);
    run.ok();
    assert!(report[0]["refused"].is_null(), "{report:?}");
    assert_eq!(report[0]["new_entries"], json!(2));
    let genuine: Value = serde_json::from_str(
        &c.run(&["show", &format!("{id}@{victim_device}"), "--json"], "")
            .ok()
            .stdout,
    )
    .expect("JSON");
    assert_eq!(
        genuine["current"]["narrative"],
        "genuine: 14 rounds from the east"
    );
    c.run(&["show", &second, "--json"], "").ok();
    c.run(&["check"], "").ok();
}

/// First come is not owner: the stranger's revision arriving before the genuine record makes
/// no difference to the genuine device's bundle, and the end state is the same either way.
#[test]
fn first_come_is_not_owner() {
    let mission = Mission::new();
    let victim = mission.device("Ana");
    let id = victim.record(
        r#"{"kind":"violation","category":"shelling","method":"heard","narrative":"genuine"}"#,
    );
    let genuine = export(&victim, &[]);
    let (_forger, forged) = forged_revision(&mission, &id);

    let (run, report) = mission.import(&[forged.clone(), genuine.clone()]);
    run.ok();
    assert!(report.iter().all(|r| r["refused"].is_null()), "{report:?}");
    let stranger_first = mission.state_rows();

    let other = Mission::on_coordinator_of(&mission);
    let (run, _) = other.import(&[genuine, forged]);
    run.ok();
    assert_eq!(
        other.state_rows(),
        stranger_first,
        "order makes no difference"
    );
    assert_eq!(
        stranger_first.len(),
        2,
        "two observations: {stranger_first:?}"
    );
}

/// An unknown device's records are held and listed, marked, but count in no alert, report or
/// export until the coordinator accepts it; then they count, the kept alerts included.
#[test]
fn a_new_device_counts_only_once_accepted() {
    let mission = Mission::new();
    let profile = mission.coordinator.create_profile_from(
        "Mission East",
        &json!({"alert_rules": [{"name": "shelling surge", "level": 3, "kinds": ["violation"],
                                 "categories": ["shelling"], "window_hours": 24, "threshold": 5}]}),
    );
    let device = Journal::with_profile("Ana", &profile);
    for i in 0..10 {
        device.record(
            &json!({"kind": "violation", "category": "shelling", "method": "heard",
                    "observed_at": format!("2026-11-20T05:{i:02}:00+03:00")})
            .to_string(),
        );
    }
    let (run, report) = mission.import(&[export(&device, &[])]);
    let run = run.ok();
    assert_eq!(report[0]["device_pending"], json!(true));
    assert!(run.stdout.is_empty() || run.stdout.starts_with('{'));
    let c = &mission.coordinator;
    let human = c
        .run(&["import", path_str(&export(&device, &["--all"]))], "")
        .ok()
        .stdout;
    assert!(human.contains("devices accept"), "{human}");

    let alerts = |c: &Journal| json_lines(&c.run(&["alerts", "--json"], "").ok().stdout);
    assert!(alerts(c).is_empty(), "a pending device raises no alert");
    assert_eq!(
        c.run(&["list", "--json"], "").ok().stdout.lines().count(),
        10
    );
    let report = |c: &Journal| -> Value {
        serde_json::from_str(
            &c.run(
                &[
                    "report",
                    "--from",
                    "2026-11-19",
                    "--to",
                    "2026-11-21",
                    "--format",
                    "json",
                ],
                "",
            )
            .ok()
            .stdout,
        )
        .expect("JSON")
    };
    assert_eq!(
        report(c)["total"],
        0,
        "a pending device counts in no report"
    );
    let csv = |c: &Journal| {
        let out = c.scratch("exports").join("all.csv");
        c.run(
            &["export-data", "--format", "csv", "--out", path_str(&out)],
            "",
        )
        .ok();
        std::fs::read_to_string(out).expect("UTF-8").lines().count()
    };
    assert_eq!(
        csv(c),
        1,
        "only the header: a pending device is exported nowhere"
    );
    let devices = json_lines(&c.run(&["devices", "--json"], "").ok().stdout);
    assert_eq!(devices[0]["accepted"], json!(false));

    let id = device_id(&device);
    c.run(&["devices", "accept", &id[id.len() - 8..]], "").ok();
    let devices = json_lines(&c.run(&["devices", "--json"], "").ok().stdout);
    assert_eq!(devices[0]["accepted"], json!(true));
    assert_eq!(alerts(c).len(), 1, "accepted: its records raise the alert");
    assert_eq!(report(c)["total"], 10);
    assert_eq!(csv(c), 11);
    c.run(&["check"], "").ok();
    c.run(&["devices", "accept", "ffffffff"], "")
        .fails(1)
        .stderr_has("no device matches");
}

/// A bundle written under another mission's profile (a stranger's, naming this coordinator's
/// recipient) is refused with the reason, and changes nothing.
#[test]
fn a_bundle_for_another_mission_is_refused() {
    let mission = Mission::new();
    let device = outsider_in(&mission, "Mission West", "Ana");
    device.record(r#"{"kind":"violation","category":"shelling","method":"heard"}"#);
    let (run, report) = mission.import(&[export(&device, &[])]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let reason = report[0]["refused"].as_str().expect("refused");
    assert!(
        reason.contains("Mission West") && reason.contains("Mission East"),
        "{reason}"
    );
    assert!(mission.coordinator.list().is_empty());
    assert!(json_lines(
        &mission
            .coordinator
            .run(&["devices", "--json"], "")
            .ok()
            .stdout
    )
    .is_empty());
}

/// The unlock policy holds on the command line as in the GUI: with `settings --wipe-after 5`,
/// the fifth wrong passphrase in a row wipes the journal; an unlock in between starts the count
/// again. Setting it needs the passphrase.
#[test]
fn the_command_line_wipes_after_n_wrong_passphrases() {
    let journal = Journal::created("Ana");
    journal.record(r#"{"kind":"violation","category":"shelling","method":"heard"}"#);
    assert!(journal.run(&["settings"], "").ok().stdout.contains("off"));
    journal
        .run_env(
            &["settings", "--wipe-after", "5"],
            "",
            &[("TRUCE_PASSPHRASE", "not the passphrase")],
        )
        .fails(1)
        .stderr_has("wrong passphrase");
    journal
        .run(&["settings", "--wipe-after", "7"], "")
        .fails(2)
        .stderr_has("0 (off), 5, 10 or 20");
    journal.run(&["settings", "--wipe-after", "5"], "").ok();
    let wrong = |n: usize| {
        for _ in 0..n {
            journal
                .run_env(&["list"], "", &[("TRUCE_PASSPHRASE", "a guess")])
                .fails(1)
                .stderr_has("wrong passphrase");
        }
    };
    wrong(4);
    assert!(journal
        .run(&["settings"], "")
        .ok()
        .stdout
        .contains("5 wrong passphrases in a row (4 so far)"));
    // The right one starts the count again.
    assert_eq!(
        json_lines(&journal.run(&["list", "--json"], "").ok().stdout).len(),
        1
    );
    wrong(4);
    assert!(
        journal.path("journal.key").exists(),
        "still below the limit"
    );
    journal
        .run_env(&["list"], "", &[("TRUCE_PASSPHRASE", "a guess")])
        .fails(1)
        .stderr_has("wiped");
    assert!(!journal.path("journal.key").exists());
    assert!(!journal.path("journal.db").exists());
    journal.run(&["list"], "").fails(1).stderr_has("no journal");
}
