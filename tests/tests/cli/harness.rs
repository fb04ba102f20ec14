//! Running `truce` against a throw-away journal, with a clean environment, and checking its
//! exit-code and output contract.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use truce_tests::{is_uuid, snapshot, truce_bin};

/// The passphrase of every test journal.
pub const PASSPHRASE: &str = "correct horse battery staple";
/// The smallest valid observation.
pub const MINIMAL: &str = r#"{"kind":"violation","category":"shelling","method":"heard"}"#;
/// Longest a single `truce` run may take before the test gives up on it (a prompt waiting on a
/// terminal, a lock never released).
const TIMEOUT: Duration = Duration::from_secs(120);

/// What one `truce` run did.
#[derive(Debug)]
pub struct Run {
    /// The command line, for failure messages.
    pub what: String,
    /// The exit code; None when killed by a signal (or the timeout).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "`{}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }

    /// Asserts success (exit 0, no error and no panic on stderr); returns self.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success; {}", self.describe());
        assert!(
            !self.stderr.contains("error:"),
            "success, yet an error on stderr; {}",
            self.describe()
        );
        self.no_panic()
    }

    /// Asserts failure with `code`, stderr starting with `error:`, and no panic; returns self.
    #[track_caller]
    pub fn fails(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit code {code}; {}",
            self.describe()
        );
        assert!(
            self.stderr.starts_with("error:"),
            "stderr must start with `error:`; {}",
            self.describe()
        );
        self.no_panic()
    }

    /// Asserts that stdout is empty (errors print nothing there); returns self.
    #[track_caller]
    pub fn no_stdout(self) -> Self {
        assert!(
            self.stdout.is_empty(),
            "expected nothing on stdout; {}",
            self.describe()
        );
        self
    }

    /// Asserts that the process did not panic; returns self.
    #[track_caller]
    pub fn no_panic(self) -> Self {
        assert!(
            !self.stderr.contains("panicked"),
            "truce panicked; {}",
            self.describe()
        );
        self
    }

    /// Asserts that stderr contains `part` (case-insensitively); returns self.
    #[track_caller]
    pub fn stderr_has(self, part: &str) -> Self {
        assert!(
            self.stderr.to_lowercase().contains(&part.to_lowercase()),
            "stderr must mention {part:?}; {}",
            self.describe()
        );
        self
    }

    /// The only line on stdout, which must end with a newline.
    #[track_caller]
    pub fn single_line(&self) -> &str {
        let line = self
            .stdout
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("stdout must end with a newline; {}", self.describe()));
        assert!(
            !line.contains('\n'),
            "expected exactly one line on stdout; {}",
            self.describe()
        );
        line
    }
}

/// A journal in a fresh temporary folder. The data directory itself does not exist until `init`.
pub struct Journal {
    tmp: TempDir,
    /// The data directory (`<tmp>/journal`).
    pub dir: PathBuf,
    /// The passphrase `truce` gets in TRUCE_PASSPHRASE.
    pub passphrase: String,
}

impl Journal {
    /// A journal that does not exist yet.
    pub fn new() -> Journal {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("journal");
        std::fs::create_dir(tmp.path().join("home")).expect("fake home");
        Journal {
            tmp,
            dir,
            passphrase: PASSPHRASE.to_owned(),
        }
    }

    /// A new coordinator journal: `truce init --observer "HQ desk" --role coordinator`.
    pub fn coordinator() -> Journal {
        let journal = Journal::new();
        journal
            .run(
                &["init", "--observer", "HQ desk", "--role", "coordinator"],
                "",
            )
            .ok();
        journal
    }

    /// Signs a mission profile for `mission` from `template` (any subset of taxonomy, parties,
    /// areas, severity ladder and alert rules) on this coordinator; returns the profile file.
    pub fn create_profile_from(&self, mission: &str, template: &Value) -> PathBuf {
        let dir = self.scratch("mission");
        let template_file = dir.join("template.json");
        std::fs::write(&template_file, template.to_string()).expect("template");
        let profile = dir.join(format!("profile-{}.json", names_in(&dir).len()));
        self.run(
            &[
                "profile",
                "create",
                "--mission",
                mission,
                "--out",
                path_str(&profile),
                "--template",
                path_str(&template_file),
            ],
            "",
        )
        .ok();
        profile
    }

