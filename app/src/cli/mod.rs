//! The `truce` command line: the clap definition, and dispatch to one module per command.
//!
//! Contract (relied on by scripts and tests): exit 0 ok, 1 operational error, 2 usage error;
//! errors go to stderr and begin with `error:`; machine output goes to stdout only, and its
//! JSON shapes are the typed structs of `json` (docs/cli-json.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

use crate::terminal::{OutputKind, TerminalWriter};

mod error;
mod filter;
mod input;
mod json;
mod output;
mod session;

mod alerts;
mod amend;
mod attach;
mod check;
mod devices;
mod enrol;
mod events;
mod evidence;
mod export;
mod export_data;
mod forward;
mod import;
mod init;
mod keys;
mod link;
mod list;
mod man;
mod passwd;
mod profile;
mod receipts;
mod record;
mod report;
mod settings;
mod show;
mod status;
mod verify;
mod wipe;

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

/// The subcommands. Each one's flags and `run` are in the module of the same name.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new encrypted journal and this device's identity.
    Init(init::InitArgs),
    /// Save one observation (schema v1 JSON on stdin or --json FILE, or quick-entry flags).
    /// Prints only the new id.
    Record(record::RecordArgs),
    /// List the observations, newest first (latest revision of each).
    List(list::ListArgs),
    /// Show one observation with its revision history.
    Show(show::ShowArgs),
    /// Amend an observation: a partial JSON object (stdin or --json FILE) becomes a new revision.
    /// Prints only the new revision number.
    Amend(amend::AmendArgs),
    /// Attach evidence files (photos, recordings, video, PDF) to an observation of this device:
    /// a new revision that names them by SHA-256; the files are kept encrypted in the journal.
    Attach(attach::AttachArgs),
    /// Write an attachment's original bytes to a new file: a copy in the clear, NOT encrypted.
    SaveCopy(attach::SaveCopyArgs),
    /// Change the passphrase and re-encrypt the journal with a new key, so that an old copy of
    /// the key file with the old passphrase no longer opens it.
    Passwd,
    /// Emergency wipe: destroy the key, then the database. Irreversible; needs no passphrase.
    Wipe(wipe::WipeArgs),
    /// Show this device's identity and the journal's size.
    Status,
    /// Show the unlock policy (wipe after N wrong passphrases in a row), or set it with
    /// --wipe-after (the passphrase is asked first). The GUI's setting is the same one.
    Settings(settings::SettingsArgs),
    /// Run the full integrity checks on the journal: SQLite's, SQLCipher's, the hash chains
    /// of the device log and of every entry received, and the kept escalation alerts.
    Check,
    /// Mission profiles: create (coordinator), import (device), show.
    Profile(profile::ProfileArgs),
    /// Show the keys to give to others: the coordinator's age recipient, the device fingerprint.
    Keys(keys::KeysArgs),
    /// Write signed, encrypted bundles of the entries no bundle carried yet into DIR (one per
    /// range of them); prints their paths.
    Export(export::ExportArgs),
    /// Coordinators: give an observation a verification status with a note (kept with who and when).
    Verify(verify::VerifyArgs),
    /// Coordinators: link reports of the same event (two teams heard the same shelling).
    Link(link::LinkArgs),
    /// Coordinators: the events and the reports linked to each.
    Events(events::EventsArgs),
    /// Coordinators: every device bundles came from, with its fingerprint, entries, gaps and
    /// whether it is accepted; `truce devices accept ID` accepts one.
    Devices(devices::DevicesArgs),
    /// Coordinators: write an observation's evidence package into a new folder: the original
    /// files, the signed entries naming them, the device's key, the trail, and a README with
    /// the sha256sum and openssl commands that check them. NOT encrypted.
    Evidence(evidence::EvidenceArgs),
    /// Coordinators: export observations to CSV, GeoJSON or HXL; --public redacts for publication.
    ExportData(export_data::ExportDataArgs),
    /// Coordinators: the periodic report, by area, kind, category, party and method, against the
    /// previous period, with daily counts for the last 30 days.
    Report(report::ReportArgs),
    /// Coordinators: escalation alerts raised by the mission profile's rules, with their records.
    Alerts(alerts::AlertsArgs),
    /// Coordinators: import bundle files, or folders of them; prints a report per bundle.
    /// Monitors: apply the coordinators' receipts among them (others are passed over).
    Import(import::ImportArgs),
    /// Regional offices: write the bundle files HQ has not had from this office yet into DIR,
    /// byte for byte; HQ's receipts, imported here, let the office drop them.
    Forward(forward::ForwardArgs),
    /// Monitors: write this device's enrolment request into DIR for the coordinators, and show
    /// the fingerprint to read to them.
    Enrol(enrol::EnrolArgs),
    /// Coordinators: write a receipt for each device into DIR: the entries held, those
    /// missing, the profile in force. Each opens only on its device.
    Receipts(receipts::ReceiptsArgs),
    /// Packaging: print the truce(1) man page (roff), or write every page into --out-dir.
    #[command(hide = true)]
    Man(man::ManArgs),
}

