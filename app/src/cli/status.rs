//! `truce status`: this device's identity and the journal's size.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use truce_sync::Role;

use super::session::unlock;
use crate::terminal::terminal_line;

/// Prints the device and the counts, one `name: value` line each.
pub fn run(dir: &Path, out: &mut impl Write) -> Result<()> {
    let journal = unlock(dir)?;
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
    if device.role == Role::Monitor {
        let d = journal.delivery()?;
        writeln!(
            out,
            "delivery:    {} confirmed by a coordinator, {} awaiting confirmation, {} not exported",
            d.confirmed, d.awaiting, d.not_exported
        )?;
        writeln!(
            out,
            "holds:       {} record(s) not yet confirmed, {} purged",
            d.unconfirmed_records, d.purged_records
        )?;
        match journal.purge_after_days()? {
            Some(days) => writeln!(
                out,
                "purge:       confirmed records leave this device {days} day(s) after their receipt"
            )?,
            None => writeln!(out, "purge:       off")?,
        }
        match &d.latest_receipt {
            Some((at, by)) => writeln!(
                out,
                "receipts:    {} applied; latest from {} issued {at}",
                d.receipts,
                terminal_line(by)
            )?,
            None => writeln!(out, "receipts:    none yet")?,
        }
        if !d.owed_again.is_empty() {
            writeln!(
                out,
                "resend:      {} (reported missing; the next export sends them again)",
                ranges_text(&d.owed_again)
            )?;
        }
    }
    if device.role == Role::Coordinator {
        let (received, quarantined) = journal.received_and_quarantined()?;
        writeln!(out, "received:    {received} entries")?;
        writeln!(out, "quarantined: {quarantined} bundles")?;
        if journal.is_regional_office() {
            let (kept, to_forward) = journal.forwarding_status()?;
            writeln!(
                out,
                "for HQ:      {kept} bundle(s) kept until HQ confirms them, {to_forward} not yet forwarded"
            )?;
        }
    }
    Ok(())
}

/// Ranges as `3–5, 9`.
pub fn ranges_text(ranges: &[(u64, u64)]) -> String {
    ranges
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
