//! The journal's use cases end to end on real encrypted journals in temporary folders.

use super::check::ChainCheck;
use super::key_switch::PasswdStep;
use super::*;
use serde_json::{Map, Value};
use truce_sync::profile::MissionProfile;
use truce_sync::ObservationRevision;

const FAST: KdfCost = KdfCost::WorkFactor(10);

fn pass(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn profile() -> Profile {
    Profile {
        observer: " Ana ".into(),
        team: Some("Team 3".into()),
        role: Role::Monitor,
    }
}

fn obj(json: &str) -> Map<String, Value> {
    truce_sync::parse_object(json).expect("object")
}

#[test]
fn a_coordinators_own_profile_takes_effect_at_once_and_after_unlock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let coordinator = Profile {
        role: Role::Coordinator,
        ..profile()
    };
    let mut journal =
        Journal::init(dir.path(), &pass("correct horse"), coordinator, FAST).expect("init");
    assert!(!journal.taxonomy().has_category("drone_strike"));
    let mut template = MissionProfile::new("Test", uuid::Uuid::nil(), now(), vec![]);
    template
        .taxonomy
        .categories
        .push(truce_sync::taxonomy::Code {
            code: "drone_strike".into(),
            label: "Drone strike".into(),
        });
    journal
        .create_profile("Test mission", &[], Some(template))
        .expect("profile");
    assert!(journal.taxonomy().has_category("drone_strike"));
    let installed = journal.profile().expect("profile").expect("installed");
    assert_eq!(installed.profile.mission, "Test mission");
    drop(journal);
    let journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
    assert!(journal.taxonomy().has_category("drone_strike"));
    assert_eq!(
        journal.profile().expect("profile").map(|p| p.text),
        Some(installed.text)
    );
}

#[test]
fn init_record_reopen_amend() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal =
        Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
    assert_eq!(journal.device().observer, "Ana");
    let saved = journal
        .record(obj(
            r#"{"kind":"violation","category":"shelling","method":"heard"}"#,
        ))
        .expect("record");
    drop(journal);

    assert!(matches!(
        Journal::init(dir.path(), &pass("correct horse"), profile(), FAST),
        Err(JournalError::AlreadyExists(_))
    ));
    assert!(matches!(
        Journal::open(dir.path(), &pass("wrong horse")),
        Err(JournalError::WrongPassphrase(_))
    ));

    let mut journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
    let id = saved.observation.id.to_string();
    let amended = journal
        .amend(&id[..13], obj(r#"{"severity":3}"#))
        .expect("amend");
    assert_eq!(amended.revision, 2);
    let history = journal.show(&id).expect("show");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].observation.severity, None);
    assert_eq!(history[1].observation.severity, Some(3));
    assert!(journal.check().expect("check").is_empty());
}

fn record_some(journal: &mut Journal, n: usize) {
    for i in 0..n {
        journal
            .record(obj(&format!(
                r#"{{"kind":"violation","category":"shelling","method":"heard","narrative":"impact {i}"}}"#
            )))
            .expect("record");
    }
}

/// Every observation with its history, to compare journals by.
fn contents(journal: &Journal) -> Vec<Vec<ObservationRevision>> {
    journal
        .list(None)
        .expect("list")
        .iter()
        .map(|rev| journal.show(&rev.observation.id.to_string()).expect("show"))
        .collect()
}

/// The files of a data directory and their bytes, without SQLite's shared-memory index
/// (rebuilt from the log by whoever opens the database first; it holds no data).
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .filter(|p| !p.to_string_lossy().ends_with("-shm"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect()
}

#[test]
fn passphrase_change_re_encrypts_the_database_with_a_fresh_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal =
        Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
    record_some(&mut journal, 3);
    let before = contents(&journal);
    let paths = journal.paths().clone();
    let old_key_file = std::fs::read(&paths.key_file).expect("key file");
    assert!(matches!(
        journal.change_passphrase(&pass("short"), FAST),
        Err(JournalError::Refused(_))
    ));
    journal
        .change_passphrase(&pass("battery staple"), FAST)
        .expect("passwd");
    // The open journal carries on under the new key.
    assert_eq!(contents(&journal), before);
    record_some(&mut journal, 1);
    let after = contents(&journal);
    assert_eq!(after.len(), 4);
    let new_key = keyfile::read(&paths.key_file, &pass("battery staple")).expect("new key");
    assert!(new_key.same_key(&journal.key));
    assert!(journal.confirm_passphrase(&pass("battery staple")).is_ok());
    assert!(matches!(
        journal.confirm_passphrase(&pass("correct horse")),
        Err(JournalError::WrongPassphrase(_))
    ));
    drop(journal);

    let left: Vec<_> = files(dir.path()).into_keys().collect();
    assert_eq!(left, vec![DATABASE_FILE.to_owned(), KEY_FILE.to_owned()]);
    let new_key_file = std::fs::read(&paths.key_file).expect("key file");
    assert_ne!(new_key_file, old_key_file);
    assert!(matches!(
        Journal::open(dir.path(), &pass("correct horse")),
        Err(JournalError::WrongPassphrase(_))
    ));
    // The old key file with the old passphrase unwraps the old key, which opens nothing.
    std::fs::write(&paths.key_file, &old_key_file).expect("old key file back");
    assert!(matches!(
        Journal::open(dir.path(), &pass("correct horse")),
        Err(JournalError::Damaged(_))
    ));
    std::fs::write(&paths.key_file, &new_key_file).expect("new key file back");
    let journal = Journal::open(dir.path(), &pass("battery staple")).expect("new opens");
    assert_eq!(contents(&journal), after);
    assert!(journal.check().expect("check").is_empty());
}