impl Command {
    /// How stdout is escaped: JSON output keeps its data exact, text is made terminal-safe
    /// (see `crate::terminal`).
    fn output_kind(&self) -> OutputKind {
        let json = match self {
            Command::List(a) => a.json,
            Command::Show(a) => a.json,
            Command::Events(a) => a.json,
            Command::Devices(a) => a.json,
            Command::Alerts(a) => a.json,
            Command::Import(a) => a.json,
            Command::Report(a) => a.format == report::ReportFormat::Json,
            _ => false,
        };
        if json {
            OutputKind::Json
        } else {
            OutputKind::Text
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { error::EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => error::report(&e),
    }
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
    use anyhow::Context;
    truce_ui::run(dir, session::kdf_cost()?).context(
        "cannot open the window. Without a display, use the subcommands (see `truce --help`)",
    )
}

/// A headless build (`--no-default-features`) has no window to open.
#[cfg(not(feature = "gui"))]
fn run_gui(_dir: &Path) -> Result<()> {
    Err(error::usage(
        "this build of Truce has no window (it was built without the `gui` feature); use the subcommands (see `truce --help`)",
    ))
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<()> {
    let Some(command) = cli.command else {
        // No subcommand: the GUI, on the same journal the subcommands use.
        let dir = session::data_dir(cli.data_dir)?;
        return run_gui(&dir);
    };
    if let Command::Man(args) = command {
        // Needs no journal, so no data directory either.
        return man::run(args, Cli::command());
    }
    let dir = session::data_dir(cli.data_dir)?;
    let stdout = std::io::stdout();
    let mut out = TerminalWriter::new(stdout.lock(), command.output_kind());
    let out = &mut out;
    match command {
        Command::Init(args) => init::run(args, &dir, out),
        Command::Record(args) => record::run(args, &dir, out),
        Command::List(args) => list::run(args, &dir, out),
        Command::Show(args) => show::run(args, &dir, out),
        Command::Amend(args) => amend::run(args, &dir, out),
        Command::Attach(args) => attach::run(args, &dir, out),
        Command::SaveCopy(args) => attach::run_save_copy(args, &dir, out),
        Command::Passwd => passwd::run(&dir),
        Command::Wipe(args) => wipe::run(args, &dir),
        Command::Status => status::run(&dir, out),
        Command::Settings(args) => settings::run(args, &dir, out),
        Command::Check => check::run(&dir, out),
        Command::Profile(args) => profile::run(args, &dir, out),
        Command::Keys(args) => keys::run(args, &dir, out),
        Command::Export(args) => export::run(args, &dir, out),
        Command::Verify(args) => verify::run(args, &dir, out),
        Command::Link(args) => link::run(args, &dir, out),
        Command::Events(args) => events::run(args, &dir, out),
        Command::Devices(args) => devices::run(args, &dir, out),
        Command::Evidence(args) => evidence::run(args, &dir, out),
        Command::ExportData(args) => export_data::run(args, &dir, out),
        Command::Report(args) => report::run(args, &dir, out),
        Command::Alerts(args) => alerts::run(args, &dir, out),
        Command::Import(args) => import::run(args, &dir, out),
        Command::Receipts(args) => receipts::run(args, &dir, out),
        Command::Enrol(args) => enrol::run(args, &dir, out),
        Command::Forward(args) => forward::run(args, &dir, out),
        Command::Man(_) => Ok(()), // handled above, before the data directory
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap checks the definition (unique flag names, valid defaults) only when asked.
    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
