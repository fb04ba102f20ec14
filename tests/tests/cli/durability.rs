//! Crash durability: a recorder killed with SIGKILL at random moments never loses a record it
//! acknowledged, and the journal always opens and passes both integrity checks; `truce passwd`
//! killed at random moments leaves a journal that opens, whole, with the old passphrase or
//! the new one; `truce attach` killed at random moments never leaves a record naming a file
//! that is not stored whole; a full disk is reported as such.
//!
//! 20 kills by default; set TRUCE_CRASH_KILLS (e.g. 1000) for a long run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{path_str, Journal, Mission, MINIMAL};

fn recorder_bin() -> std::path::PathBuf {
    let truce = truce_tests::truce_bin();
    let dir = truce.parent().expect("the binary's folder");
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--quiet", "-p", "truce-tests", "--bin", "recorder"])
        .args(if dir.ends_with("release") {
            vec!["--release"]
        } else {
            vec![]
        })
        .arg("--target-dir")
        .arg(dir.parent().expect("the target folder"))
        .status()
        .expect("cargo build the recorder");
    assert!(status.success(), "building the recorder failed");
    dir.join("recorder")
}

/// Starts the recorder on `journal`; it prints each acknowledged id on its stdout.
fn start_recorder(recorder: &std::path::Path, journal: &Journal) -> std::process::Child {
    Command::new(recorder)
        .arg(&journal.dir)
        .env("TRUCE_PASSPHRASE", &journal.passphrase)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the recorder")
}

/// How often (in rounds) the crash test checks the whole journal: every acknowledged id listed,
/// and `truce check` (hash chains, every attachment re-hashed). Every other round checks what
/// a kill can break at the end of the journal, cheaply: it opens (the log a crash left is
/// replayed) and holds at least as many records as were acknowledged. A record lost then is
/// found, by its id, at the next full check.
const FULL_CHECK_EVERY: u32 = 25;