    /// A monitor's journal for `observer` with the mission profile in `profile` installed.
    pub fn with_profile(observer: &str, profile: &Path) -> Journal {
        let device = Journal::created(observer);
        device
            .run(&["profile", "import", path_str(profile)], "")
            .ok();
        device
    }

    /// A new journal created with `truce init --observer NAME`.
    pub fn created(observer: &str) -> Journal {
        let journal = Journal::new();
        journal.init(observer);
        journal
    }

    /// A scratch folder next to the data directory (created on first use).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.tmp.path().join(name);
        std::fs::create_dir_all(&path).expect("scratch folder");
        path
    }

    /// `truce` with a clean environment: no inherited TRUCE_* variables, a fake home (so the
    /// real data directory is out of reach even if --data-dir were forgotten), fast key
    /// derivation, this journal's passphrase, and a time limit. No arguments yet, not even
    /// --data-dir.
    pub fn bare_command(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(truce_bin());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("TRUCE_") {
                cmd.env_remove(key);
            }
        }
        let home = self.tmp.path().join("home");
        cmd.env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("APPDATA", &home)
            .env("LOCALAPPDATA", &home)
            .env("RUST_BACKTRACE", "1")
            .env("TRUCE_INSECURE_KDF_WORK_FACTOR", "10")
            .env("TRUCE_PASSPHRASE", &self.passphrase)
            .current_dir(self.tmp.path())
            .timeout(TIMEOUT);
        cmd
    }

    /// Runs `truce --data-dir DIR ARGS...` with `stdin` and extra environment variables.
    pub fn run_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        let mut cmd = self.bare_command();
        cmd.arg("--data-dir").arg(&self.dir).args(args);
        for (key, value) in env {
            cmd.env(key, value);
        }
        run(cmd, &format!("truce {}", args.join(" ")), stdin)
    }

    /// Runs `truce --data-dir DIR ARGS...` with `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        self.run_env(args, stdin, &[])
    }

    /// `truce init --observer NAME`; returns the device id it printed.
    pub fn init(&self, observer: &str) -> String {
        let run = self.run(&["init", "--observer", observer], "").ok();
        let id = run.single_line().to_owned();
        assert!(
            is_uuid(&id),
            "init must print the device id, got {:?}",
            run.stdout
        );
        id
    }

    /// `truce record` with `json` on stdin; asserts that only the new id is printed, returns it.
    #[track_caller]
    pub fn record(&self, json: &str) -> String {
        let run = self.run(&["record"], json).ok();
        let id = run.single_line().to_owned();
        assert!(
            is_uuid(&id),
            "record must print only the new id, got {:?}",
            run.stdout
        );
        id
    }

    /// `truce record` of a camera report of shelling with `file` attached; returns the id.
    #[track_caller]
    pub fn record_attaching(&self, file: &Path) -> String {
        let run = self
            .run(
                &[
                    "record",
                    "--kind",
                    "violation",
                    "--category",
                    "shelling",
                    "--method",
                    "camera",
                    "--attach",
                    path_str(file),
                ],
                "",
            )
            .ok();
        let id = run.single_line().to_owned();
        assert!(
            is_uuid(&id),
            "record must print only the new id, got {:?}",
            run.stdout
        );
        id
    }

    /// `truce list --json`, stdout as is.
    #[track_caller]
    pub fn list_raw(&self) -> String {
        self.run(&["list", "--json"], "").ok().stdout
    }

    /// `truce list --json`, parsed line by line.
    #[track_caller]
    pub fn list(&self) -> Vec<Value> {
        json_lines(&self.list_raw())
    }

    /// The records of `list --json` as they travel: without a monitor's `delivery` state,
    /// which is the device's own knowledge.
    #[track_caller]
    pub fn records(&self) -> Vec<Value> {
        let mut rows = self.list();
        for row in &mut rows {
            if let Value::Object(fields) = row {
                fields.remove("delivery");
            }
        }
        rows
    }

    /// `truce show ID --json`, parsed.
    #[track_caller]
    pub fn show(&self, id: &str) -> Value {
        let run = self.run(&["show", id, "--json"], "").ok();
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("show --json must print JSON ({e}): {}", run.stdout))
    }

    /// Every file of the data directory, with its bytes.
    pub fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(&self.dir)
    }

    /// A file of the data directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Runs a prepared command with `stdin` (always given, so nothing waits for a terminal).
