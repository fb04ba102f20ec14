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
    if device.role == Role::Coordinator {
        let (received, quarantined) = journal.received_and_quarantined()?;
        writeln!(out, "received:    {received} entries")?;
        writeln!(out, "quarantined: {quarantined} bundles")?;
    }
    Ok(())
}
