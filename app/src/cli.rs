//! The `truce` command line: argument parsing, passphrase input, output formats and exit codes.
//!
//! Contract (relied on by scripts and tests): exit 0 ok, 1 operational error, 2 usage error;
//! errors go to stderr and begin with `error:`; machine output goes to stdout only.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};
use truce_sync::{ObservationRevision, Role};

use crate::terminal::{terminal_line, terminal_safe, OutputKind, TerminalWriter};
use truce_core::journal::{Journal, JournalError, Profile};
use truce_core::keyfile::{KdfCost, KDF_WORK_FACTOR_ENV};
use truce_core::model::{ExportRange, ImportReport};
use truce_core::model::{ObservationFilter, QueueRow, SortOrder};
use truce_core::publish::{DataFormat, PublicOptions};
use truce_sync::verification::VerificationStatus;

/// Prints a message for people on stderr, escaped as [`terminal_safe`] says: the values in it
/// (paths, names) cannot drive the terminal.
macro_rules! note {
    ($($arg:tt)*) => {
        eprintln!("{}", terminal_safe(&format!($($arg)*)))
    };
}

/// Largest observation JSON accepted on stdin or from a file.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// Environment variable with the journal passphrase, for scripts (less safe than the prompt).
pub const PASSPHRASE_ENV: &str = "TRUCE_PASSPHRASE";
/// Environment variable with the new passphrase for `truce passwd`, for scripts.
pub const NEW_PASSPHRASE_ENV: &str = "TRUCE_NEW_PASSPHRASE";

/// Truce: an offline, encrypted field log for ceasefire monitoring.
#[derive(Debug, Parser)]
#[command(name = "truce", version, about, long_about = None)]
pub struct Cli {
    /// Folder that holds the journal (default: the platform's data directory).
    #[arg(long, global = true, env = "TRUCE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new encrypted journal and this device's identity.
    Init {
        /// Your name, as it will appear on your records.
        #[arg(long)]
        observer: String,
        /// Your team.
        #[arg(long)]
        team: Option<String>,
        /// What this device is for.
        #[arg(long, value_enum, default_value_t = RoleArg::Monitor)]
        role: RoleArg,
    },
    /// Save one observation (schema v1 JSON on stdin or --json FILE, or quick-entry flags).
    /// Prints only the new id.
    Record(RecordArgs),
    /// List the observations, newest first (latest revision of each).
    List {
        /// Print JSON Lines (schema v1 names plus revision, recorded_at, device_id, observer).
        #[arg(long)]
        json: bool,
        /// Show at most N observations.
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// Add the verification status to each row (a `status` field with --json).
        #[arg(long)]
        with_status: bool,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Show one observation with its revision history.
    Show {
        /// The observation id, or a unique beginning or end of it (as `list` shows).
        id: String,
        /// The device that made it, when several devices used the id (a unique beginning or
        /// end of the device id; `ID@DEVICE` says the same).
        #[arg(long, value_name = "DEVICE")]
        device: Option<String>,
        /// Print JSON: {"current": {...}, "history": [...]}.
        #[arg(long)]
        json: bool,
    },
    /// Amend an observation: a partial JSON object (stdin or --json FILE) becomes a new revision.
    /// Prints only the new revision number.
    Amend {
        /// The observation id, or a unique beginning or end of it (as `list` shows).
        id: String,
        /// The device that made it, when several devices used the id (see `show`).
        #[arg(long, value_name = "DEVICE")]
        device: Option<String>,
        /// Read the partial JSON object from FILE instead of stdin.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Change the passphrase and re-encrypt the journal with a new key, so that an old copy of
    /// the key file with the old passphrase no longer opens it.
    Passwd,
    /// Emergency wipe: destroy the key, then the database. Irreversible; needs no passphrase.
    Wipe {
        /// Confirm that the journal must be destroyed.
        #[arg(long)]
        yes: bool,
    },
    /// Show this device's identity and the journal's size.
    Status,
    /// Show the unlock policy (wipe after N wrong passphrases in a row), or set it with
    /// --wipe-after (the passphrase is asked first). The GUI's setting is the same one.
    Settings {
        /// Wipe the journal after N wrong passphrases in a row: 0 (off), 5, 10 or 20.
        #[arg(long, value_name = "N")]
        wipe_after: Option<u32>,
    },
    /// Run the full integrity checks on the journal: SQLite's, SQLCipher's, the hash chains
    /// of the device log and of every entry received, and the kept escalation alerts.
    Check,
    /// Mission profiles: create (coordinator), import (device), show.
    Profile {
        #[command(subcommand)]
        action: ProfileCommand,
    },
    /// Show the keys to give to others: the coordinator's age recipient, the device fingerprint.
    Keys {
        /// Coordinators only: write the age identity to FILE (age's own format), for stock
        /// `age -d -i FILE`. Anyone with this file can read every bundle.
        #[arg(long, value_name = "FILE", conflicts_with = "import_secret")]
        export_secret: Option<PathBuf>,
        /// Coordinators only: restore the age identity from FILE (made by --export-secret),
        /// into a journal that has none yet.
        #[arg(long, value_name = "FILE")]
        import_secret: Option<PathBuf>,
    },
    /// Write signed, encrypted bundles of the entries no bundle carried yet into DIR (one per
    /// range of them); prints their paths.
    Export {
        /// Folder to write the bundle into (a USB stick, a shared folder).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Export the whole device log again, not only what is pending.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        all: bool,
        /// First sequence number of a chosen range.
        #[arg(long, requires = "to", value_name = "SEQ")]
        from: Option<u64>,
        /// Last sequence number of a chosen range.
        #[arg(long, requires = "from", value_name = "SEQ")]
        to: Option<u64>,
    },
    /// Coordinators: give an observation a verification status with a note (kept with who and when).
    Verify {
        /// The observation id, or a unique beginning or end of it.
        id: String,
        /// unverified, corroborated, verified, disputed or unfounded.
        #[arg(long)]
        status: String,
        /// Why: the evidence or the reason.
        #[arg(long)]
        note: String,
    },
    /// Coordinators: link reports of the same event (two teams heard the same shelling).
    Link {
        /// Two or more observation ids (or unique beginnings or ends).
        #[arg(required = true, num_args = 2.., value_name = "ID")]
        ids: Vec<String>,
    },
    /// Coordinators: the events and the reports linked to each.
    Events {
        /// Print JSON Lines.
        #[arg(long)]
        json: bool,
    },
    /// Coordinators: every device bundles came from, with its fingerprint, entries, gaps and
    /// whether it is accepted; `truce devices accept ID` accepts one.
    Devices {
        /// Print JSON Lines.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<DevicesCommand>,
    },
    /// Coordinators: export observations to CSV, GeoJSON or HXL; --public redacts for publication.
    ExportData {
        /// csv, geojson or hxl.
        #[arg(long, value_enum)]
        format: FormatArg,
        /// The file to write (replaced atomically).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Redact for publication: no observer, device or team; narrative, place, weapon and
        /// parties not coded in the profile only when tagged `public`; coordinates on a grid;
        /// times to the hour, in UTC; only verified and corroborated records unless --status
        /// is given.
        #[arg(long)]
        public: bool,
        /// Grid size in degrees for --public.
        #[arg(long, default_value_t = 0.05, value_name = "DEGREES")]
        grid: f64,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Coordinators: the periodic report, by area, kind, category, party and method, against the
    /// previous period, with daily counts for the last 30 days.
    Report {
        /// Start (YYYY-MM-DD or RFC 3339). Default: 24 hours before --to.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// End, exclusive (RFC 3339, or YYYY-MM-DD for the end of that day). Default: the latest
        /// daily cut-off.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// The daily cut-off time, HH:MM in UTC.
        #[arg(long, default_value = "00:00", value_name = "HH:MM")]
        cutoff: String,
        /// text, html (self-contained, with the chart) or json.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Coordinators: escalation alerts raised by the mission profile's rules, with their records.
    Alerts {
        /// Print JSON Lines.
        #[arg(long)]
        json: bool,
    },
    /// Coordinators: import bundle files, or folders of them; prints a report per bundle.
    Import {
        /// Bundle files or folders holding `*.age` bundles.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Print the report as JSON Lines, one object per bundle.
        #[arg(long)]
        json: bool,
    },
    /// Packaging: print the truce(1) man page (roff), or write every page into --out-dir.
    #[command(hide = true)]
    Man {
        /// Write truce.1 and one page per subcommand into DIR (created if missing).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// The date in the pages' footer (default: today, UTC); packages pass their own.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
    },
}

/// What `truce devices` does besides listing.
#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Accept a device once its fingerprint is confirmed with its observer (by phone, radio or
    /// in person): its records then count in alerts, reports and exports.
    Accept {
        /// The device id, or a unique beginning or end of it (as `truce devices` shows).
        id: String,
    },
}

/// Formats of `truce export-data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// CSV with schema v1 column names.
    Csv,
    /// A GeoJSON FeatureCollection.
    Geojson,
    /// CSV with an HXL hashtag row.
    Hxl,
}

/// Formats of `truce report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Plain text.
    Text,
    /// A self-contained HTML page with the chart.
    Html,
    /// JSON.
    Json,
}

/// Filters shared by coordinator commands.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Observed on or after this day (YYYY-MM-DD, UTC) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Observed before this day (YYYY-MM-DD, UTC; the whole day is included) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only this kind (repeat for more).
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Only this category (repeat for more).
    #[arg(long = "category", value_name = "CATEGORY")]
    pub categories: Vec<String>,
    /// Only this verification status (repeat for more).
    #[arg(long = "status", value_name = "STATUS")]
    pub statuses: Vec<String>,
    /// Only records from this device (its full id).
    #[arg(long, value_name = "DEVICE_ID")]
    pub device: Option<String>,
    /// Only records whose narrative contains this text.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Order: newest (observed, the default), oldest, recorded (latest saved first), severity
    /// (highest first) or kind.
    #[arg(long, value_enum, default_value_t = SortArg::Newest)]
    pub sort: SortArg,
}

