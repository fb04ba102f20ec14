//! `truce devices [accept ID]`: coordinators list the devices bundles came from, and accept
//! one once its fingerprint is confirmed with its observer.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::{Args, Subcommand};
use truce_core::model::KnownDevice;

use super::json;
use super::output::note;
use super::session::unlock;
use crate::terminal::terminal_line;

/// Flags of `truce devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Print JSON Lines.
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    action: Option<DevicesCommand>,
}

/// What `truce devices` does besides listing.
#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Accept a device once its fingerprint is confirmed with its observer (by phone, radio or
    /// in person): its records then count in alerts, reports and exports.
    Accept {
        /// The device id, or a unique beginning or end of it (as `truce devices` shows).
        id: String,
    },
    /// Enrol a device from its enrolment request (`truce enrol` on the device), once the
    /// fingerprint its observer reads from the device matches: without --fingerprint, shows
    /// the request's so you can compare.
    Enrol {
        /// The enrolment request file.
        file: std::path::PathBuf,
        /// The fingerprint the observer read from the device (`truce keys`).
        #[arg(long, value_name = "FP")]
        fingerprint: Option<String>,
    },
    /// Revoke a device (stolen, lost, no longer the mission's): its bundles going past the
    /// cut-off are quarantined, entries held past it flagged; the next profile and receipts
    /// carry the revocation.
    Revoke {
        /// The device id, or a unique beginning or end of it.
        id: String,
        /// Why, in a line: it travels with the revocation.
        #[arg(long)]
        reason: String,
        /// The last of its entries that still counts (default: the last one held now). A
        /// sequence number, not a time: a thief with the device's key can forge times.
        #[arg(long, value_name = "N")]
        after_seq: Option<u64>,
    },
}

/// Lists the devices, or accepts one.
pub fn run(args: DevicesArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    match args.action {
        Some(DevicesCommand::Accept { id }) => accept(dir, &id, args.json, out),
        Some(DevicesCommand::Enrol { file, fingerprint }) => {
            let mut journal = unlock(dir)?;
            let check = journal.inspect_enrolment(&file)?;
            let Some(fingerprint) = fingerprint else {
                writeln!(
                    out,
                    "device:      {}\nobserver:    {}\nteam:        {}\nfingerprint: {}",
                    check.device_id,
                    terminal_line(&check.observer),
                    terminal_line(check.team.as_deref().unwrap_or("-")),
                    check.fingerprint
                )?;
                anyhow::bail!(
                    "not enrolled yet: have the observer read the device's fingerprint (`truce keys` on it), compare, then run `truce devices enrol {} --fingerprint \"…\"`",
                    file.display()
                );
            };
            let device = journal.enrol_device(&file, &fingerprint)?;
            writeln!(out, "{}", device.device_id)?;
            note!(
                "Enrolled device {} ({}): its bundles are accepted, and receipts can reach it.",
                device.device_id,
                terminal_line(&device.observer)
            );
            Ok(())
        }
        Some(DevicesCommand::Revoke {
            id,
            reason,
            after_seq,
        }) => {
            let mut journal = unlock(dir)?;
            let r = journal.revoke_device(&id, &reason, after_seq)?;
            writeln!(out, "{}", r.device_id)?;
            note!(
                "Revoked device {} after its entry {}: its bundles going further are quarantined. Issue a new profile (`truce profile create`) and receipts so the mission learns of it.",
                r.device_id,
                r.after_seq
            );
            Ok(())
        }
        None => list(dir, args.json, out),
    }
}

fn accept(dir: &Path, id: &str, json: bool, out: &mut impl Write) -> Result<()> {
    let mut journal = unlock(dir)?;
    let (device, was_pending) = journal.accept_device(id)?;
    if json {
        return json::write_line(out, &json::AcceptedDevice::new(&device, was_pending));
    }
    writeln!(out, "{}", device.device_id)?;
    if was_pending {
        note!(
            "Accepted device {} ({}, fingerprint {}): its records now count in alerts, reports and exports.",
            device.device_id,
            terminal_line(&device.observer),
            device.fingerprint
        );
    } else {
        note!(
            "Device {} ({}) was accepted already, on {}.",
            device.device_id,
            terminal_line(&device.observer),
            device.accepted_at.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

fn list(dir: &Path, json: bool, out: &mut impl Write) -> Result<()> {
    let journal = unlock(dir)?;
    for d in journal.devices()? {
        if json {
            json::write_line(out, &json::Device::from(&d))?;
        } else {
            write_row(out, &d)?;
        }
    }
    Ok(())
}

fn write_row(out: &mut impl Write, d: &KnownDevice) -> Result<()> {
    let gaps: Vec<String> = d
        .gaps
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    writeln!(
        out,
        "{}  {:<8}  {:<20}  {}  newest record {}  bundle made {}  {} entries  {}",
        d.device_id,
        if d.revoked.is_some() {
            "REVOKED"
        } else if d.accepted_at.is_some() {
            "accepted"
        } else {
            "PENDING"
        },
        terminal_line(&d.observer),
        d.fingerprint,
        d.newest_entry_at.as_deref().unwrap_or("-"),
        d.latest_bundle_created_at.as_deref().unwrap_or("-"),
        d.entries,
        if gaps.is_empty() {
            "no gaps".to_owned()
        } else {
            format!("missing {}", gaps.join(", "))
        }
    )?;
    if let Some((after, at, reason)) = &d.revoked {
        writeln!(
            out,
            "  revoked {at} after entry {after}: {}",
            terminal_line(reason)
        )?;
    }
    Ok(())
}
