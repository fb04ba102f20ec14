//! `truce report`: coordinators' periodic report, as text, self-contained HTML or JSON.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use truce_core::period::{day_before, MissionZone};

use super::filter::{latest_cutoff, millis_to_utc, parse_bound};
use super::json;
use super::output::note;
use super::session::{profile_areas, unlock};

/// Flags of `truce report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Start (YYYY-MM-DD, YYYY-MM-DD HH:MM in the mission's time zone, or RFC 3339).
    /// Default: the same time the day before --to, in the mission's time zone.
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// End, exclusive (YYYY-MM-DD for the end of that day, YYYY-MM-DD HH:MM in the mission's
    /// time zone, or RFC 3339). Default: the latest daily cut-off.
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// The daily cut-off, HH:MM in the mission's time zone (UTC when its profile names
    /// none). Default: the profile's `reporting_day_ends`, else 00:00.
    #[arg(long, value_name = "HH:MM")]
    cutoff: Option<String>,
    /// text, html (self-contained, with the chart) or json.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
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

/// Builds the report; prints it, or writes it to `--out` and prints the path.
pub fn run(args: ReportArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    // The flags are checked before the passphrase is asked for, then read in the mission's
    // time zone, which only the unlocked journal knows.
    let bounds = |zone: MissionZone, day_ends: Option<&str>| -> Result<_> {
        let to = match &args.to {
            Some(t) => millis_to_utc(parse_bound(t, true, zone)?),
            None => latest_cutoff(args.cutoff.as_deref(), day_ends, zone)?,
        };
        let from = match &args.from {
            Some(f) => millis_to_utc(parse_bound(f, false, zone)?),
            None => day_before(to, zone),
        };
        Ok((from, to))
    };
    bounds(MissionZone::Utc, None)?;
    let journal = unlock(dir)?;
    let day_ends = journal
        .profile()?
        .and_then(|p| p.profile.reporting_day_ends);
    let (from, to) = bounds(journal.mission_zone(), day_ends.as_deref())?;
    let report = journal.report(from, to)?;
    let text = match args.format {
        ReportFormat::Text => truce_core::report::to_text(&report),
        ReportFormat::Json => json::pretty(&json::Report::new(&report, &profile_areas(&journal)?))?,
        ReportFormat::Html => {
            let mission = journal
                .profile()?
                .map(|p| p.profile.mission)
                .unwrap_or_else(|| "Truce".into());
            truce_core::report::to_html(&report, &mission)
        }
    };
    match args.out {
        Some(path) => {
            let signature = journal
                .write_publication(&path, text.as_bytes())
                .with_context(|| format!("cannot publish {}", path.display()))?;
            writeln!(out, "{}", path.display())?;
            note!(
                "Signed: {} (check it with `minisign -V -p truce.pub -m {}`; `truce keys` prints truce.pub).",
                signature.display(),
                path.display()
            );
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(())
}