/// `--sort` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Newest observation first.
    Newest,
    /// Oldest observation first.
    Oldest,
    /// Most recently saved or amended first.
    Recorded,
    /// Highest severity first.
    Severity,
    /// By kind, then category.
    Kind,
}

/// `truce profile ...`
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Coordinators: create and sign a mission profile naming you (and --recipient keys) as recipients.
    Create {
        /// The mission's name.
        #[arg(long)]
        mission: String,
        /// Where to write the profile file for the devices.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Another coordinator's age recipient (age1...), e.g. HQ. Repeat for more.
        #[arg(long = "recipient", value_name = "AGE_RECIPIENT")]
        recipients: Vec<String>,
        /// A JSON file with taxonomy, parties, areas, severity_ladder and alert_rules to use.
        #[arg(long, value_name = "FILE")]
        template: Option<PathBuf>,
    },
    /// Install a mission profile received from the coordinator.
    Import {
        /// The profile file.
        file: PathBuf,
    },
    /// Show the installed mission profile.
    Show,
}

/// The role given to `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A field monitor or observer.
    Monitor,
    /// A coordinator who imports and verifies bundles.
    Coordinator,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Monitor => Role::Monitor,
            RoleArg::Coordinator => Role::Coordinator,
        }
    }
}

/// Input for `truce record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Read the observation JSON from FILE instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Quick entry: kind (violation, incident, movement_restriction, de_escalation, other).
    #[arg(long)]
    pub kind: Option<String>,
    /// Quick entry: category code (shelling, small_arms, ...).
    #[arg(long)]
    pub category: Option<String>,
    /// Quick entry: method (seen, heard, seen_heard, camera, uav, reported).
    #[arg(long)]
    pub method: Option<String>,
    /// Quick entry: when it started, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub observed_at: Option<String>,
    /// Quick entry: latitude in degrees (WGS84).
    #[arg(long, allow_hyphen_values = true)]
    pub lat: Option<f64>,
    /// Quick entry: longitude in degrees (WGS84).
    #[arg(long, allow_hyphen_values = true)]
    pub lon: Option<f64>,
    /// Quick entry: a named or described place.
    #[arg(long)]
    pub place: Option<String>,
    /// Quick entry: how many events (explosions, bursts, shots).
    #[arg(long, value_name = "N")]
    pub count: Option<u32>,
    /// Quick entry: the count is an estimate.
    #[arg(long)]
    pub approx: bool,
    /// Quick entry: severity on the mission's ladder, 1..5.
    #[arg(long)]
    pub severity: Option<u8>,
    /// Quick entry: free description.
    #[arg(long)]
    pub narrative: Option<String>,
}

