//! The typed JSON the CLI prints (`--json`, `report --format json`) and writes: one struct per
//! output, documented field by field in docs/cli-json.md.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;
use truce_core::alerts::Alert as CoreAlert;
use truce_core::model::{ImportReport, KnownDevice, QueueRow, VerificationEvent};
use truce_sync::{ObservationKey, ObservationRevision};
use uuid::Uuid;

/// Writes `value` as one line of JSON Lines. A write error stays an `io::Error` (a reader
/// that stopped early is not a failure).
pub fn write_line(out: &mut impl Write, value: &impl Serialize) -> Result<()> {
    let line = serde_json::to_string(value)?;
    writeln!(out, "{line}")?;
    Ok(())
}

/// `value` as indented JSON, ending with a line break.
pub fn pretty(value: &impl Serialize) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

fn utc_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339()
}

/// A line of `truce list --json`: the latest revision of an observation.
#[derive(Debug, Serialize)]
pub struct ListedObservation<'a> {
    /// The revision, flat: schema v1 names plus `revision`, `recorded_at`, `device_id`, `observer`.
    #[serde(flatten)]
    pub revision: &'a ObservationRevision,
    /// Its verification status, with `--with-status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// Present (true) while its device is not accepted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub device_pending: bool,
    /// Other devices that used the same id.
    #[serde(skip_serializing_if = "<[Uuid]>::is_empty")]
    pub id_also_used_by: &'a [Uuid],
}

impl<'a> ListedObservation<'a> {
    /// The line for `row`; its status only when asked for.
    pub fn new(row: &'a QueueRow, with_status: bool) -> Self {
        ListedObservation {
            revision: &row.revision,
            status: with_status.then(|| row.status.code()),
            device_pending: row.device_pending,
            id_also_used_by: &row.id_also_used_by,
        }
    }
}

/// `truce show --json`.
#[derive(Debug, Serialize)]
pub struct ShownObservation<'a> {
    /// The latest revision.
    pub current: &'a ObservationRevision,
    /// Every revision, oldest first.
    pub history: &'a [ObservationRevision],
    /// The current verification status.
    pub status: &'static str,
    /// The verification trail, oldest first.
    pub verification: Vec<VerificationStep<'a>>,
}

/// One step of a verification trail.
#[derive(Debug, Serialize)]
pub struct VerificationStep<'a> {
    /// The status given.
    pub status: &'static str,
    /// Why.
    pub note: &'a str,
    /// Who gave it.
    pub by: &'a str,
    /// From which device.
    pub device_id: Uuid,
    /// When.
    pub at: &'a str,
}

impl<'a> From<&'a VerificationEvent> for VerificationStep<'a> {
    fn from(e: &'a VerificationEvent) -> Self {
        VerificationStep {
            status: e.status.code(),
            note: &e.note,
            by: &e.by_observer,
            device_id: e.by_device,
            at: &e.at,
        }
    }
}

/// A line of `truce events --json`.
#[derive(Debug, Serialize)]
pub struct Event<'a> {
    /// The event's id.
    pub event_id: &'a str,
    /// The linked observations' ids.
    pub observations: Vec<Uuid>,
    /// The devices that made them, in the same order.
    pub devices: Vec<Uuid>,
}

impl<'a> Event<'a> {
    /// The line for one event and its reports.
    pub fn new(event_id: &'a str, keys: &[ObservationKey]) -> Self {
        Event {
            event_id,
            observations: keys.iter().map(|k| k.id).collect(),
            devices: keys.iter().map(|k| k.device_id).collect(),
        }
    }
}

/// A line of `truce devices --json`.
#[derive(Debug, Serialize)]
pub struct Device<'a> {
    /// The device.
    pub device_id: Uuid,
    /// The observer named in its first bundle.
    pub observer: &'a str,
    /// Its signing key's fingerprint.
    pub fingerprint: &'a str,
    /// When its latest bundle was imported.
    pub last_bundle_at: Option<&'a str>,
    /// Entries held.
    pub entries: u64,
    /// Missing ranges of its log, `[first, last]`.
    pub gaps: &'a [(u64, u64)],
    /// Whether it is accepted.
    pub accepted: bool,
    /// When it was accepted.
    pub accepted_at: Option<&'a str>,
}

