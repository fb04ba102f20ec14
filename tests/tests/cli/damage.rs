//! Damaged journal files are reported as damage (exit 1), never read as if healthy, never a panic.

use serde_json::json;
use truce_tests::{copy_files, flip_byte};

use crate::harness::{assert_same_files, names_in, Journal, Run};

/// SQLCipher 4's default page size.
const PAGE_SIZE: usize = 4096;

#[test]
fn damaged_key_file_is_reported() {
    let journal = Journal::created("Ana Key Damage");
    journal.record(r#"{"kind":"violation","category":"shelling","method":"heard"}"#);
    let key = journal.path("journal.key");
    let good = std::fs::read(&key).expect("read key file");

    for (what, offset) in [
        ("the middle", good.len() / 2),
        ("the header", 3),
        ("the last byte", good.len() - 1),
    ] {
        std::fs::write(&key, &good).expect("restore key file");
        flip_byte(&key, offset);
        let before = journal.files();
        for args in [vec!["list"], vec!["check"]] {
            journal
                .run(&args, "")
                .fails(1)
                .no_stdout()
                .stderr_has("journal damaged")
                .stderr_has("key file");
        }
        assert_same_files(
            &before,
            &journal.files(),
            &format!("after reading a key file flipped in {what}"),
        );
    }

    // A truncated or empty key file, too.
    for len in [good.len() - 10, 0] {
        std::fs::write(&key, &good[..len]).expect("truncate key file");
        journal
            .run(&["list"], "")
            .fails(1)
            .no_stdout()
            .stderr_has("journal damaged");
    }

    // Restored, the journal opens again: the damage reports changed nothing.
    std::fs::write(&key, &good).expect("restore key file");
    assert_eq!(journal.list().len(), 1);
}

/// How a command treated a damaged database.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Exit 1, nothing on stdout, stderr starts with `error:` and says the journal is damaged.
    Damage,
    /// Exit 0 with exactly the output of the healthy journal (pages it did not need).
    Healthy,
}

/// Judges one run on a damaged database: reporting damage is always right; success is right
/// only with exactly `healthy_stdout` (when given). Anything else (another error, a panic, a
/// stray line on stderr, success with other output) is described in the Err.
fn judge(run: &Run, healthy_stdout: Option<&str>) -> Result<Verdict, String> {
    let describe = |why: &str| {
        format!(
            "`{}` {why}; it exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            run.what, run.code, run.stdout, run.stderr
        )
    };
    if run.stderr.contains("panicked") {
        return Err(describe("panicked"));
    }
    match run.code {
        Some(0) => match healthy_stdout {
            Some(healthy) if run.stdout == healthy => Ok(Verdict::Healthy),
            Some(_) => Err(describe("succeeded with output that differs from the healthy journal's")),
            None => Err(describe("reported success on a damaged database")),
        },
        Some(1) if run.stdout.is_empty() && run.stderr.starts_with("error:") && run.stderr.contains("journal damaged") => {
            Ok(Verdict::Damage)
        }
        _ => Err(describe(
            "must fail with exit 1, nothing on stdout, and a stderr that starts with `error:` and says `journal damaged`",
        )),
    }
}

#[test]
fn damaged_database_is_reported() {
    let journal = Journal::created("Ana Database Damage");
    for i in 0..12 {
        let narrative = format!(
            "Observation {i}: {}",
            "impacts heard to the north-east. ".repeat(20)
        );
        journal.record(
            &json!({
                "kind": "violation", "category": "shelling", "method": "heard",
                "observed_at": format!("2026-03-01T{:02}:00:00+03:00", i + 1),
                "narrative": narrative,
            })
            .to_string(),
        );
    }
    let healthy = journal.list_raw();
    assert_eq!(healthy.lines().count(), 12);
    assert_eq!(journal.run(&["check"], "").ok().stdout, "ok\n");
    // The last connection checkpoints the WAL into the database and removes it; the byte flips
    // below rely on that to hit the pages that hold the data.
    let wal = journal.path("journal.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).expect("metadata").len() == 0,
        "the WAL still holds pages after the last connection closed"
    );
    let pristine = journal.scratch("pristine");
    copy_files(&journal.dir, &pristine);

    let size = std::fs::metadata(journal.path("journal.db"))
        .expect("metadata")
        .len() as usize;
    let pages = size / PAGE_SIZE;
    assert!(
        pages >= 3 && size.is_multiple_of(PAGE_SIZE),
        "unexpected database size {size}"
    );

    // Page 2 first, then every other page, each flipped on a fresh copy of the healthy journal.
    // `check` runs the full integrity checks, so it must report damage in any page; `list` must
    // report it or, if it never read that page, print exactly what it printed before.
    let mut problems = Vec::new();
    for page in std::iter::once(2).chain((1..=pages).filter(|p| *p != 2)) {
        for name in names_in(&journal.dir) {
            std::fs::remove_file(journal.path(&name)).expect("clear data dir");
        }
        copy_files(&pristine, &journal.dir);
        flip_byte(
            &journal.path("journal.db"),
            (page - 1) * PAGE_SIZE + PAGE_SIZE / 2,
        );

        let check = journal.run(&["check"], "");
        if let Err(e) = judge(&check, None) {
            problems.push(format!("byte flipped in page {page} of {pages}: {e}"));
        }
        let list = journal.run(&["list", "--json"], "");
        if let Err(e) = judge(&list, Some(&healthy)) {
            problems.push(format!("byte flipped in page {page} of {pages}: {e}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