impl RecordArgs {
    fn quick_fields(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                map.insert(k.to_owned(), v);
            }
        };
        put("kind", self.kind.clone().map(Value::from));
        put("category", self.category.clone().map(Value::from));
        put("method", self.method.clone().map(Value::from));
        put("observed_at", self.observed_at.clone().map(Value::from));
        put("lat", self.lat.map(Value::from));
        put("lon", self.lon.map(Value::from));
        put("place", self.place.clone().map(Value::from));
        put("event_count", self.count.map(Value::from));
        put("count_approx", self.approx.then_some(Value::Bool(true)));
        put("severity", self.severity.map(Value::from));
        put("narrative", self.narrative.clone().map(Value::from));
        map
    }
}

/// A usage error: exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A reader that stopped early (`truce list | head`) is not an error.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let usage = e.downcast_ref::<UsageError>().is_some();
            // Errors quote what they refuse (a file name, a serde message naming a field of a
            // hostile file): one line, every control character escaped.
            eprintln!("error: {}", terminal_line(&error_text(&e)));
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// The error and its causes on one line, `outer: cause: ...`, leaving out a cause whose text
/// the message already quotes (Truce's errors keep their source and also say it).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRUCE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The window, on the journal in `dir`.
#[cfg(feature = "gui")]
fn run_gui(dir: &Path) -> Result<()> {
    truce_ui::run(dir, kdf_cost()?).map_err(|e| {
        let e = e.to_string();
        anyhow!(
            "cannot open the window: {}. Without a display, use the subcommands (see `truce --help`)",
            e.trim_end_matches('.')
        )
    })
}