#[test]
fn passphrase_change_keeps_the_key_file_version_and_page_settings() {
    use keyfile::{PageAuth, PageSize};
    let cases = [
        (
            DatabaseKey::generate(PageSize::Standard)
                .expect("random")
                .with_page_auth(PageAuth::HmacSha512),
            "truce-journal-key v1\n",
        ),
        (
            DatabaseKey::generate(PageSize::Standard)
                .expect("random")
                .with_page_auth(PageAuth::HmacSha256),
            "truce-journal-key v2\npage-auth hmac-sha256\n",
        ),
        (
            DatabaseKey::generate(PageSize::Large).expect("random"),
            "truce-journal-key v4\npage-auth hmac-sha256\npage-size 16384\n",
        ),
    ];
    for (key, header) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = JournalPaths::new(dir.path());
        let device = DeviceIdentity {
            device_id: Uuid::now_v7(),
            observer: "Ana".into(),
            team: None,
            role: Role::Monitor,
            signing_key: DeviceSigningKey::from_bytes(&[7u8; 32]),
            created_at: now().to_rfc3339(),
        };
        drop(Store::create(&paths.database, &key, &device).expect("create"));
        keyfile::write(&paths.key_file, &key, &pass("correct horse"), FAST).expect("key");
        let mut journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
        record_some(&mut journal, 2);
        journal
            .change_passphrase(&pass("battery staple"), FAST)
            .expect("passwd");
        drop(journal);
        let bytes = std::fs::read(&paths.key_file).expect("key file");
        assert!(bytes.starts_with(header.as_bytes()), "{header}");
        let back = keyfile::read(&paths.key_file, &pass("battery staple")).expect("unwraps");
        assert_eq!(
            (back.page_auth(), back.page_size()),
            (key.page_auth(), key.page_size())
        );
        assert!(!back.same_key(&key), "a fresh key");
        let journal = Journal::open(dir.path(), &pass("battery staple")).expect("opens");
        assert_eq!(journal.count().expect("count"), 2);
        assert!(journal.check().expect("check").is_empty());
    }
}

/// Copies every file of `from` into a new folder: the disk as a crash (SIGKILL) at this
/// moment would leave it, connections and all.
fn crash_image(from: &Path) -> tempfile::TempDir {
    let image = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(from).expect("ls") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, image.path().join(path.file_name().expect("name"))).expect("copy");
    }
    image
}

