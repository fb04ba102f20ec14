//! `truce report`: coordinators' periodic report, as text, self-contained HTML or JSON.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::filter::{latest_cutoff, millis_to_utc, parse_bound};
use super::json;
use super::session::{profile_areas, unlock};

/// Flags of `truce report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
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
    let to = match &args.to {
        Some(t) => millis_to_utc(parse_bound(t, true)?),
        None => latest_cutoff(&args.cutoff)?,
    };
    let from = match &args.from {
        Some(f) => millis_to_utc(parse_bound(f, false)?),
        None => to - chrono::Duration::hours(24),
    };
    let journal = unlock(dir)?;
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
            truce_core::fsutil::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "{}", path.display())?;
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(())
}