/// A headless build (`--no-default-features`) has no window to open.
#[cfg(not(feature = "gui"))]
fn run_gui(_dir: &Path) -> Result<()> {
    Err(UsageError(
        "this build of Truce has no window (it was built without the `gui` feature); use the subcommands (see `truce --help`)".into(),
    )
    .into())
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<()> {
    let Some(command) = cli.command else {
        // No subcommand: the GUI, on the same journal the subcommands use.
        let dir = data_dir(cli.data_dir)?;
        return run_gui(&dir);
    };
    if let Command::Man { out_dir, date } = &command {
        // Needs no journal, so no data directory either.
        return crate::manpage::run(out_dir.as_deref(), date.as_deref());
    }
    let dir = data_dir(cli.data_dir)?;
    let stdout = std::io::stdout();
    // Everything printed on stdout is escaped for the terminal; JSON output keeps its data
    // exact (see `crate::terminal`).
    let kind = match &command {
        Command::List { json: true, .. }
        | Command::Show { json: true, .. }
        | Command::Events { json: true }
        | Command::Devices { json: true, .. }
        | Command::Alerts { json: true }
        | Command::Import { json: true, .. }
        | Command::Report {
            format: ReportFormat::Json,
            ..
        } => OutputKind::Json,
        _ => OutputKind::Text,
    };
    let mut out = TerminalWriter::new(stdout.lock(), kind);
    match command {
        Command::Init {
            observer,
            team,
            role,
        } => {
            let cost = kdf_cost()?;
            let passphrase = new_passphrase(PASSPHRASE_ENV)?;
            let journal = Journal::init(
                &dir,
                &passphrase,
                Profile {
                    observer,
                    team,
                    role: role.into(),
                },
                cost,
            )?;
            let device = journal.device();
            writeln!(out, "{}", device.device_id)?;
            note!(
                "Created an encrypted journal in {} for {} ({}). Device fingerprint: {}",
                dir.display(),
                device.observer,
                device.role.code(),
                device.fingerprint
            );
        }
        Command::Record(args) => {
            let mut input = if args.json.is_some() || args.quick_fields().is_empty() {
                read_object(args.json.as_deref(), "observation")?
            } else {
                Map::new()
            };
            input.extend(args.quick_fields());
            let mut journal = unlock(&dir)?;
            let saved = journal.record(input)?;
            writeln!(out, "{}", saved.observation.id)?;
        }
        Command::List {
            json,
            limit,
            with_status,
            filter,
        } => {
            let mut filter = observation_filter(&filter)?;
            filter.limit = limit;
            // Listed, marked: records of devices not yet accepted, and ids two devices used.
            filter.include_pending_devices = true;
            let journal = unlock(&dir)?;
            let rows = journal.query(&filter)?;
            if json {
                for row in &rows {
                    let mut value = serde_json::to_value(&row.revision)?;
                    if with_status {
                        value["status"] = json!(row.status.code());
                    }
                    if row.device_pending {
                        value["device_pending"] = json!(true);
                    }
                    if !row.id_also_used_by.is_empty() {
                        value["id_also_used_by"] = json!(row.id_also_used_by);
                    }
                    writeln!(out, "{value}")?;
                }
            } else if rows.is_empty() {
                if journal.count()? == 0 {
                    note!("The journal has no observations yet. Save one with `truce record`.");
                } else {
                    note!("No observation matches these filters.");
                }
            } else {
                print_table(&mut out, &rows, with_status)?;
            }
        }
        Command::Show { id, device, json } => {
            let id = observation_ref(id, device);
            let journal = unlock(&dir)?;
            let history = journal.show(&id)?;
            let current = history
                .last()
                .ok_or_else(|| JournalError::UnknownObservation(id.clone()))?;
            let trail = journal.verification_trail(&id)?;
            let status = trail
                .last()
                .map_or(VerificationStatus::Unverified, |e| e.status);
            if json {
                let trail: Vec<Value> = trail
                    .iter()
                    .map(|e| json!({"status": e.status.code(), "note": e.note, "by": e.by_observer, "device_id": e.by_device, "at": e.at}))
                    .collect();
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"current": current, "history": history, "status": status.code(), "verification": trail})
                    )?
                )?;
            } else {
                print_detail(&mut out, &history)?;
                writeln!(out, "\nVerification: {}", status.code())?;
                for e in &trail {
                    writeln!(
                        out,
                        "  {}  {:<12}  {}  {}",
                        e.at,
                        e.status.code(),
                        terminal_line(&e.by_observer),
                        one_line(&e.note, 60)
                    )?;
                }
            }
        }
        Command::Amend { id, device, json } => {
            let id = observation_ref(id, device);
            let patch = read_object(json.as_deref(), "amendment")?;
            let mut journal = unlock(&dir)?;
            let saved = journal.amend(&id, patch)?;
            writeln!(out, "{}", saved.revision)?;
            note!(
                "Saved revision {} of {}.",
                saved.revision,
                saved.observation.id
            );
        }
        Command::Passwd => {
            let cost = kdf_cost()?;
            let mut journal = unlock(&dir)?;
            let new = new_passphrase(NEW_PASSPHRASE_ENV)?;
            journal.change_passphrase(&new, cost)?;
            note!(
                "Passphrase changed, and the journal re-encrypted with a new key: the old passphrase no longer opens it, not even with an old copy of its key file. (Backups made before keep their old key and passphrase.)"
            );
        }
        Command::Wipe { yes } => {
            if !yes {
                return Err(UsageError(format!(
                    "wipe destroys the journal in {} for good; run `truce wipe --yes` to confirm",
                    dir.display()
                ))
                .into());
            }
            let report = Journal::wipe(&dir)?;
            if report.key_destroyed || report.files_removed > 0 {
                note!(
                    "Wiped the journal in {}: key destroyed, {} database file(s) removed.",
                    dir.display(),
                    report.files_removed
                );
            } else {
                note!(
                    "There was no journal in {}; nothing to wipe.",
                    dir.display()
                );
            }
        }
        Command::Settings { wipe_after } => {
            use truce_core::unlock_policy::{self, UnlockPolicy, WIPE_AFTER_CHOICES};
            if let Some(n) = wipe_after {
                if !WIPE_AFTER_CHOICES.contains(&n) {
                    return Err(UsageError(format!(
                        "--wipe-after {n} is not offered; use 0 (off), 5, 10 or 20"
                    ))
                    .into());
                }
                // Only whoever holds the passphrase changes the policy.
                drop(unlock(&dir)?);
                UnlockPolicy { wipe_after: n }.save(&dir).with_context(|| {
                    format!("cannot save the unlock policy in {}", dir.display())
                })?;
            }
            let policy = UnlockPolicy::load(&dir);
            if policy.wipe_after == 0 {
                writeln!(out, "wipe after:  off")?;
            } else {
                writeln!(
                    out,
                    "wipe after:  {} wrong passphrases in a row ({} so far)",
                    policy.wipe_after,
                    unlock_policy::failures(&dir)
                )?;
            }
        }
        Command::Status => {
            let journal = unlock(&dir)?;
            let device = journal.device();
            writeln!(out, "journal:     {}", dir.display())?;
            writeln!(out, "device:      {}", device.device_id)?;
            writeln!(out, "fingerprint: {}", device.fingerprint)?;
            writeln!(out, "observer:    {}", terminal_line(&device.observer))?;
            writeln!(
                out,
                "team:        {}",
                terminal_line(device.team.as_deref().unwrap_or("-"))
            )?;
            writeln!(out, "role:        {}", device.role.code())?;
            writeln!(out, "created:     {}", device.created_at)?;
            writeln!(out, "records:     {}", journal.count()?)?;
            writeln!(out, "to export:   {}", journal.pending_export()?)?;
            if device.role == Role::Coordinator {
                let (received, quarantined) = journal.received_and_quarantined()?;
                writeln!(out, "received:    {received} entries")?;
                writeln!(out, "quarantined: {quarantined} bundles")?;
            }
        }
        Command::Profile { action } => run_profile(&dir, action, &mut out)?,
        Command::Keys {
            export_secret,
            import_secret,
        } => {
            let journal = unlock(&dir)?;
            if let Some(path) = import_secret {
                let recipient = journal.import_coordinator_secret(&path)?;
                note!(
                    "Restored the coordinator key {recipient}. Delete {} now.",
                    path.display()
                );
            }
            let keys = journal.keys()?;
            if let Some(recipient) = &keys.recipient {
                writeln!(out, "recipient:   {recipient}")?;
            }
            writeln!(out, "fingerprint: {}", keys.fingerprint)?;
            writeln!(out, "device key:  {}", keys.device_key)?;
            if let Some(path) = export_secret {
                journal.export_coordinator_secret(&path)?;
                note!(
                    "warning: {} now holds your coordinator secret key. Anyone with it can read every bundle of the mission. Keep it offline and delete it when done.",
                    path.display()
                );
            }
        }
        Command::Export {
            out: out_dir,
            all,
            from,
            to,
        } => {
            let journal = unlock(&dir)?;
            let range = match (all, from, to) {
                (true, _, _) => Some(ExportRange::All),
                (false, Some(a), Some(b)) => Some(ExportRange::Seqs(a, b)),
                _ => None,
            };
            let mut printed = Ok(());
            let mut report_one = |report: &truce_core::model::ExportReport| {
                if printed.is_ok() {
                    printed = writeln!(out, "{}", report.path.display()).and_then(|()| out.flush());
                }
                note!(
                    "Exported entries {}-{} to {}.",
                    report.first_seq,
                    report.last_seq,
                    report.path.display()
                );
            };
            // Pending: one bundle per range no export carried yet (a bundle holds one
            // contiguous range), so one command sends everything that never left the device.
            let written: Vec<_> = match range {
                Some(range) => journal
                    .export(&out_dir, range)?
                    .inspect(&mut report_one)
                    .into_iter()
                    .collect(),
                None => journal.export_pending(&out_dir, &mut report_one)?,
            };
            printed?;
            if written.is_empty() {
                note!("Nothing new to export. Use --all to export everything again.");
            }
        }
        Command::Import { paths, json } => {
            let files = truce_core::exchange::bundle_files(&paths)?;
            if files.is_empty() {
                bail!("no bundle files (*.age) found in the given paths");
            }
            let mut journal = unlock(&dir)?;
            let bar = indicatif::ProgressBar::new(files.len() as u64);
            let (mut done, mut refused) = (0usize, 0usize);
            let (mut new, mut known) = (0u64, 0u64);
            let mut printed = Ok(());
            let imported = journal.import_bundles(&files, |durable| {
                bar.inc(durable.len() as u64);
                for report in durable {
                    done += 1;
                    refused += usize::from(report.refused.is_some());
                    new += report.new_entries;
                    known += report.known_entries;
                    if printed.is_ok() {
                        printed = bar.suspend(|| print_import(&mut out, report, json));
                    }
                }
            });
            bar.finish_and_clear();
            imported.with_context(|| {
                format!(
                    "import stopped after {done} of {} bundle(s) (those are kept; once the cause is fixed, the same command imports the rest)",
                    files.len()
                )
            })?;
            printed?;
            let alerts = journal.alerts()?;
            if !alerts.is_empty() {
                note!(
                    "{} escalation alert(s) active; see `truce alerts`.",
                    alerts.len()
                );
            }
            note!(
                "{} bundle(s): {} imported, {refused} refused; {new} new entries, {known} already known.",
                files.len(),
                files.len() - refused
            );
            if refused > 0 {
                bail!("{refused} bundle(s) were refused and quarantined; see the reasons above");
            }
        }
        Command::Verify { id, status, note } => {
            let status = VerificationStatus::from_code(&status).ok_or_else(|| {
                UsageError(format!(
                    "unknown status `{status}`; use one of: unverified, corroborated, verified, disputed, unfounded"
                ))
            })?;
            let journal = unlock(&dir)?;
            let event = journal.verify(&id, status, &note)?;
            writeln!(out, "{}", event.status.code())?;
        }
        Command::Link { ids } => {
            let mut journal = unlock(&dir)?;
            let event = journal.link(&ids)?;
            writeln!(out, "{event}")?;
        }
        Command::Events { json } => {
            let journal = unlock(&dir)?;
            for (event, keys) in journal.events()? {
                if json {
                    let ids: Vec<String> = keys.iter().map(|k| k.id.to_string()).collect();
                    let devices: Vec<String> =
                        keys.iter().map(|k| k.device_id.to_string()).collect();
                    writeln!(
                        out,
                        "{}",
                        json!({"event_id": event, "observations": ids, "devices": devices})
                    )?;
                } else {
                    writeln!(out, "event {event}: {} reports", keys.len())?;
                    for key in keys {
                        writeln!(out, "    {}  (device {})", key.id, key.device_id)?;
                    }
                }
            }
        }
        Command::Devices {
            json,
            action: Some(DevicesCommand::Accept { id }),
        } => {
            let mut journal = unlock(&dir)?;
            let (device, was_pending) = journal.accept_device(&id)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    json!({"device_id": device.device_id, "observer": device.observer,
                           "fingerprint": device.fingerprint, "accepted_at": device.accepted_at,
                           "was_pending": was_pending})
                )?;
            } else {
                writeln!(out, "{}", device.device_id)?;
                if was_pending {
                    note!(
                        "Accepted device {} ({}, fingerprint {}): its records now count in alerts, reports and exports.",
                        device.device_id,
                        terminal_line(&device.observer),
                        device.fingerprint
                    );
                } else {
                    note!(
                        "Device {} ({}) was accepted already, on {}.",
                        device.device_id,
                        terminal_line(&device.observer),
                        device.accepted_at.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        Command::Devices { json, action: None } => {
            let journal = unlock(&dir)?;
            for d in journal.devices()? {
                if json {
                    let gaps: Vec<Value> = d.gaps.iter().map(|(a, b)| json!([a, b])).collect();
                    writeln!(
                        out,
                        "{}",
                        json!({"device_id": d.device_id, "observer": d.observer, "fingerprint": d.fingerprint,
                               "last_bundle_at": d.last_bundle_at, "entries": d.entries, "gaps": gaps,
                               "accepted": d.accepted_at.is_some(), "accepted_at": d.accepted_at})
                    )?;
                } else {
                    let gaps: Vec<String> = d
                        .gaps
                        .iter()
                        .map(|(a, b)| {
                            if a == b {
                                a.to_string()
                            } else {
                                format!("{a}–{b}")
                            }
                        })
                        .collect();
                    writeln!(
                        out,
                        "{}  {:<8}  {:<20}  {}  last bundle {}  {} entries  {}",
                        d.device_id,
                        if d.accepted_at.is_some() {
                            "accepted"
                        } else {
                            "PENDING"
                        },
                        terminal_line(&d.observer),
                        d.fingerprint,
                        d.last_bundle_at.as_deref().unwrap_or("-"),
                        d.entries,
                        if gaps.is_empty() {
                            "no gaps".to_owned()
                        } else {
                            format!("missing {}", gaps.join(", "))
                        }
                    )?;
                }
            }
        }
        Command::ExportData {
            format,
            out: path,
            public,
            grid,
            filter,
        } => {
            let filter = observation_filter(&filter)?;
            let journal = unlock(&dir)?;
            let format = match format {
                FormatArg::Csv => DataFormat::Csv,
                FormatArg::Geojson => DataFormat::GeoJson,
                FormatArg::Hxl => DataFormat::Hxl,
            };
            let public = public.then_some(PublicOptions { grid_deg: grid });
            let rows = journal.export_data(format, &filter, public, &path)?;
            writeln!(out, "{}", path.display())?;
            note!("Wrote {rows} observation(s) to {}.", path.display());
        }
        Command::Report {
            from,
            to,
            cutoff,
            format,
            out: file,
        } => {
            let to = match to {
                Some(t) => millis_to_utc(parse_bound(&t, true)?),
                None => latest_cutoff(&cutoff)?,
            };
            let from = match from {
                Some(f) => millis_to_utc(parse_bound(&f, false)?),
                None => to - chrono::Duration::hours(24),
            };
            let journal = unlock(&dir)?;
            let report = journal.report(from, to)?;
            let text = match format {
                ReportFormat::Text => truce_core::report::to_text(&report),
                ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
                ReportFormat::Html => {
                    let mission = journal
                        .profile()?
                        .map(|p| p.profile.mission)
                        .unwrap_or_else(|| "Truce".into());
                    truce_core::report::to_html(&report, &mission)
                }
            };
            match file {
                Some(path) => {
                    truce_core::fsutil::write_atomic(&path, text.as_bytes())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    writeln!(out, "{}", path.display())?;
                }
                None => out.write_all(text.as_bytes())?,
            }
        }
        Command::Alerts { json } => {
            let journal = unlock(&dir)?;
            let alerts = journal.alerts()?;
            for a in &alerts {
                let from = millis_to_utc(a.from_ms).to_rfc3339();
                let to = millis_to_utc(a.to_ms).to_rfc3339();
                if json {
                    let records: Vec<String> = a.records.iter().map(|k| k.id.to_string()).collect();
                    let devices: Vec<String> =
                        a.records.iter().map(|k| k.device_id.to_string()).collect();
                    writeln!(
                        out,
                        "{}",
                        json!({"rule": a.rule, "level": a.level, "area": a.area, "from": from, "to": to,
                               "records": records, "devices": devices})
                    )?;
                } else {
                    writeln!(
                        out,
                        "level {}  {}  area {}  {} records, {} to {}",
                        a.level,
                        terminal_line(&a.rule),
                        terminal_line(if a.area.is_empty() { "(none)" } else { &a.area }),
                        a.records.len(),
                        from,
                        to
                    )?;
                    for key in &a.records {
                        writeln!(out, "    {}  (device {})", key.id, key.device_id)?;
                    }
                }
            }
            if alerts.is_empty() && !json {
                note!("No escalation alerts.");
            }
        }
        Command::Man { .. } => {} // handled above, before the data directory
        Command::Check => {
            let journal = unlock(&dir)?;
            let problems = journal.check()?;
            if !problems.is_empty() {
                bail!(JournalError::Damaged(format!(
                    "the integrity check found: {}",
                    problems.join("; ")
                )));
            }
            writeln!(out, "ok")?;
        }
    }
    Ok(())
}

fn run_profile(dir: &Path, action: ProfileCommand, out: &mut impl Write) -> Result<()> {
    match action {
        ProfileCommand::Create {
            mission,
            out: path,
            recipients,
            template,
        } => {
            let template = match template {
                None => None,
                Some(t) => {
                    let text = std::fs::read_to_string(&t)
                        .with_context(|| format!("cannot read {}", t.display()))?;
                    Some(template_profile(&text).with_context(|| {
                        format!("{} is not a usable profile template", t.display())
                    })?)
                }
            };
            if path.exists() {
                bail!(
                    "{} already exists; choose another --out file",
                    path.display()
                );
            }
            let mut journal = unlock(dir)?;
            let text = journal.create_profile(&mission, &recipients, template)?;
            truce_core::fsutil::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "{}", path.display())?;
            note!("Signed mission profile written. Give it to every device: `truce profile import {}`.", path.display());
        }
        ProfileCommand::Import { file } => {
            let text = read_limited(
                &file,
                truce_sync::profile::MAX_PROFILE_BYTES as u64,
                "mission profile",
            )?;
            let mut journal = unlock(dir)?;
            let check = journal.inspect_profile(&text)?;
            let profile = journal.import_profile(&text)?;
            note!(
                "Installed the mission profile for {} ({} coordinator recipient(s)), signed by coordinator key {}.",
                terminal_line(&profile.mission),
                profile.recipients.len(),
                check.signer_fingerprint
            );
            if check.first_install {
                note!(
                    "This is the first profile on this device, so only you can vouch for its signer: check the fingerprint {} with your coordinator. Later profiles are accepted only from that key.",
                    check.signer_fingerprint
                );
            }
        }
        ProfileCommand::Show => {
            let journal = unlock(dir)?;
            match journal.profile()? {
                None => bail!(
                    "no mission profile installed; import one with `truce profile import FILE`"
                ),
                Some(p) => {
                    writeln!(out, "mission:    {}", terminal_line(&p.profile.mission))?;
                    writeln!(out, "issued:     {}", p.profile.issued_at.to_rfc3339())?;
                    writeln!(
                        out,
                        "signed by:  {}",
                        truce_sync::fingerprint(&p.signer_key)
                    )?;
                    for r in &p.profile.recipients {
                        writeln!(out, "recipient:  {r}")?;
                    }
                    writeln!(out, "kinds:      {}", p.profile.taxonomy.kind_list())?;
                    writeln!(out, "categories: {}", p.profile.taxonomy.category_list())?;
                    writeln!(out, "alert rules: {}", p.profile.alert_rules.len())?;
                }
            }
        }
    }
    Ok(())
}

