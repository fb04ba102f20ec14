//! What the journal leaves on disk: nothing readable without the key, nothing changed by a
//! wrong passphrase, and a passphrase change that re-encrypts the journal, so that an old key
//! file opens nothing, and that a crash at any point leaves openable.

use std::path::Path;

use truce_tests::{contains_bytes, files_under, unique_marker};

use crate::harness::{assert_same_files, Journal, MINIMAL};

/// The first bytes of every plain SQLite 3 database.
const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";

#[test]
fn wrong_passphrase_changes_nothing() {
    let journal = Journal::created("Ana Wrong");
    let id = journal.record(MINIMAL);
    let listed = journal.list_raw();
    let before = journal.files();

    let env = [
        ("TRUCE_PASSPHRASE", "correct horse battery stapler"),
        ("TRUCE_NEW_PASSPHRASE", "another long passphrase"),
    ];
    for args in [
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", id.as_str()],
        vec!["status"],
        vec!["check"],
        vec!["passwd"],
        vec!["record"],
        vec!["amend", id.as_str()],
    ] {
        let stdin = match args[0] {
            "record" => MINIMAL,
            "amend" => r#"{"severity":5}"#,
            _ => "",
        };
        journal
            .run_env(&args, stdin, &env)
            .fails(1)
            .no_stdout()
            .stderr_has("wrong passphrase");
        assert_same_files(
            &before,
            &journal.files(),
            &format!("after `truce {}` with a wrong passphrase", args.join(" ")),
        );
    }
    // The right passphrase still opens the same journal.
    assert_eq!(journal.list_raw(), listed);
}

/// Panics if `marker` occurs in any file under `dir`, or if a file looks like plain SQLite.
fn assert_no_plaintext(dir: &Path, markers: &[&str], moment: &str) {
    let files = files_under(dir);
    assert!(
        !files.is_empty(),
        "{moment}: no files to scan in {}",
        dir.display()
    );
    for path in files {
        let bytes = std::fs::read(&path).expect("read a journal file");
        for marker in markers {
            assert!(
                !contains_bytes(&bytes, marker.as_bytes()),
                "{moment}: {} holds the plaintext {marker:?}",
                path.display()
            );
        }
        assert!(
            !bytes.starts_with(SQLITE_HEADER),
            "{moment}: {} is a plain SQLite file",
            path.display()
        );
    }
}

#[test]
fn no_plaintext_on_disk() {
    let observer = unique_marker("observer");
    let team = unique_marker("team");
    let narrative = unique_marker("narrative");
    let place = unique_marker("place");
    let amended = unique_marker("amended");
    let journal = Journal::new();
    journal
        .run(&["init", "--observer", &observer, "--team", &team], "")
        .ok();
    assert_no_plaintext(&journal.dir, &[&observer, &team], "after init");

    let id = journal.record(
        &serde_json::json!({
            "kind": "violation", "category": "shelling", "method": "heard",
            "narrative": format!("Impacts near the school. {narrative}"), "place": place,
        })
        .to_string(),
    );
    let markers = [
        observer.as_str(),
        team.as_str(),
        narrative.as_str(),
        place.as_str(),
        amended.as_str(),
    ];
    assert_no_plaintext(&journal.dir, &markers, "after record");

    // Sanity check of the scan itself: the marker is really in the journal.
    let listed = journal.list_raw();
    assert!(
        listed.contains(&narrative) && listed.contains(&observer),
        "{listed}"
    );
    assert_no_plaintext(&journal.dir, &markers, "after list");

    journal
        .run(
            &["amend", &id],
            &serde_json::json!({ "narrative": amended }).to_string(),
        )
        .ok();
    assert!(journal.list_raw().contains(&amended));
    journal.run(&["check"], "").ok();
    assert_no_plaintext(&journal.dir, &markers, "after amend, list and check");
}

#[cfg(unix)]
#[test]
fn journal_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let journal = Journal::created("Ana Private");
    journal.record(MINIMAL);
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&journal.dir), 0o700, "the data directory is private");
    for path in files_under(&journal.dir) {
        assert_eq!(mode(&path), 0o600, "{} is private", path.display());
    }
}

#[test]
fn plain_sqlite_cannot_read_the_database() {
    let journal = Journal::created("Ana Sqlite");
    journal.record(MINIMAL);
    let listed = journal.list_raw();
    let database = journal.path("journal.db");
    let before = journal.files();

    // rusqlite is built with SQLCipher; without `PRAGMA key` it is a plain SQLite client.
    {
        let conn = rusqlite::Connection::open_with_flags(
            &database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("opening succeeds; reading must not");
        let result = conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        });
        let err = result.expect_err("the database must not be readable without the key");
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase),
            "unexpected error: {err}"
        );
    }

    // The stock sqlite3 client, if installed (CI installs it).
    match std::process::Command::new("sqlite3")
        .arg(&database)
        .arg("select count(*) from sqlite_master")
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) => {
            assert!(
                !out.status.success(),
                "sqlite3 read the journal without the key: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("not a database"),
                "sqlite3 failed for another reason: {stderr}"
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "sqlite3 is not installed, but CI must install it"
            );
            eprintln!("note: sqlite3 is not on PATH; checked with rusqlite only");
        }
        Err(e) => panic!("cannot run sqlite3: {e}"),
    }

    // The failed attempts changed nothing, and the journal still opens with its key.
    assert_same_files(
        &before,
        &journal.files(),
        "after plain SQLite clients tried to read it",
    );
    assert_eq!(journal.list_raw(), listed);
}