#[test]
fn a_passphrase_change_interrupted_anywhere_opens_with_one_of_the_two_passphrases() {
    let (old, new) = (pass("correct horse"), pass("battery staple"));
    // Where the change stops, whether to tear its last frame off the log (a crash while
    // the re-encryption was being committed), and whether the new passphrase opens then.
    let cases = [
        (PasswdStep::NextKeyFileWritten, false, false),
        (PasswdStep::Rekeyed, true, false),
        (PasswdStep::Rekeyed, false, true),
        (PasswdStep::Checkpointed, false, true),
        (PasswdStep::Confirmed, false, true),
    ];
    for (step, torn, new_opens) in cases {
        let case = format!("stopped after {step:?}{}", if torn { ", torn" } else { "" });
        let dir = tempfile::tempdir().expect("tempdir");
        let role = if torn {
            Role::Coordinator
        } else {
            Role::Monitor
        };
        let mut journal =
            Journal::init(dir.path(), &old, Profile { role, ..profile() }, FAST).expect("init");
        record_some(&mut journal, 40);
        let first = journal.list(Some(1)).expect("list")[0].observation.id;
        journal
            .amend(&first.to_string(), obj(r#"{"severity":4}"#))
            .expect("amend");
        let before = contents(&journal);
        journal
            .change_passphrase_until(&new, FAST, Some(step))
            .expect(&case);
        let image = crash_image(dir.path());
        drop(journal);
        let paths = JournalPaths::new(image.path());
        assert!(paths.next_key_file.exists(), "{case}");
        if torn {
            let mut wal = paths.database.as_os_str().to_owned();
            wal.push("-wal");
            let len = std::fs::metadata(&wal).expect("wal").len();
            let frame = 24 + u64::from(keyfile::PageSize::Large.bytes());
            assert!(len > 32 + frame, "{case}: the log holds the rekey");
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&wal)
                .expect("wal");
            file.set_len(len - frame)
                .expect("tear the commit frame off");
        }

        let (winner, loser) = if new_opens {
            (&new, &old)
        } else {
            (&old, &new)
        };
        let untouched = files(image.path());
        let err = Journal::open(image.path(), loser).expect_err(&case);
        if new_opens {
            assert!(
                matches!(err, JournalError::PassphraseChanged(_)),
                "{case}: {err}"
            );
        } else {
            assert!(
                matches!(err, JournalError::PassphraseNotChanged(_)),
                "{case}: {err}"
            );
        }
        assert_eq!(
            files(image.path()),
            untouched,
            "{case}: the failed unlock changed files"
        );
        assert!(matches!(
            Journal::open(image.path(), &pass("neither of them")),
            Err(JournalError::WrongPassphrase(_))
        ));
        assert_eq!(
            files(image.path()),
            untouched,
            "{case}: a wrong passphrase changed files"
        );

        let mut journal = Journal::open(image.path(), winner).expect(&case);
        assert_eq!(contents(&journal), before, "{case}");
        let problems = journal.check().expect("check");
        assert!(problems.is_empty(), "{case}: {problems:?}");
        if new_opens {
            assert!(
                !paths.next_key_file.exists(),
                "{case}: the change was finished"
            );
            assert!(keyfile::read(&paths.key_file, &new).is_ok(), "{case}");
        } else {
            // The next key file of a change that never reached the database stays until
            // the next change replaces it.
            journal
                .change_passphrase(&pass("third passphrase"), FAST)
                .expect(&case);
            assert!(!paths.next_key_file.exists(), "{case}");
        }
        record_some(&mut journal, 1);
        drop(journal);
        let winner = if new_opens {
            new.clone()
        } else {
            pass("third passphrase")
        };
        let journal = Journal::open(image.path(), &winner).expect(&case);
        assert_eq!(
            journal.count().expect("count"),
            before.len() as u64 + 1,
            "{case}"
        );
    }
}

#[test]
fn wipe_leaves_nothing_that_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal =
        Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
    journal
        .record(obj(
            r#"{"kind":"incident","category":"mine_uxo","method":"seen"}"#,
        ))
        .expect("record");
    // An unfinished passphrase change: the next key file holds a key too.
    journal
        .change_passphrase_until(
            &pass("battery staple"),
            FAST,
            Some(PasswdStep::NextKeyFileWritten),
        )
        .expect("next key file");
    drop(journal);
    assert!(dir.path().join(NEXT_KEY_FILE).exists());
    std::fs::write(dir.path().join(SETTINGS_FILE), "{}").expect("settings");
    std::fs::write(dir.path().join(UNLOCK_FAILURES_FILE), "2").expect("failures");
    // What interrupted writes leave: temp files of the key files and of the settings, and
    // SQLite's rollback journal (kept while a database is created).
    for name in [
        ".journal.key.tmp-0a1b2c",
        ".journal.key.next.tmp-3d4e5f",
        ".settings.json.tmp-6a7b8c",
        ".unlock-failures.tmp-9d0e1f",
        "journal.db-journal",
    ] {
        std::fs::write(dir.path().join(name), "left behind").expect("leftover");
    }
    let report = Journal::wipe(dir.path()).expect("wipe");
    assert!(report.key_destroyed);
    assert!(report.files_removed >= 1);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(matches!(
        Journal::open(dir.path(), &pass("correct horse")),
        Err(JournalError::NotFound(_))
    ));
}

#[test]
fn drafts_survive_reopening_and_stay_encrypted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
    assert!(journal.draft().expect("draft").is_none());
    let marker = "draft-marker-7f3a9";
    journal
        .save_draft(&obj(&format!(
            r#"{{"kind":"violation","narrative":"{marker}"}}"#
        )))
        .expect("save");
    journal
        .save_draft(&obj(&format!(
            r#"{{"kind":"incident","narrative":"{marker} 2"}}"#
        )))
        .expect("replace");
    drop(journal);
    for entry in std::fs::read_dir(dir.path()).expect("ls") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "draft in plaintext on disk"
        );
    }
    let journal = Journal::open(dir.path(), &pass("correct horse")).expect("open");
    let (draft, _) = journal.draft().expect("draft").expect("kept");
    assert_eq!(draft["kind"], "incident");
    journal.discard_draft().expect("discard");
    assert!(journal.draft().expect("draft").is_none());
    assert_eq!(
        journal.count().expect("count"),
        0,
        "a draft is not a record"
    );
}

