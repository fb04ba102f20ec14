//! `truce events`: coordinators list the events and the reports linked to each.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;

use super::json;
use super::session::unlock;

/// Flags of `truce events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Print JSON Lines.
    #[arg(long)]
    pub json: bool,
}

/// Prints each event with its reports.
pub fn run(args: EventsArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let journal = unlock(dir)?;
    for (event, keys) in journal.events()? {
        if args.json {
            json::write_line(out, &json::Event::new(&event, &keys))?;
        } else {
            writeln!(out, "event {event}: {} reports", keys.len())?;
            for key in keys {
                writeln!(out, "    {}  (device {})", key.id, key.device_id)?;
            }
        }
    }
    Ok(())
}
