//! `truce import`: coordinators import bundle files, or folders of them, with a report per
//! bundle as soon as it is on disk; monitors apply the receipts addressed to them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use truce_core::model::ImportReport;

use super::json;
use super::output::note;
use super::session::unlock;
use crate::terminal::terminal_line;

/// Flags of `truce import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Bundle files or folders holding `*.age` bundles.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print the report as JSON Lines, one object per bundle.
    #[arg(long)]
    pub json: bool,
}

/// Imports every bundle; fails (exit 1) if any was refused.
pub fn run(args: ImportArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let files = truce_core::exchange::bundle_files(&args.paths)?;
    if files.is_empty() {
        bail!("no bundle files (*.age) found in the given paths");
    }
    let mut journal = unlock(dir)?;
    if journal.device().role == truce_sync::Role::Monitor {
        return import_receipts(&mut journal, &args, &files, out);
    }
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    let (mut done, mut refused, mut passed) = (0usize, 0usize, 0usize);
    let (mut new, mut known) = (0u64, 0u64);
    let mut printed = Ok(());
    let imported = journal.import_bundles(&files, |durable| {
        bar.inc(durable.len() as u64);
        for report in durable {
            done += 1;
            refused += usize::from(report.refused.is_some());
            passed += usize::from(report.passed_over.is_some());
            new += report.new_entries;
            known += report.known_entries;
            if printed.is_ok() {
                printed = bar.suspend(|| write_report(out, report, args.json));
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
    let passed_note = if passed > 0 {
        format!(" ({passed} other file(s), such as receipts, passed over)")
    } else {
        String::new()
    };
    note!(
        "{} bundle(s): {} imported, {refused} refused; {new} new entries, {known} already known{passed_note}.",
        files.len() - passed,
        files.len() - refused - passed
    );
    if refused > 0 {
        bail!("{refused} bundle(s) were refused and quarantined; see the reasons above");
    }
    Ok(())
}

/// One bundle's report: a JSON line, or text for people.
fn write_report(out: &mut impl Write, report: &ImportReport, as_json: bool) -> Result<()> {
    if as_json {
        return json::write_line(out, &json::ImportedBundle::from(report));
    }
    // The file name comes from the stick and the reason may quote the bundle: neither may
    // break the line, whatever `out` escapes besides.
    let name = report.file.display().to_string();
    let name = terminal_line(&name);
    let device = report.device_id.map(|d| d.to_string());
    // Devices set up in the same minute share the beginning of their UUID v7: name them by
    // observer and the start of their key's fingerprint, as the devices screen does.
    let short = match (&report.observer, &report.fingerprint) {
        (Some(observer), Some(fingerprint)) => format!(
            "{} ({})",
            terminal_line(observer),
            fingerprint.get(..9).unwrap_or(fingerprint)
        ),
        _ => device
            .as_deref()
            .map(|d| format!("{}…", d.get(..8).unwrap_or(d)))
            .unwrap_or_else(|| "?".into()),
    };
    if let Some(kind) = &report.passed_over {
        writeln!(out, "{name}: passed over: a {kind}, not a bundle")?;
        return Ok(());
    }
    if let Some(reason) = &report.refused {
        writeln!(
            out,
            "{name}: REFUSED (quarantined): {}",
            terminal_line(reason)
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{name}: {short}: {} new, {} already known",
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
            writeln!(out, "  gap: {short}: entry {a} missing")?;
        } else {
            writeln!(out, "  gap: {short}: entries {a}–{b} missing")?;
        }
    }
    Ok(())
}

/// On a monitor's device: the receipts addressed to it among `files` are applied, the rest
/// (bundles, receipts for other devices) passed over without a word, and forged or damaged
/// ones refused with their reason (exit 1). A file named alone that is not for this device
/// says so.
fn import_receipts(
    journal: &mut truce_core::Journal,
    args: &ImportArgs,
    files: &[PathBuf],
    out: &mut impl Write,
) -> Result<()> {
    let named_alone = args.paths.len() == 1 && args.paths[0].is_file();
    if named_alone {
        let report = journal.import_receipt(&files[0])?;
        write_receipt(out, &report, args.json)?;
        return Ok(());
    }
    let mut printed = Ok(());
    let read = journal.import_receipts(files, |report| {
        if printed.is_ok() {
            printed = write_receipt(out, report, args.json);
        }
    })?;
    printed?;
    for refused in &read.refused {
        if args.json {
            json::write_line(
                out,
                &json::RefusedReceipt {
                    file: refused.file.display().to_string(),
                    refused: &refused.reason,
                },
            )?;
        } else {
            writeln!(
                out,
                "{}: REFUSED: {}",
                terminal_line(&refused.file.display().to_string()),
                terminal_line(&refused.reason)
            )?;
        }
    }
    if read.applied.is_empty() && read.refused.is_empty() {
        note!("No receipt for this device among these files.");
    }
    if !read.refused.is_empty() {
        bail!(
            "{} file(s) refused; nothing of them was applied (see the reasons above). Ask the coordinator for new receipts.",
            read.refused.len()
        );
    }
    Ok(())
}

/// One applied receipt: a JSON line, or text for people.
fn write_receipt(
    out: &mut impl Write,
    report: &truce_core::model::ReceiptApplied,
    as_json: bool,
) -> Result<()> {
    if as_json {
        return json::write_line(out, &json::AppliedReceipt::from(report));
    }
    let name = report.file.display().to_string();
    let name = terminal_line(&name);
    if report.applied_already {
        writeln!(out, "{name}: receipt applied before; nothing changed")?;
        return Ok(());
    }
    writeln!(
        out,
        "{name}: receipt from {}: entries through {} held, {} newly confirmed",
        terminal_line(&report.coordinator),
        report.held_through,
        report.newly_confirmed
    )?;
    if !report.missing.is_empty() {
        writeln!(
            out,
            "  missing at the coordinator: {}; the next `truce export` sends them again",
            super::status::ranges_text(&report.missing)
        )?;
    }
    if let Some(n) = report.profile_installed {
        writeln!(out, "  installed the mission profile number {n} it brought")?;
    }
    Ok(())
}
