//! Creating and destroying journals, and usage errors.

use crate::harness::{assert_same_files, names_in, Journal, MINIMAL};

/// Files that make up a journal, or hold its key.
fn journal_files(dir: &std::path::Path) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|n| n.starts_with("journal.") || n.starts_with(".journal."))
        .collect()
}

#[test]
fn wipe_leaves_nothing_that_opens() {
    let journal = Journal::created("Ana Wipe");
    for _ in 0..3 {
        journal.record(MINIMAL);
    }
    // Keep the database aside, as someone who seized the device might.
    let aside = journal.scratch("aside");
    for name in ["journal.db", "journal.db-wal"] {
        if journal.path(name).exists() {
            std::fs::copy(journal.path(name), aside.join(name)).expect("copy aside");
        }
    }
    assert!(aside.join("journal.db").exists());

    journal.run(&["wipe", "--yes"], "").ok().no_stdout();
    let left = journal_files(&journal.dir);
    assert!(left.is_empty(), "wipe left journal files behind: {left:?}");

    journal
        .run(&["list"], "")
        .fails(1)
        .no_stdout()
        .stderr_has("no journal");
    // Wiping again is harmless.
    journal.run(&["wipe", "--yes"], "").ok().no_stdout();

    // The database without its key file never opens.
    truce_tests::copy_files(&aside, &journal.dir);
    for args in [vec!["list", "--json"], vec!["check"], vec!["status"]] {
        journal
            .run(&args, "")
            .fails(1)
            .no_stdout()
            .stderr_has("journal damaged")
            .stderr_has("key file");
    }
    journal
        .run(&["record"], MINIMAL)
        .fails(1)
        .no_stdout()
        .stderr_has("journal damaged");

    // Nor with the key file of another journal that has the same passphrase.
    let other = Journal::created("Ana Other");
    std::fs::copy(other.path("journal.key"), journal.path("journal.key")).expect("copy key file");
    for args in [vec!["list", "--json"], vec!["check"]] {
        journal
            .run(&args, "")
            .fails(1)
            .no_stdout()
            .stderr_has("journal damaged");
    }
}

#[test]
fn init_refuses_to_overwrite() {
    let journal = Journal::created("Ana First");
    journal.record(MINIMAL);
    let listed = journal.list_raw();
    let before = journal.files();

    journal
        .run(&["init", "--observer", "Ana Second"], "")
        .fails(1)
        .no_stdout()
        .stderr_has("already exists");
    assert_same_files(&before, &journal.files(), "after a second init");
    assert_eq!(journal.list_raw(), listed);

    // Half a journal is not overwritten either: neither a lone database nor a lone key file.
    for keep in ["journal.db", "journal.key"] {
        let half = Journal::new();
        std::fs::create_dir(&half.dir).expect("data dir");
        std::fs::copy(journal.path(keep), half.path(keep)).expect("copy");
        let half_before = half.files();
        half.run(&["init", "--observer", "Ana Third"], "")
            .fails(1)
            .no_stdout()
            .stderr_has("already exists");
        assert_same_files(
            &half_before,
            &half.files(),
            &format!("after init over a lone {keep}"),
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let journal = Journal::created("Ana Usage");
    journal.record(MINIMAL);
    let before = journal.files();

    let cases: &[(&[&str], &str)] = &[
        (&["frobnicate"], ""),
        (&["wipe"], ""),
        (&["init"], ""),
        (&["init", "--observer", "Ana", "--role", "general"], ""),
        (&["list", "--limit", "many"], ""),
        (&["list", "--bogus"], ""),
        (&["show"], ""),
        (&["record", "--severity", "300"], ""),
        (&["record"], ""),
        (&["record"], " \n\t\n"),
        (&["amend", "ffffffff"], ""),
    ];
    for (args, stdin) in cases {
        journal.run(args, stdin).fails(2).no_stdout();
        assert_same_files(
            &before,
            &journal.files(),
            &format!("after `truce {}`", args.join(" ")),
        );
    }
    // wipe without --yes explains how to confirm, and the journal still opens.
    journal.run(&["wipe"], "").fails(2).stderr_has("--yes");
    assert_eq!(journal.list().len(), 1);

    // An empty --data-dir is a usage error too.
    let mut cmd = journal.bare_command();
    cmd.args(["--data-dir", "", "list"]);
    crate::harness::run(cmd, "truce --data-dir '' list", "")
        .fails(2)
        .no_stdout();

    // --help and --version are not errors.
    let help = journal.run(&["--help"], "").ok();
    assert!(
        help.stdout.contains("init") && help.stdout.contains("record"),
        "{}",
        help.stdout
    );
    journal.run(&["--version"], "").ok();
}