pub fn run(mut cmd: assert_cmd::Command, what: &str, stdin: &str) -> Run {
    let out = cmd
        .write_stdin(stdin.as_bytes().to_vec())
        .output()
        .expect("run truce");
    Run {
        what: what.to_owned(),
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Parses JSON Lines: one JSON object per line.
#[track_caller]
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            assert!(value.is_object(), "each line must be a JSON object: {line}");
            value
        })
        .collect()
}

/// Asserts that two snapshots of a folder are the same, naming the first difference.
#[track_caller]
pub fn assert_same_files(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
    context: &str,
) {
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(before),
        names(after),
        "{context}: the set of files changed"
    );
    for (name, bytes) in before {
        assert!(
            after[name] == *bytes,
            "{context}: the bytes of {} changed",
            name.display()
        );
    }
}

/// The names of the files in `dir` (not recursive), sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A coordinator journal with a signed profile written next to it.
pub struct Mission {
    /// The coordinator's journal.
    pub coordinator: Journal,
    /// The signed mission profile file.
    pub profile: PathBuf,
}

impl Mission {
    /// A coordinator (`init --role coordinator`) and its profile for "Mission East".
    pub fn new() -> Mission {
        Mission::on(Journal::new())
    }

    /// The same, with the coordinator's journal created in `coordinator`, not created yet (so
    /// its folder can be prepared first, e.g. on a small disk).
    pub fn on(coordinator: Journal) -> Mission {
        coordinator
            .run(
                &["init", "--observer", "HQ desk", "--role", "coordinator"],
                "",
            )
            .ok();
        let profile = coordinator.scratch("mission").join("profile.json");
        coordinator
            .run(
                &[
                    "profile",
                    "create",
                    "--mission",
                    "Mission East",
                    "--out",
                    path_str(&profile),
                ],
                "",
            )
            .ok();
        let keys = coordinator.run(&["keys"], "").ok().stdout;
        let recipient = keys
            .lines()
            .find_map(|l| l.strip_prefix("recipient:"))
            .map(|r| r.trim().to_owned())
            .expect("a coordinator shows its recipient");
        assert!(recipient.starts_with("age1"), "{recipient}");
        Mission {
            coordinator,
            profile,
        }
    }

    /// A monitor device with the mission profile installed.
    pub fn device(&self, observer: &str) -> Journal {
        let device = Journal::created(observer);
        device
            .run(&["profile", "import", path_str(&self.profile)], "")
            .ok();
        device
    }

    /// Imports `paths`; returns the run (not asserted) and the JSON report lines.
    pub fn import(&self, paths: &[PathBuf]) -> (Run, Vec<Value>) {
        let mut args = vec!["import", "--json"];
        args.extend(paths.iter().map(|p| path_str(p)));
        let run = self.coordinator.run(&args, "").no_panic();
        let report = json_lines(&run.stdout);
        (run, report)
    }

    /// The coordinator's current records, by id, as the devices sent them (without the
    /// coordinator's marks: a device not accepted yet, an id two devices used).
    pub fn state(&self) -> BTreeMap<String, Value> {
        let mut rows = self.coordinator.list();
        for row in &mut rows {
            if let Value::Object(fields) = row {
                fields.remove("device_pending");
                fields.remove("id_also_used_by");
            }
        }
        by_id(rows)
    }

    /// The coordinator's current records, each observation (id and device) once, in order.
    pub fn state_rows(&self) -> Vec<Value> {
        let mut rows = self.coordinator.list();
        rows.sort_by_key(|r| (r["id"].to_string(), r["device_id"].to_string()));
        rows
    }

    /// A second coordinator journal holding the same coordinator identity as `mission`'s
    /// (`keys --export-secret`, then `--import-secret`), without a profile: it reads the same
    /// bundles.
    pub fn on_coordinator_of(mission: &Mission) -> Mission {
        let secret = mission
            .coordinator
            .scratch("secret")
            .join("coordinator.key");
        if !secret.exists() {
            mission
                .coordinator
                .run(&["keys", "--export-secret", path_str(&secret)], "")
                .ok();
        }
        let twin = Journal::coordinator();
        twin.run(&["keys", "--import-secret", path_str(&secret)], "")
            .ok();
        Mission {
            coordinator: twin,
            profile: mission.profile.clone(),
        }
    }
}

/// A path as the `&str` command arguments need.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// `list --json` rows by id.
pub fn by_id(rows: Vec<Value>) -> BTreeMap<String, Value> {
    rows.into_iter()
        .map(|row| (row["id"].as_str().expect("id").to_owned(), row))
        .collect()
}