/// The journal's record count, as `truce status` gives it.
fn record_count(journal: &Journal) -> usize {
    let status = journal.run(&["status"], "").ok().stdout;
    status
        .lines()
        .find_map(|l| l.strip_prefix("records:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("`truce status` gives the record count: {status}"))
}

#[test]
fn killed_mid_write_nothing_acknowledged_is_lost() {
    let kills = crash_kills();
    let journal = Journal::created("Ana");
    let recorder = recorder_bin();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("crash test seed {seed}, {kills} kills");
    let began = Instant::now();
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_millis(20 + seed % 300);
        let mut child = start_recorder(&recorder, &journal);
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        let started = Instant::now();
        while started.elapsed() < after {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("reap");
        let ids = reader.join().expect("reader thread");
        assert!(
            status.code().is_none() || ids.is_empty(),
            "round {round}: the recorder stopped by itself: {status:?}"
        );
        acknowledged.extend(ids);

        let count = record_count(&journal);
        assert!(
            count >= acknowledged.len(),
            "round {round} (seed {seed}): {count} records held, {} acknowledged",
            acknowledged.len()
        );
        if (round + 1) % FULL_CHECK_EVERY == 0 || round + 1 == kills {
            let held: std::collections::BTreeSet<String> = journal
                .list()
                .iter()
                .map(|r| r["id"].as_str().expect("id").to_owned())
                .collect();
            for id in &acknowledged {
                assert!(
                    held.contains(id),
                    "round {round} (seed {seed}): acknowledged record {id} was lost"
                );
            }
            assert_eq!(
                journal.run(&["check"], "").ok().stdout.trim(),
                "ok",
                "round {round}: integrity"
            );
            eprintln!(
                "crash test: {} of {kills} kills, {} records acknowledged, {:.0} s",
                round + 1,
                acknowledged.len(),
                began.elapsed().as_secs_f64()
            );
        }
    }
    assert!(
        acknowledged.len() as u32 >= kills,
        "the recorder saved something in most rounds ({} records)",
        acknowledged.len()
    );
}

fn crash_kills() -> u32 {
    std::env::var("TRUCE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// Puts the files of `snapshot` back as the only files of `dir`.
fn restore(
    dir: &std::path::Path,
    snapshot: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
) {
    for path in truce_tests::files_under(dir) {
        std::fs::remove_file(path).expect("remove");
    }
    for (name, bytes) in snapshot {
        std::fs::write(dir.join(name), bytes).expect("restore");
    }
}

#[test]
fn passwd_killed_anywhere_opens_with_the_old_or_the_new_passphrase() {
    const NEW: &str = "a whole new passphrase";
    let kills = crash_kills();
    let journal = Journal::created("Ana Passwd Killed");
    for _ in 0..30 {
        journal.record(MINIMAL);
    }
    let listed = journal.list_raw();
    let original = journal.files();
    let passwd = || {
        let mut cmd = Command::new(truce_tests::truce_bin());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("TRUCE_") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("--data-dir")
            .arg(&journal.dir)
            .arg("passwd")
            .env("HOME", journal.scratch("home"))
            .env("TRUCE_INSECURE_KDF_WORK_FACTOR", "10")
            .env("TRUCE_PASSPHRASE", &journal.passphrase)
            .env("TRUCE_NEW_PASSPHRASE", NEW)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    // How long a whole passphrase change takes here: the kills fall within it.
    let started = Instant::now();
    assert!(passwd().status().expect("run passwd").success());
    let whole = started.elapsed().as_micros() as u64 + 1;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("passwd crash test seed {seed}, {kills} kills within {whole} µs");
    let (mut old_opened, mut new_opened) = (0, 0);
    for round in 0..kills {
        restore(&journal.dir, &original);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_micros(seed % whole);
        let mut child = passwd().spawn().expect("start passwd");
        std::thread::sleep(after);
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");

        let with = |passphrase: &str, args: &[&str]| {
            journal
                .run_env(args, "", &[("TRUCE_PASSPHRASE", passphrase)])
                .no_panic()
        };
        let old = with(&journal.passphrase, &["list", "--json"]);
        let new = with(NEW, &["list", "--json"]);
        let opens = match (old.code, new.code) {
            (Some(0), Some(1)) => journal.passphrase.as_str(),
            (Some(1), Some(0)) => NEW,
            other => panic!(
                "round {round} (seed {seed}, killed after {after:?}): exactly one passphrase must open the journal, got {other:?}:\n{}\n{}",
                old.stderr, new.stderr
            ),
        };
        if opens == NEW {
            new_opened += 1;
            assert_eq!(new.stdout, listed, "round {round}: records lost");
        } else {
            old_opened += 1;
            assert_eq!(old.stdout, listed, "round {round}: records lost");
        }
        assert_eq!(
            with(opens, &["check"]).stdout.trim(),
            "ok",
            "round {round}: integrity"
        );
    }
    eprintln!("the old passphrase opened {old_opened} times, the new one {new_opened} times");
}

/// A small tmpfs mounted over a folder for one test, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    /// Mounts a tmpfs of `size` (e.g. "4m") at `dir`. None when this process may not mount
    /// (not root): outside CI the test is skipped, in CI that is a failure.
    fn mount(dir: &std::path::Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).expect("mount point");
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output();
        match out {
            Ok(out) if out.status.success() => Some(SmallDisk(dir.to_path_buf())),
            other => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI runs as root and must be able to mount a tmpfs for the disk-full test: {other:?}"
                );
                eprintln!("skipping the disk-full test: cannot mount a tmpfs here ({other:?})");
                None
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `path` with one file of zeros until it is full.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("filler file");
    let block = vec![0u8; 64 * 1024];
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the disk failed for another reason: {e}"),
        }
    }
    // The last partial block: byte by byte to the very end.
    while let Ok(1) = file.write(&[0u8]) {}
    let _ = file.sync_all();
}

#[test]
fn disk_full_save_fails_clearly_and_works_again_once_space_returns() {
    let journal = Journal::new();
    let Some(_disk) = SmallDisk::mount(&journal.dir, "6m") else {
        return;
    };
    journal.init("Ana Disk Full");
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(journal.record(&format!(
            r#"{{"kind":"violation","category":"shelling","method":"heard","narrative":"before the disk filled, {i}"}}"#
        )));
    }
    let before = journal.list_raw();
    assert_eq!(before.lines().count(), 5);

    let filler = journal.dir.join("filler");
    fill(&filler);
    // Several attempts, each with a long narrative, so the write cannot fit in a page that
    // happens to be free.
    let long = "shells landing near the school. ".repeat(400);
    for attempt in 0..3 {
        let run = journal.run(
            &["record"],
            &format!(r#"{{"kind":"violation","category":"shelling","method":"heard","narrative":"{attempt} {long}"}}"#),
        );
        let run = run.no_panic();
        assert_ne!(
            run.code,
            Some(0),
            "saving on a full disk reported success: {run:?}"
        );
        assert!(
            run.stderr.contains("disk is full"),
            "saving on a full disk must say the disk is full; stderr was:\n{}",
            run.stderr
        );
    }
    std::fs::remove_file(&filler).expect("free the space");

    // Earlier records are intact, the journal is healthy, and saving works again.
    assert_eq!(
        journal.list_raw(),
        before,
        "records changed after a failed save"
    );
    assert_eq!(journal.run(&["check"], "").ok().stdout, "ok\n");
    let after = journal.record(r#"{"kind":"incident","category":"mine_uxo","method":"seen"}"#);
    let listed = journal.list_raw();
    assert_eq!(listed.lines().count(), 6);
    for id in ids.iter().chain(std::iter::once(&after)) {
        assert!(
            listed.contains(id.as_str()),
            "record {id} is missing after the disk was full"
        );
    }
}

/// An import that runs out of disk stops with a clear error, keeps exactly the bundles it
/// reported, and imports the rest when run again once space returns.
#[test]
fn disk_full_import_stops_clearly_keeps_what_it_reported_and_resumes() {
    let coordinator = Journal::new();
    let Some(_disk) = SmallDisk::mount(&coordinator.dir, "8m") else {
        return;
    };
    let mission = Mission::on(coordinator);
    let device = mission.device("Ana");
    let usb = device.scratch("usb");
    // Long narratives: a bundle compresses them, the journal holds them whole.
    let long = "Artillery fire from the north-east ridge towards the river crossing. ".repeat(40);
    let mut bundles = Vec::new();
    for b in 0..4 {
        for i in 0..5 {
            device.record(&format!(
                r#"{{"kind":"violation","category":"shelling","method":"heard","narrative":"{b}.{i} {long}"}}"#
            ));
        }
        let run = device.run(&["export", "--out", path_str(&usb)], "").ok();
        bundles.push(std::path::PathBuf::from(run.single_line()));
    }

    let filler = mission.coordinator.dir.join("filler");
    fill(&filler);
    // Room to open the journal (its WAL index and the first WAL pages), not to import it all.
    let full = std::fs::metadata(&filler).expect("filler").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .and_then(|f| f.set_len(full.saturating_sub(96 * 1024)))
        .expect("free a little space");
    let (run, report) = mission.import(&bundles);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("disk is full") && run.stderr.contains("import stopped after"),
        "the import must say the disk is full and how far it got:\n{}",
        run.stderr
    );
    assert!(report.len() < bundles.len(), "{}", run.stdout);
    let reported: u64 = report
        .iter()
        .map(|r| r["new_entries"].as_u64().expect("count"))
        .sum();
    std::fs::remove_file(&filler).expect("free the space");
    assert_eq!(
        mission.state().len() as u64,
        reported,
        "the coordinator holds exactly what the import reported"
    );
    assert_eq!(mission.coordinator.run(&["check"], "").ok().stdout, "ok\n");

    let (run, again) = mission.import(&bundles);
    run.ok();
    assert_eq!(again.len(), bundles.len());
    let new: u64 = again
        .iter()
        .map(|r| r["new_entries"].as_u64().expect("count"))
        .sum();
    assert_eq!(new + reported, 20, "the second run imports the rest");
    assert_eq!(mission.state().len(), 20);
}

/// The WAL a crash leaves behind: a byte flipped in a transaction that later transactions
/// follow is reported as damage, by `check` and by any command that opens the journal, and
/// never replayed into a journal that silently lacks acknowledged records.
#[test]
fn tampered_wal_left_by_a_crash_is_reported() {
    let journal = Journal::created("Ana Tampered WAL");
    let mut child = start_recorder(&recorder_bin(), &journal);
    let stdout = child.stdout.take().expect("stdout");
    let mut acknowledged = Vec::new();
    for line in BufReader::new(stdout).lines() {
        acknowledged.push(line.expect("a line"));
        if acknowledged.len() == 40 {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert_eq!(acknowledged.len(), 40, "the recorder stopped early");

    let wal = journal.path("journal.db-wal");
    let bytes = std::fs::read(&wal).expect("the crash leaves the WAL behind");
    let page_size = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let frames = (bytes.len() - 32) / (24 + page_size);
    assert!(frames >= 40, "one frame per record at least, got {frames}");
    // The journal's own files; the attachments folder the recorder filled stays as it is.
    let pristine = journal.scratch("pristine");
    let files_of = |dir: &std::path::Path| -> Vec<String> {
        crate::harness::names_in(dir)
            .into_iter()
            .filter(|name| dir.join(name).is_file())
            .collect()
    };
    for name in files_of(&journal.dir) {
        std::fs::copy(journal.path(&name), pristine.join(&name)).expect("copy");
    }
    let restore = || {
        for name in files_of(&journal.dir) {
            std::fs::remove_file(journal.path(&name)).expect("clear");
        }
        for name in crate::harness::names_in(&pristine) {
            std::fs::copy(pristine.join(&name), journal.path(&name)).expect("restore");
        }
    };

    // A byte in the page of an early frame, in the middle, and in a frame header.
    let frame_at = |n: usize| 32 + (n - 1) * (24 + page_size);
    for (what, offset) in [
        ("page of frame 3", frame_at(3) + 24 + page_size / 2),
        ("page of the middle frame", frame_at(frames / 2) + 24 + 7),
        ("header of frame 5", frame_at(5) + 2),
    ] {
        restore();
        let mut damaged = bytes.clone();
        damaged[offset] ^= 0x20;
        std::fs::write(&wal, &damaged).expect("flip");
        for args in [&["check"][..], &["list", "--json"][..]] {
            let run = journal.run(args, "").no_panic();
            assert_eq!(
                run.code,
                Some(1),
                "{what} flipped: `{args:?}` must fail as damage: {run:?}"
            );
            assert!(
                run.stderr.contains("journal damaged") && run.stderr.contains("write-ahead log"),
                "{what} flipped: the error must say the write-ahead log is damaged: {}",
                run.stderr
            );
            assert!(
                run.stdout.is_empty(),
                "{what}: nothing may be listed: {}",
                run.stdout
            );
        }
        assert_eq!(
            std::fs::read(&wal).expect("the WAL is still there"),
            damaged,
            "{what}: a refused journal must be left exactly as found"
        );
    }

    // The WAL as the crash left it replays in full.
    restore();
    let listed = journal.list_raw();
    for id in &acknowledged {
        assert!(
            listed.contains(id.as_str()),
            "acknowledged record {id} was lost"
        );
    }
    assert_eq!(journal.run(&["check"], "").ok().stdout, "ok\n");
}

/// A passphrase change needs free space about the size of the journal (the log holds a copy of
/// every page while the database is re-encrypted). Without it the change fails clearly, the
/// old passphrase still opens the whole journal, and no next key file is left behind.
#[test]
fn disk_full_passwd_fails_clearly_and_changes_nothing() {
    let journal = Journal::new();
    let Some(_disk) = SmallDisk::mount(&journal.dir, "6m") else {
        return;
    };
    journal.init("Ana Passwd Disk Full");
    let long = "shells landing near the school. ".repeat(100);
    for i in 0..100 {
        journal.record(&format!(
            r#"{{"kind":"violation","category":"shelling","method":"heard","narrative":"{i} {long}"}}"#
        ));
    }
    let before = journal.list_raw();
    let filler = journal.dir.join("filler");
    fill(&filler);
    // Room for the next key file and a few pages, not for a copy of the database.
    let full = std::fs::metadata(&filler).expect("filler").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .and_then(|f| f.set_len(full.saturating_sub(96 * 1024)))
        .expect("free a little space");
    let database = std::fs::metadata(journal.path("journal.db"))
        .expect("database")
        .len();
    assert!(
        database > 4 * 96 * 1024,
        "the database ({database} bytes) must not fit"
    );

    let run = journal
        .run_env(
            &["passwd"],
            "",
            &[("TRUCE_NEW_PASSPHRASE", "a whole new passphrase")],
        )
        .no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("passphrase is unchanged") && run.stderr.contains("free disk space"),
        "passwd must say that nothing changed, and why:\n{}",
        run.stderr
    );
    assert!(!journal.path("journal.key.next").exists());
    std::fs::remove_file(&filler).expect("free the space");
    assert_eq!(
        journal.list_raw(),
        before,
        "the old passphrase opens it all"
    );
    assert_eq!(journal.run(&["check"], "").ok().stdout, "ok\n");
}

/// `truce attach` killed at random moments: the journal always opens and passes `check`
/// (every attachment a record names is stored whole and matches its hash), and each attach
/// either saved its revision, naming the file, or saved nothing.
#[test]
fn attach_killed_anywhere_never_leaves_a_record_naming_a_half_stored_file() {
    let kills = crash_kills();
    let journal = Journal::created("Ana Attach Killed");
    let id = journal.record(MINIMAL);
    let photos = journal.scratch("camera");
    let photo = |round: u32| {
        let path = photos.join(format!("IMG_{round:04}.JPG"));
        let mut bytes =
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
        bytes.extend(
            (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ round as u8),
        );
        std::fs::write(&path, bytes).expect("photo");
        path
    };
    let attach = |file: &std::path::Path| {
        let mut cmd = Command::new(truce_tests::truce_bin());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("TRUCE_") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("--data-dir")
            .arg(&journal.dir)
            .args(["attach", &id])
            .arg(file)
            .env("HOME", journal.scratch("home"))
            .env("TRUCE_INSECURE_KDF_WORK_FACTOR", "10")
            .env("TRUCE_PASSPHRASE", &journal.passphrase)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let started = Instant::now();
    assert!(attach(&photo(9999)).status().expect("attach").success());
    let whole = started.elapsed().as_micros() as u64 + 1;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("attach crash test seed {seed}, {kills} kills within {whole} µs");
    let mut named = 1;
    for round in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_micros(seed % whole);
        let mut child = attach(&photo(round)).spawn().expect("start attach");
        std::thread::sleep(after);
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let check = journal.run(&["check"], "").no_panic();
        assert_eq!(
            check.code,
            Some(0),
            "round {round} (seed {seed}, killed after {after:?}): {}",
            check.stderr
        );
        let attachments = journal.show(&id)["current"]["attachments"]
            .as_array()
            .map_or(0, Vec::len);
        assert!(
            attachments == named || attachments == named + 1,
            "round {round}: {attachments} attachments after {named}"
        );
        named = attachments;
    }
}

/// A photo-like file of about 300 kB (JPEG magic, then bytes that differ per `n`).
fn photo_of(dir: &std::path::Path, n: u32) -> std::path::PathBuf {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    bytes.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut x = n.wrapping_mul(2_654_435_761).wrapping_add(1);
    bytes.extend((0..300_000).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    let path = dir.join(format!("IMG_{n:04}.JPG"));
    std::fs::write(&path, bytes).expect("photo");
    path
}

/// The mission caps bundles at 1 MiB, so seven records of a 300 kB photo each go in bundles
/// of three. On a stick that fills after the first: a clear "disk is full", the finished
/// bundle stays whole and counted as exported, nothing half-written is left, and the next
/// export (another stick) writes the rest; the coordinator then holds every entry, no gap.
#[test]
fn a_stick_that_fills_mid_export_keeps_the_finished_bundles_and_no_partial_one() {
    let coordinator = Journal::coordinator();
    let profile = coordinator.create_profile_from(
        "East",
        &serde_json::json!({"limits": {"bundle_max_bytes": 1_048_576}}),
    );
    let device = Journal::with_profile("Ana", &profile);
    let camera = device.scratch("camera");
    for n in 0..7 {
        let photo = photo_of(&camera, n);
        device.record_attaching(&photo);
    }
    let stick = device.scratch("stick");
    let Some(_disk) = SmallDisk::mount(&stick, "1400k") else {
        return;
    };
    let run = device
        .run(&["export", "--out", path_str(&stick)], "")
        .no_panic();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("disk is full"), "{}", run.stderr);
    let written: Vec<String> = run.stdout.lines().map(str::to_owned).collect();
    assert_eq!(
        written.len(),
        1,
        "the first bundle was finished: {written:?}"
    );
    let on_stick: Vec<String> = std::fs::read_dir(&stick)
        .expect("stick")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    assert_eq!(
        on_stick, written,
        "only the finished bundle, no partial file"
    );

    let second = device.scratch("second-stick");
    let rest: Vec<String> = device
        .run(&["export", "--out", path_str(&second)], "")
        .ok()
        .stdout
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(rest.len(), 2, "entries 4-6 and 7: {rest:?}");
    let mut all = written.clone();
    all.extend(rest);
    for bundle in &all {
        assert!(
            std::fs::metadata(bundle).expect("bundle").len() <= 1_048_576,
            "{bundle} is over the mission's limit"
        );
    }
    let mut import = vec!["import", "--json"];
    import.extend(all.iter().map(String::as_str));
    let report = coordinator.run(&import, "").ok().stdout;
    assert_eq!(report.matches("\"new_entries\":3").count(), 2, "{report}");
    assert_eq!(report.matches("\"new_entries\":1").count(), 1, "{report}");
    assert!(!report.contains("\"refused\":\""), "{report}");
}
