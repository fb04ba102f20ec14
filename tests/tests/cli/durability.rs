//! Crash durability: a recorder killed with SIGKILL at random moments never loses a record it
//! acknowledged, and the journal always opens and passes both integrity checks.
//!
//! 20 kills by default; set TRUCE_CRASH_KILLS (e.g. 1000) for a long run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Journal;

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

#[test]
fn killed_mid_write_nothing_acknowledged_is_lost() {
    let kills: u32 = std::env::var("TRUCE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let journal = Journal::created("Ana");
    let recorder = recorder_bin();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("crash test seed {seed}, {kills} kills");
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_millis(20 + seed % 300);
        let mut child = Command::new(&recorder)
            .arg(&journal.dir)
            .env("TRUCE_PASSPHRASE", &journal.passphrase)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the recorder");
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
    }
    assert!(
        acknowledged.len() as u32 >= kills,
        "the recorder saved something in most rounds ({} records)",
        acknowledged.len()
    );
}