impl<'a> From<&'a KnownDevice> for Device<'a> {
    fn from(d: &'a KnownDevice) -> Self {
        Device {
            device_id: d.device_id,
            observer: &d.observer,
            fingerprint: &d.fingerprint,
            last_bundle_at: d.last_bundle_at.as_deref(),
            entries: d.entries,
            gaps: &d.gaps,
            accepted: d.accepted_at.is_some(),
            accepted_at: d.accepted_at.as_deref(),
        }
    }
}

/// `truce devices accept ID --json`.
#[derive(Debug, Serialize)]
pub struct AcceptedDevice<'a> {
    /// The device.
    pub device_id: Uuid,
    /// Its observer.
    pub observer: &'a str,
    /// Its fingerprint.
    pub fingerprint: &'a str,
    /// When it was accepted.
    pub accepted_at: Option<&'a str>,
    /// Whether this command accepted it (false: it was accepted already).
    pub was_pending: bool,
}

impl<'a> AcceptedDevice<'a> {
    /// The answer for `device`; `was_pending` when this command accepted it.
    pub fn new(device: &'a KnownDevice, was_pending: bool) -> Self {
        AcceptedDevice {
            device_id: device.device_id,
            observer: &device.observer,
            fingerprint: &device.fingerprint,
            accepted_at: device.accepted_at.as_deref(),
            was_pending,
        }
    }
}

/// A line of `truce alerts --json`.
#[derive(Debug, Serialize)]
pub struct Alert<'a> {
    /// The rule's name.
    pub rule: &'a str,
    /// Its level.
    pub level: u8,
    /// The area code.
    pub area: &'a str,
    /// First observation time in the window.
    pub from: String,
    /// Last observation time in the window.
    pub to: String,
    /// The observations' ids.
    pub records: Vec<Uuid>,
    /// Their devices, in the same order.
    pub devices: Vec<Uuid>,
}

impl<'a> Alert<'a> {
    /// The line for one alert.
    pub fn new(a: &'a CoreAlert) -> Self {
        Alert {
            rule: &a.rule,
            level: a.level,
            area: &a.area,
            from: utc_text(a.from_ms),
            to: utc_text(a.to_ms),
            records: a.records.iter().map(|k| k.id).collect(),
            devices: a.records.iter().map(|k| k.device_id).collect(),
        }
    }
}

/// `truce report --format json`.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Report<'a>(&'a truce_core::report::Report);

impl<'a> Report<'a> {
    /// The JSON of `report`.
    pub fn new(report: &'a truce_core::report::Report) -> Self {
        Report(report)
    }
}

/// A line of `truce import --json`: one bundle.
#[derive(Debug, Serialize)]
pub struct ImportedBundle<'a> {
    /// The bundle file.
    pub file: String,
    /// The sending device.
    pub device_id: Option<Uuid>,
    /// Its fingerprint.
    pub fingerprint: Option<&'a str>,
    /// A device never seen before.
    pub new_device: bool,
    /// The device is not accepted yet.
    pub device_pending: bool,
    /// This very bundle was imported before.
    pub held_already: bool,
    /// Entries added.
    pub new_entries: u64,
    /// Entries already held.
    pub known_entries: u64,
    /// Missing ranges of the device's log.
    pub gaps: &'a [(u64, u64)],
    /// Why the bundle was refused.
    pub refused: Option<&'a str>,
}

impl<'a> From<&'a ImportReport> for ImportedBundle<'a> {
    fn from(r: &'a ImportReport) -> Self {
        ImportedBundle {
            file: r.file.display().to_string(),
            device_id: r.device_id,
            fingerprint: r.fingerprint.as_deref(),
            new_device: r.new_device,
            device_pending: r.device_pending,
            held_already: r.held_already,
            new_entries: r.new_entries,
            known_entries: r.known_entries,
            gaps: &r.gaps,
            refused: r.refused.as_deref(),
        }
    }
}
