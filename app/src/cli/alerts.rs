//! `truce alerts`: coordinators see the escalation alerts the mission profile's rules raise.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;

use super::filter::millis_to_utc;
use super::json;
use super::output::note;
use super::session::{profile_areas, unlock};
use crate::terminal::terminal_line;

/// Flags of `truce alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Print JSON Lines.
    #[arg(long)]
    pub json: bool,
}

/// Prints each alert with its records.
pub fn run(args: AlertsArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let journal = unlock(dir)?;
    let alerts = journal.alerts()?;
    let areas = profile_areas(&journal)?;
    for a in &alerts {
        if args.json {
            json::write_line(out, &json::Alert::new(a, &areas))?;
            continue;
        }
        writeln!(
            out,
            "level {}  {}  area {}  {} records, {} to {}",
            a.level,
            terminal_line(&a.rule),
            terminal_line(if a.area.is_empty() { "(none)" } else { &a.area }),
            a.records.len(),
            millis_to_utc(a.from_ms).to_rfc3339(),
            millis_to_utc(a.to_ms).to_rfc3339()
        )?;
        for key in &a.records {
            writeln!(out, "    {}  (device {})", key.id, key.device_id)?;
        }
    }
    if alerts.is_empty() && !args.json {
        note!("No escalation alerts.");
    }
    Ok(())
}