/// Reads a profile template: any subset of taxonomy, parties, areas, severity_ladder, alert_rules.
fn template_profile(text: &str) -> Result<truce_sync::profile::MissionProfile> {
    let mut value: Value = serde_json::from_str(text)?;
    let base = serde_json::to_value(truce_sync::profile::MissionProfile::new(
        "template",
        truce_core::journal::now(),
        vec![],
    ))?;
    if let (Value::Object(base), Value::Object(given)) = (&base, &mut value) {
        for (k, v) in base {
            given.entry(k.clone()).or_insert(v.clone());
        }
    }
    Ok(serde_json::from_value(value)?)
}

fn read_limited(path: &Path, max: u64, what: &str) -> Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut text = String::new();
    file.take(max + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("{} is not a {what}: it is not UTF-8 text", path.display()))?;
    if text.len() as u64 > max {
        bail!("{} is too large to be a {what}", path.display());
    }
    Ok(text)
}

fn print_import(out: &mut impl Write, report: &ImportReport, json: bool) -> std::io::Result<()> {
    let name = report.file.display().to_string();
    let device = report.device_id.map(|d| d.to_string());
    if json {
        let gaps: Vec<Value> = report.gaps.iter().map(|(a, b)| json!([a, b])).collect();
        let line = json!({
            "file": name, "device_id": device, "fingerprint": report.fingerprint,
            "new_device": report.new_device, "device_pending": report.device_pending,
            "held_already": report.held_already, "new_entries": report.new_entries,
            "known_entries": report.known_entries, "gaps": gaps, "refused": report.refused,
        });
        return writeln!(out, "{line}");
    }
    // The file name comes from the stick and the reason may quote the bundle: neither may
    // break the line, whatever `out` escapes besides.
    let name = terminal_line(&name);
    let short = device
        .as_deref()
        .map(|d| d[..8].to_owned())
        .unwrap_or_else(|| "?".into());
    match &report.refused {
        Some(reason) => writeln!(
            out,
            "{name}: REFUSED (quarantined): {}",
            terminal_line(reason)
        ),
        None => {
            writeln!(
                out,
                "{name}: device {short}…: {} new, {} already known",
                report.new_entries, report.known_entries
            )?;
            if report.device_pending {
                writeln!(
                    out,
                    "  {} device {}, fingerprint {}: PENDING, its records count nowhere until you check the fingerprint with the observer and run `truce devices accept {}`",
                    if report.new_device { "new" } else { "unaccepted" },
                    device.as_deref().unwrap_or("?"),
                    report.fingerprint.as_deref().unwrap_or("?"),
                    device.as_deref().unwrap_or("?"),
                )?;
            }
            for (a, b) in &report.gaps {
                if a == b {
                    writeln!(out, "  gap: device {short}…: entry {a} missing")?;
                } else {
                    writeln!(out, "  gap: device {short}…: entries {a}–{b} missing")?;
                }
            }
            Ok(())
        }
    }
}