#[test]
fn passwd_re_encrypts_so_an_old_key_file_opens_nothing() {
    let mut journal = Journal::created("Ana Passwd");
    for _ in 0..3 {
        journal.record(MINIMAL);
    }
    let listed = journal.list_raw();
    let database = std::fs::read(journal.path("journal.db")).expect("read database");
    // A copy of the key file, as a backup or a seized stick might hold.
    let aside = journal.scratch("aside");
    std::fs::copy(journal.path("journal.key"), aside.join("journal.key")).expect("copy aside");
    let new_passphrase = "a whole new passphrase";

    // A new passphrase that is too short is refused and changes nothing.
    let before = journal.files();
    journal
        .run_env(&["passwd"], "", &[("TRUCE_NEW_PASSPHRASE", "short")])
        .fails(1)
        .no_stdout()
        .stderr_has("at least 8");
    assert_same_files(&before, &journal.files(), "after a refused passwd");

    journal
        .run_env(&["passwd"], "", &[("TRUCE_NEW_PASSPHRASE", new_passphrase)])
        .ok()
        .no_stdout()
        .stderr_has("re-encrypted with a new key");

    assert_ne!(
        std::fs::read(journal.path("journal.db")).expect("read database"),
        database,
        "passwd re-encrypts the database"
    );
    let new_key = std::fs::read(journal.path("journal.key")).expect("read key file");
    assert_ne!(
        new_key,
        std::fs::read(aside.join("journal.key")).expect("read the copy"),
        "passwd writes a new key file"
    );
    let leftovers: Vec<_> = files_under(&journal.dir)
        .into_iter()
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.contains(".tmp") || n.ends_with(".next")
            })
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary or next key files left behind: {leftovers:?}"
    );

    // The old passphrase fails on the new key file.
    journal
        .run(&["list", "--json"], "")
        .fails(1)
        .no_stdout()
        .stderr_has("wrong passphrase");
    // The old key file with the old passphrase unwraps the old key, which no longer decrypts
    // the database.
    std::fs::copy(aside.join("journal.key"), journal.path("journal.key")).expect("old key back");
    for args in [vec!["list", "--json"], vec!["check"]] {
        journal
            .run(&args, "")
            .fails(1)
            .no_stdout()
            .stderr_has("journal damaged");
    }
    // The new key file and the new passphrase open the same journal, whole.
    std::fs::write(journal.path("journal.key"), &new_key).expect("new key back");
    journal.passphrase = new_passphrase.to_owned();
    assert_eq!(journal.list_raw(), listed);
    journal.run(&["check"], "").ok();
    journal.record(MINIMAL);
    assert_eq!(journal.list().len(), 4);
}

/// The two states a crash (SIGKILL) during `truce passwd` leaves on disk: the next key file
/// beside the old key file, with the database under its old key (before the rekey) or its new
/// one (after). They are rebuilt from a copy of the journal whose passphrase changed to the end.
#[test]
fn passwd_interrupted_before_or_after_the_rekey_opens_with_one_passphrase() {
    let new_passphrase = "a whole new passphrase";
    let journal = Journal::created("Ana Interrupted");
    for _ in 0..3 {
        journal.record(MINIMAL);
    }
    let listed = journal.list_raw();
    let old_key = std::fs::read(journal.path("journal.key")).expect("read key file");
    let changed = Journal::new();
    std::fs::create_dir(&changed.dir).expect("data directory");
    truce_tests::copy_files(&journal.dir, &changed.dir);
    changed
        .run_env(&["passwd"], "", &[("TRUCE_NEW_PASSPHRASE", new_passphrase)])
        .ok();
    let next_key = std::fs::read(changed.path("journal.key")).expect("read key file");

    let state = |database: &Path| {
        let state = Journal::new();
        std::fs::create_dir(&state.dir).expect("data directory");
        std::fs::copy(database, state.path("journal.db")).expect("copy the database");
        std::fs::write(state.path("journal.key"), &old_key).expect("key file");
        std::fs::write(state.path("journal.key.next"), &next_key).expect("next key file");
        state
    };
    let old_passphrase = journal.passphrase.as_str();
    for (mut state, opens, refused, says, finished) in [
        (
            state(&journal.path("journal.db")),
            old_passphrase,
            new_passphrase,
            "interrupted before it took effect",
            false,
        ),
        (
            state(&changed.path("journal.db")),
            new_passphrase,
            old_passphrase,
            "interrupted after it took effect",
            true,
        ),
    ] {
        let untouched = state.files();
        state.passphrase = refused.to_owned();
        state
            .run(&["list", "--json"], "")
            .fails(1)
            .no_stdout()
            .stderr_has(says);
        assert_same_files(&untouched, &state.files(), "after an unlock that failed");
        state.passphrase = opens.to_owned();
        assert_eq!(state.list_raw(), listed, "{says}");
        state.run(&["check"], "").ok();
        // Opening with the new passphrase finishes the change: the next key file is the key
        // file now. Before the rekey, it stays until the next change replaces it.
        assert_eq!(state.path("journal.key.next").exists(), !finished, "{says}");
        let key = std::fs::read(state.path("journal.key")).expect("read key file");
        let expected = if finished { &next_key } else { &old_key };
        assert!(key == *expected, "{says}");
    }
}