#[test]
fn unexported_observations_are_those_logged_after_the_last_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal =
        Journal::init(dir.path(), &pass("correct horse"), profile(), FAST).expect("init");
    let a = journal
        .record(obj(
            r#"{"kind":"incident","category":"mine_uxo","method":"seen"}"#,
        ))
        .expect("record")
        .observation
        .id;
    let b = journal
        .record(obj(
            r#"{"kind":"violation","category":"shelling","method":"heard"}"#,
        ))
        .expect("record")
        .observation
        .id;
    let other = Uuid::now_v7();
    let pending = journal.unexported_among(&[a, b, other]).expect("query");
    assert_eq!(pending.len(), 2);
    assert!(pending.contains(&a) && pending.contains(&b));
    // As if a bundle carried entries 1..=2 (the store records what `export` wrote).
    journal
        .store
        .record_export("bundle", &now().to_rfc3339(), (1, 2), "bundle.age", false)
        .expect("record the export");
    assert!(journal.unexported_among(&[a, b]).expect("query").is_empty());
    journal
        .amend(&a.to_string(), obj(r#"{"severity":2}"#))
        .expect("amend");
    let pending = journal.unexported_among(&[a, b]).expect("query");
    assert_eq!(
        pending.into_iter().collect::<Vec<_>>(),
        vec![a],
        "the amendment is new"
    );
    // A later range exported alone (entry 4) leaves the amendment (entry 3) pending.
    let c = journal
        .record(obj(
            r#"{"kind":"incident","category":"mine_uxo","method":"heard"}"#,
        ))
        .expect("record")
        .observation
        .id;
    journal
        .store
        .record_export("later", &now().to_rfc3339(), (4, 4), "later.age", false)
        .expect("record the export");
    let pending = journal.unexported_among(&[a, b, c]).expect("query");
    assert_eq!(pending.into_iter().collect::<Vec<_>>(), vec![a]);
    assert_eq!(journal.pending_export().expect("count"), 1);
    assert_eq!(journal.unexported_ranges().expect("ranges"), vec![(3, 3)]);
}

#[test]
fn bad_profiles_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = Profile {
        observer: "  ".into(),
        ..profile()
    };
    assert!(matches!(
        Journal::init(dir.path(), &pass("correct horse"), empty, FAST),
        Err(JournalError::Refused(_))
    ));
    assert!(matches!(
        Journal::init(dir.path(), &pass("short"), profile(), FAST),
        Err(JournalError::Refused(_))
    ));
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("ls").count(),
        0,
        "nothing written"
    );
}

#[test]
fn the_chain_check_finds_an_altered_record_and_a_broken_link() {
    use truce_sync::log::{EntryHash, LogEntry};
    let chain = |records: [&str; 3]| {
        let mut prev = EntryHash::GENESIS;
        let mut entries = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let entry = LogEntry::new(i as u64 + 1, prev, (*record).to_owned()).expect("entry");
            prev = entry.hash;
            entries.push(entry);
        }
        entries
    };
    let problems = |entries: &[LogEntry]| {
        let mut check = ChainCheck::default();
        let mut found = Vec::new();
        for entry in entries {
            check.entry("device A", &entry.into(), &mut found);
        }
        found
    };
    let good = chain([r#"{"a":1}"#, r#"{"a":2}"#, r#"{"a":3}"#]);
    assert!(problems(&good).is_empty());

    let mut altered = chain([r#"{"a":1}"#, r#"{"a":2}"#, r#"{"a":3}"#]);
    altered[1] = LogEntry::stored(
        2,
        altered[1].prev_hash,
        altered[1].hash,
        r#"{"a":9}"#.into(),
    )
    .expect("entry");
    let found = problems(&altered);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("entry 2 of device A") && found[0].contains("hash"));

    let other = chain([r#"{"b":1}"#, r#"{"b":2}"#, r#"{"b":3}"#]);
    let spliced = [good[0].clone(), other[1].clone(), good[2].clone()];
    let found = problems(&spliced);
    assert_eq!(
        found.len(),
        2,
        "both links around the foreign entry: {found:?}"
    );
    assert!(found.iter().all(|p| p.contains("chain is broken")));
}
