//! `truce list`: the observations, newest first (latest revision of each), as a table or JSON
//! Lines.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use truce_core::model::{DeliveryState, QueueRow};

use super::filter::{observation_filter, FilterArgs};
use super::json;
use super::output::{note, one_line, short_tail};
use super::session::{profile_areas, unlock};
use truce_core::period::MissionZone;

/// Flags of `truce list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON Lines (schema v1 names plus revision, recorded_at, device_id, observer).
    #[arg(long)]
    pub json: bool,
    /// Show at most N observations.
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// Add the verification status to each row (a `status` field with --json).
    #[arg(long)]
    with_status: bool,
    #[command(flatten)]
    filter: FilterArgs,
}

/// Prints the observations the filters select.
pub fn run(args: ListArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    // Checked before the passphrase is asked for; days are the mission's, known once unlocked.
    observation_filter(&args.filter, MissionZone::Utc)?;
    let journal = unlock(dir)?;
    let mut filter = observation_filter(&args.filter, journal.mission_zone())?;
    filter.limit = args.limit;
    // Listed, marked: records of devices not yet accepted, and ids two devices used.
    filter.include_pending_devices = true;
    let rows = journal.query(&filter)?;
    // On a monitor's device, where each record stands on its way to the coordinators.
    let delivery = if journal.device().role == truce_sync::Role::Monitor {
        let ids: Vec<_> = rows.iter().map(|r| r.revision.observation.id).collect();
        Some(journal.delivery_states(&ids)?)
    } else {
        None
    };
    let state_of = |row: &QueueRow| {
        delivery
            .as_ref()
            .and_then(|d| d.get(&row.revision.observation.id).copied())
    };
    if args.json {
        let areas = profile_areas(&journal)?;
        for row in &rows {
            let mut line = json::ListedObservation::new(row, args.with_status, &areas);
            line.delivery = state_of(row).map(json::delivery_code);
            json::write_line(out, &line)?;
        }
    } else if rows.is_empty() {
        if journal.count()? == 0 {
            note!("The journal has no observations yet. Save one with `truce record`.");
        } else {
            note!("No observation matches these filters.");
        }
    } else {
        write_table(out, &rows, args.with_status, &state_of)?;
    }
    Ok(())
}

/// The list as a table; with `with_status`, a STATUS column too.
fn write_table(
    out: &mut impl Write,
    rows: &[QueueRow],
    with_status: bool,
    state_of: &dyn Fn(&QueueRow) -> Option<DeliveryState>,
) -> Result<()> {
    let mut status_header = if with_status {
        format!("{:<12}  ", "STATUS")
    } else {
        String::new()
    };
    let with_delivery = rows.iter().any(|r| state_of(r).is_some());
    if with_delivery {
        status_header.push_str(&format!("{:<22}  ", "DELIVERY"));
    }
    writeln!(
        out,
        "{:<8}  {:<23}  {:<30}  {:<10}  {:>3}  {:>3}  {status_header}NARRATIVE",
        "ID", "OBSERVED", "KIND/CATEGORY", "METHOD", "SEV", "REV"
    )?;
    for row in rows {
        let rev = &row.revision;
        let o = &rev.observation;
        let mut status = if with_status {
            format!("{:<12}  ", row.status.code())
        } else {
            String::new()
        };
        if with_delivery {
            let state = match state_of(row) {
                Some(DeliveryState::NotExported) => "not exported",
                Some(DeliveryState::AwaitingConfirmation) => "awaiting confirmation",
                Some(DeliveryState::Received) => "received",
                None => "-",
            };
            status.push_str(&format!("{state:<22}  "));
        }
        let mut marks = String::new();
        if row.device_pending {
            marks.push_str("[device pending] ");
        }
        if row.after_revocation {
            marks.push_str("[after revocation] ");
        }
        for other in &row.id_also_used_by {
            let other = other.to_string();
            marks.push_str(&format!(
                "[id also used by device …{}] ",
                short_tail(&other)
            ));
        }
        // The last 8 hex digits of the id: the random part of a UUID v7, so it tells records
        // apart (`show` and `amend` accept it).
        let id = o.id.simple().to_string();
        writeln!(
            out,
            "{:<8}  {:<23}  {:<30}  {:<10}  {:>3}  {:>3}  {status}{marks}{}",
            short_tail(&id),
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
