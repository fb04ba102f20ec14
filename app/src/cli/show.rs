//! `truce show`: one observation with its revision history and verification trail.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use serde_json::{Map, Value};
use truce_core::journal::JournalError;
use truce_sync::verification::VerificationStatus;
use truce_sync::ObservationRevision;

use super::json;
use super::output::one_line;
use super::session::{profile_areas, unlock};
use crate::terminal::{terminal_line, terminal_safe};

/// Flags of `truce show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The observation id, or a unique beginning or end of it (as `list` shows).
    id: String,
    /// The device that made it, when several devices used the id (a unique beginning or
    /// end of the device id; `ID@DEVICE` says the same).
    #[arg(long, value_name = "DEVICE")]
    device: Option<String>,
    /// Print JSON: {"current": {...}, "history": [...]}.
    #[arg(long)]
    pub json: bool,
}

/// An observation reference for `show` and `amend`: the id part, and the device's if given.
pub fn observation_ref(id: String, device: Option<String>) -> String {
    match device {
        Some(device) => format!("{id}@{device}"),
        None => id,
    }
}

/// Prints the observation, its history and its verification trail.
pub fn run(args: ShowArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let id = observation_ref(args.id, args.device);
    let journal = unlock(dir)?;
    let history = journal.show(&id)?;
    let current = history
        .last()
        .ok_or_else(|| JournalError::UnknownObservation(id.clone()))?;
    let trail = journal.verification_trail(&id)?;
    let status = trail
        .last()
        .map_or(VerificationStatus::Unverified, |e| e.status);
    let mut pending = Vec::new();
    for a in &current.observation.attachments {
        if !journal.holds_attachment(&a.sha256)? {
            pending.push(a.sha256.clone());
        }
    }
    if args.json {
        let areas = profile_areas(&journal)?;
        let shown = json::ShownObservation {
            current: json::Revision::new(current, &areas),
            history: history
                .iter()
                .map(|rev| json::Revision::new(rev, &areas))
                .collect(),
            status: status.code(),
            verification: trail.iter().map(json::VerificationStep::from).collect(),
            pending_attachments: pending,
        };
        out.write_all(json::pretty(&shown)?.as_bytes())?;
        return Ok(());
    }
    write_detail(out, &history, &pending)?;
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
    Ok(())
}

fn write_detail(
    out: &mut impl Write,
    history: &[ObservationRevision],
    pending: &[String],
) -> Result<()> {
    let Some(current) = history.last() else {
        return Ok(());
    };
    for (key, value) in &fields(current)? {
        if value.is_null()
            || value == &Value::Array(vec![])
            || value.as_str() == Some("")
            || key == "attachments"
        {
            continue;
        }
        writeln!(out, "{key:<16} {}", detail_text(&display_value(value)))?;
    }
    for a in &current.observation.attachments {
        writeln!(
            out,
            "{:<16} {}  ({})\n{:17}sha256 {}",
            "attachment",
            terminal_line(&a.name),
            terminal_line(&truce_core::evidence::summary(a)),
            "",
            a.sha256
        )?;
        if pending.contains(&a.sha256) {
            writeln!(out, "{:17}{}", "", truce_core::evidence::preview::PENDING)?;
        }
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
        let fields = fields(rev)?;
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

/// The observation's schema v1 fields, by name, to print and compare.
fn fields(rev: &ObservationRevision) -> Result<Map<String, Value>> {
    Ok(match serde_json::to_value(&rev.observation)? {
        Value::Object(map) => map,
        _ => Map::new(),
    })
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