/// An observation reference for `show` and `amend`: the id part, and the device's if given.
fn observation_ref(id: String, device: Option<String>) -> String {
    match device {
        Some(device) => format!("{id}@{device}"),
        None => id,
    }
}

fn millis_to_utc(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The latest daily cut-off (HH:MM, UTC) at or before now.
fn latest_cutoff(cutoff: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    let time = chrono::NaiveTime::parse_from_str(cutoff, "%H:%M")
        .map_err(|_| UsageError(format!("`{cutoff}` is not a time of day (HH:MM)")))?;
    let now = chrono::Utc::now();
    let today = now.date_naive().and_time(time).and_utc();
    Ok(if today <= now {
        today
    } else {
        today - chrono::Duration::days(1)
    })
}

/// Parses `--from`/`--to`: a day (UTC midnight; `--to` includes the whole day) or RFC 3339.
fn parse_bound(text: &str, end: bool) -> Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        UsageError(format!(
            "`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time"
        ))
    })?;
    Ok(truce_core::report::utc_day_bound_ms(day, end))
}

fn observation_filter(args: &FilterArgs) -> Result<ObservationFilter> {
    let statuses = args
        .statuses
        .iter()
        .map(|s| {
            VerificationStatus::from_code(s).ok_or_else(|| {
                anyhow::Error::from(UsageError(format!(
                    "unknown status `{s}`; use one of: unverified, corroborated, verified, disputed, unfounded"
                )))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let device = match &args.device {
        None => None,
        Some(d) => Some(
            uuid::Uuid::parse_str(d)
                .map_err(|_| UsageError(format!("`{d}` is not a device id (a UUID)")))?,
        ),
    };
    Ok(ObservationFilter {
        from_ms: args
            .from
            .as_deref()
            .map(|t| parse_bound(t, false))
            .transpose()?,
        to_ms: args
            .to
            .as_deref()
            .map(|t| parse_bound(t, true))
            .transpose()?,
        kinds: args.kinds.clone(),
        categories: args.categories.clone(),
        statuses,
        device,
        text: args.search.clone(),
        limit: None,
        include_pending_devices: false,
        sort: match args.sort {
            SortArg::Newest => SortOrder::NewestObserved,
            SortArg::Oldest => SortOrder::OldestObserved,
            SortArg::Recorded => SortOrder::NewestRecorded,
            SortArg::Severity => SortOrder::Severity,
            SortArg::Kind => SortOrder::Kind,
        },
    })
}

fn data_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = given {
        if dir.as_os_str().is_empty() {
            return Err(UsageError(
                "--data-dir (or TRUCE_DATA_DIR) is empty; give a folder".into(),
            )
            .into());
        }
        return Ok(dir);
    }
    directories::ProjectDirs::from("org", "Truce", "truce")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or_else(|| {
            anyhow!("cannot find a home directory for the journal; give one with --data-dir DIR")
        })
}

/// How hard new key files stretch the passphrase: age's calibration, unless a debug build
/// (the tests) is given a work factor in `TRUCE_INSECURE_KDF_WORK_FACTOR`.
fn kdf_cost() -> Result<KdfCost> {
    kdf_cost_from(
        std::env::var_os(KDF_WORK_FACTOR_ENV),
        cfg!(debug_assertions),
    )
}

/// `kdf_cost` for the variable's value, in a debug build or not. A release build refuses the
/// variable rather than ignore it, so nobody believes a weak key file is what they asked for.
fn kdf_cost_from(value: Option<std::ffi::OsString>, debug_build: bool) -> Result<KdfCost> {
    let Some(value) = value else {
        return Ok(KdfCost::Calibrated);
    };
    if !debug_build {
        return Err(UsageError(format!(
            "{KDF_WORK_FACTOR_ENV} is set, but it is for tests only: it would make the passphrase easy to guess, and this build refuses it. Unset it (`unset {KDF_WORK_FACTOR_ENV}`) and run the command again"
        ))
        .into());
    }
    let n: u8 = value
        .to_str()
        .and_then(|text| text.parse().ok())
        .filter(|n| (1..=30).contains(n))
        .ok_or_else(|| {
            UsageError(format!(
                "{KDF_WORK_FACTOR_ENV} must be a number from 1 to 30"
            ))
        })?;
    Ok(KdfCost::WorkFactor(n))
}

fn unlock(dir: &Path) -> Result<Journal> {
    if !dir.join(truce_core::journal::KEY_FILE).exists()
        && !dir.join(truce_core::journal::DATABASE_FILE).exists()
    {
        return Err(JournalError::NotFound(dir.to_path_buf()).into());
    }
    let passphrase = passphrase(PASSPHRASE_ENV, "Passphrase: ")?;
    Ok(Journal::open(dir, &passphrase)?)
}

fn passphrase(env: &str, prompt: &str) -> Result<SecretString> {
    if let Ok(value) = std::env::var(env) {
        return Ok(SecretString::from(value));
    }
    rpassword::prompt_password(prompt)
        .map(SecretString::from)
        .map_err(|_| {
            anyhow!("no passphrase: type it at the prompt in a terminal, or set {env} for scripts (less safe: other programs of yours can read it)")
        })
}

fn new_passphrase(env: &str) -> Result<SecretString> {
    if std::env::var(env).is_ok() {
        return passphrase(env, "");
    }
    let first = passphrase(env, "New passphrase (at least 8 characters): ")?;
    let second = passphrase(env, "Repeat the passphrase: ")?;
    if first.expose_secret() != second.expose_secret() {
        bail!("the two passphrases differ; nothing was changed. Try again");
    }
    Ok(first)
}

/// Reads one JSON object from `path`, or from stdin when `path` is None.
fn read_object(path: Option<&Path>, what: &str) -> Result<Map<String, Value>> {
    let mut text = String::new();
    match path {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            file.take(MAX_INPUT_BYTES + 1)
                .read_to_string(&mut text)
                .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                note!("Type the {what} as JSON, then press Ctrl-D:");
            }
            stdin
                .lock()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_string(&mut text)
                .context("standard input is not UTF-8 text")?;
        }
    }
    if text.len() as u64 > MAX_INPUT_BYTES {
        bail!("the {what} is larger than 1 MiB; send one observation at a time");
    }
    if text.trim().is_empty() {
        return Err(UsageError(format!(
            "no {what} given: send a JSON object on stdin or with --json FILE (see `truce record --help`)"
        ))
        .into());
    }
    Ok(truce_sync::parse_object(&text).map_err(JournalError::Invalid)?)
}

/// The last 8 hex digits of the id: the random part of a UUID v7, so it tells records apart
/// (`show` and `amend` accept it).
fn short_id(rev: &ObservationRevision) -> String {
    let id = rev.observation.id.simple().to_string();
    id[id.len() - 8..].to_owned()
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// The list as a table; with `with_status`, a STATUS column too.
fn print_table(out: &mut impl Write, rows: &[QueueRow], with_status: bool) -> Result<()> {
    let status_header = if with_status {
        format!("{:<12}  ", "STATUS")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{:<8}  {:<23}  {:<30}  {:<10}  {:>3}  {:>3}  {status_header}NARRATIVE",
        "ID", "OBSERVED", "KIND/CATEGORY", "METHOD", "SEV", "REV"
    )?;
    for row in rows {
        let rev = &row.revision;
        let o = &rev.observation;
        let status = if with_status {
            format!("{:<12}  ", row.status.code())
        } else {
            String::new()
        };
        let mut marks = String::new();
        if row.device_pending {
            marks.push_str("[device pending] ");
        }
        for other in &row.id_also_used_by {
            let other = other.to_string();
            marks.push_str(&format!(
                "[id also used by device …{}] ",
                &other[other.len() - 8..]
            ));
        }
        writeln!(
            out,
            "{:<8}  {:<23}  {:<30}  {:<10}  {:>3}  {:>3}  {status}{marks}{}",
            short_id(rev),
            o.observed_at.format("%Y-%m-%d %H:%M %:z"),
            one_line(&format!("{}/{}", o.kind, o.category), 30),
            o.method.code(),
            o.severity.map_or("-".to_owned(), |s| s.to_string()),
            rev.revision,
            one_line(&o.narrative, 50)
        )?;
    }
    Ok(())
}

fn print_detail(out: &mut impl Write, history: &[ObservationRevision]) -> Result<()> {
    let Some(current) = history.last() else {
        return Ok(());
    };
    let fields = match serde_json::to_value(&current.observation)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (key, value) in &fields {
        if value.is_null() || value == &json!([]) || value == &json!("") {
            continue;
        }
        writeln!(out, "{key:<16} {}", detail_text(&display_value(value)))?;
    }
    writeln!(out, "{:<16} {}", "device_id", current.device_id)?;
    writeln!(
        out,
        "\nHistory ({} revision{}):",
        history.len(),
        if history.len() == 1 { "" } else { "s" }
    )?;
    let mut previous: Option<Map<String, Value>> = None;
    for rev in history {
        let fields = match serde_json::to_value(&rev.observation)? {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let change = match &previous {
            None => "first saved".to_owned(),
            Some(prev) => {
                let changed: Vec<String> = fields
                    .iter()
                    .filter(|(k, v)| prev.get(*k) != Some(*v))
                    .map(|(k, v)| format!("{k} = {}", one_line(&display_value(v), 40)))
                    .collect();
                format!("changed {}", changed.join(", "))
            }
        };
        writeln!(
            out,
            "  rev {}  {}  {}  {}",
            rev.revision,
            rev.recorded_at.format("%Y-%m-%d %H:%M:%S %:z"),
            terminal_line(&rev.observer),
            change
        )?;
        previous = Some(fields);
    }
    Ok(())
}

/// A value of `show`'s detail: each line after the first indented under the value's column,
/// so that no line of a narrative can pass for a field; every control character but the line
/// breaks and tabs escaped.
fn detail_text(text: &str) -> String {
    let indent = format!("\n{:17}", "");
    text.lines()
        .map(terminal_safe)
        .collect::<Vec<_>>()
        .join(&indent)
}

fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "(cleared)".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let quoted = anyhow::Error::from(JournalError::Io {
            action: "read",
            path: "/media/usb/x".into(),
            cause: io,
        });
        assert_eq!(
            error_text(&quoted),
            "cannot read /media/usb/x: no such file"
        );
        let outer =
            anyhow::Error::from(std::io::Error::other("disk gone")).context("cannot export");
        assert_eq!(error_text(&outer), "cannot export: disk gone");
    }
    use clap::CommandFactory;

    /// clap checks the definition (unique flag names, valid defaults) only when asked.
    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn report_bounds_parse_days_and_times() {
        let day = parse_bound("2026-11-20", false).expect("day");
        let end = parse_bound("2026-11-20", true).expect("end of day");
        assert_eq!(end - day, 24 * 3_600_000);
        assert_eq!(
            parse_bound("2026-11-20T03:00:00+03:00", false).expect("time"),
            day
        );
        assert!(parse_bound("yesterday", false).is_err());
        assert!(latest_cutoff("25:00").is_err());
        assert!(latest_cutoff("19:30").expect("cut-off") <= chrono::Utc::now());
    }

    #[test]
    fn the_insecure_work_factor_is_for_debug_builds_only() {
        let set = || Some(std::ffi::OsString::from("10"));
        assert_eq!(
            kdf_cost_from(None, false).expect("unset"),
            KdfCost::Calibrated
        );
        assert_eq!(
            kdf_cost_from(None, true).expect("unset"),
            KdfCost::Calibrated
        );
        assert_eq!(
            kdf_cost_from(set(), true).expect("debug build"),
            KdfCost::WorkFactor(10)
        );
        let refused = kdf_cost_from(set(), false).expect_err("release build");
        assert!(refused.downcast_ref::<UsageError>().is_some());
        let message = refused.to_string();
        assert!(
            message.contains(KDF_WORK_FACTOR_ENV) && message.contains("Unset it"),
            "{message}"
        );
        for bad in ["0", "31", "ten", ""] {
            assert!(
                kdf_cost_from(Some(bad.into()), true).is_err(),
                "{bad:?} must be refused"
            );
        }
    }
}
