//! The typed JSON the CLI prints (`--json`, `report --format json`) and writes (`report
//! --format json --out FILE`): one struct per output, documented field by field in
//! docs/cli-json.md. One convention holds in all of them:
//!
//! - times Truce makes itself (`recorded_at`, `accepted_at`, import times...) are UTC, written
//!   with `Z`;
//! - observation times keep the offset they were observed with, and get a `_utc` companion
//!   (`observed_at_utc`) in UTC with `Z`;
//! - an area is `{"code": ..., "label": ...}` (the mission profile's) or `null`;
//! - daily counts are objects (`{"day": ..., "count": ...}`), not pairs.

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::Serialize;
use truce_core::alerts::Alert as CoreAlert;
use truce_core::model::{ImportReport, KnownDevice, QueueRow, VerificationEvent};
use truce_core::report::{DayCount, PeriodKind, Report as CoreReport, Tally};
use truce_sync::profile::{area_of, Area as ProfileArea};
use truce_sync::{Observation, ObservationKey, ObservationRevision};
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

/// `t` in UTC, RFC 3339 with `Z` (and fractional seconds only when it has them).
pub fn utc<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Unix milliseconds in UTC with `Z`.
fn utc_ms(ms: i64) -> String {
    utc(&DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

/// A time the journal keeps as RFC 3339 text (with the offset of the device's clock), in UTC
/// with `Z`. Text that is not RFC 3339 (which Truce never writes) is passed on unchanged.
fn stored_utc(text: &str) -> String {
    DateTime::parse_from_rfc3339(text).map_or_else(|_| text.to_owned(), |t| utc(&t))
}

/// An area of the mission profile. Where an output has an area, it is this or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area<'a> {
    /// The area's stable code.
    pub code: &'a str,
    /// Its name, as the profile gives it.
    pub label: &'a str,
}

impl<'a> Area<'a> {
    fn from_profile(area: &'a ProfileArea) -> Self {
        Area {
            code: &area.code,
            label: &area.label,
        }
    }

    /// The area `o` is in, by the one area rule (`truce_sync::profile::area_of`).
    fn of(areas: &'a [ProfileArea], o: &Observation) -> Option<Self> {
        area_of(areas, o.lat, o.lon, o.place.as_deref()).map(Area::from_profile)
    }

    /// The area with `code` ("" is no area). A code the profile no longer has keeps its code
    /// as its label.
    fn by_code(areas: &'a [ProfileArea], code: &'a str) -> Option<Self> {
        if code.is_empty() {
            return None;
        }
        Some(
            areas
                .iter()
                .find(|a| a.code == code)
                .map_or(Area { code, label: code }, Area::from_profile),
        )
    }
}

/// One revision of an observation: schema v1 fields plus the device's metadata, the UTC
/// companions of its times and its area.
#[derive(Debug, Serialize)]
pub struct Revision<'a> {
    /// The schema v1 fields, flat (`observed_at` with its own offset).
    #[serde(flatten)]
    pub observation: &'a Observation,
    /// `observed_at` in UTC.
    pub observed_at_utc: String,
    /// `observed_until` in UTC, or null.
    pub observed_until_utc: Option<String>,
    /// 1 for the first save, one more for each amendment.
    pub revision: u32,
    /// When this revision was saved, UTC.
    pub recorded_at: String,
    /// The device that saved it.
    pub device_id: Uuid,
    /// The observer signed in on that device.
    pub observer: &'a str,
    /// The mission area it is in, or null.
    pub area: Option<Area<'a>>,
}

impl<'a> Revision<'a> {
    /// `rev`, its area found among the profile's `areas`.
    pub fn new(rev: &'a ObservationRevision, areas: &'a [ProfileArea]) -> Self {
        let o = &rev.observation;
        Revision {
            observation: o,
            observed_at_utc: utc(&o.observed_at),
            observed_until_utc: o.observed_until.as_ref().map(utc),
            revision: rev.revision,
            recorded_at: utc(&rev.recorded_at),
            device_id: rev.device_id,
            observer: &rev.observer,
            area: Area::of(areas, o),
        }
    }
}

/// A line of `truce list --json`: the latest revision of an observation.
#[derive(Debug, Serialize)]
pub struct ListedObservation<'a> {
    /// The revision, flat.
    #[serde(flatten)]
    pub revision: Revision<'a>,
    /// Its verification status, with `--with-status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// Present (true) while its device is not accepted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub device_pending: bool,
    /// Other devices that used the same id.
    #[serde(skip_serializing_if = "<[Uuid]>::is_empty")]
    pub id_also_used_by: &'a [Uuid],
    /// Present (true) when its device was revoked and this revision lies past the cut-off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub after_revocation: bool,
    /// On a monitor's device: `not_exported`, `awaiting_confirmation` or `received`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<&'static str>,
}

/// How `--json` names a record's [`DeliveryState`].
pub fn delivery_code(state: truce_core::model::DeliveryState) -> &'static str {
    match state {
        truce_core::model::DeliveryState::NotExported => "not_exported",
        truce_core::model::DeliveryState::AwaitingConfirmation => "awaiting_confirmation",
        truce_core::model::DeliveryState::Received => "received",
    }
}

impl<'a> ListedObservation<'a> {
    /// The line for `row`; its status only when asked for.
    pub fn new(row: &'a QueueRow, with_status: bool, areas: &'a [ProfileArea]) -> Self {
        ListedObservation {
            revision: Revision::new(&row.revision, areas),
            status: with_status.then(|| row.status.code()),
            device_pending: row.device_pending,
            id_also_used_by: &row.id_also_used_by,
            after_revocation: row.after_revocation,
            delivery: None,
        }
    }
}

/// `truce show --json`.
#[derive(Debug, Serialize)]
pub struct ShownObservation<'a> {
    /// The latest revision.
    pub current: Revision<'a>,
    /// Every revision, oldest first.
    pub history: Vec<Revision<'a>>,
    /// The current verification status.
    pub status: &'static str,
    /// The verification trail, oldest first.
    pub verification: Vec<VerificationStep<'a>>,
    /// The SHA-256 of attachments the current revision names that this journal does not hold
    /// yet (sent text first; a later bundle brings them).
    pub pending_attachments: Vec<String>,
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
    /// When, UTC.
    pub at: String,
}

impl<'a> From<&'a VerificationEvent> for VerificationStep<'a> {
    fn from(e: &'a VerificationEvent) -> Self {
        VerificationStep {
            status: e.status.code(),
            note: &e.note,
            by: &e.by_observer,
            device_id: e.by_device,
            at: stored_utc(&e.at),
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
    /// When its latest bundle was imported, UTC.
    pub last_bundle_at: Option<String>,
    /// When the latest bundle imported from it was made on the device, UTC.
    pub latest_bundle_created_at: Option<String>,
    /// When the newest record received from it was saved on the device, UTC.
    pub newest_entry_at: Option<String>,
    /// Entries held.
    pub entries: u64,
    /// Highest sequence number held.
    pub last_seq: u64,
    /// Missing ranges of its log, `[first, last]`.
    pub gaps: &'a [(u64, u64)],
    /// Whether it is accepted.
    pub accepted: bool,
    /// When it was accepted, UTC.
    pub accepted_at: Option<String>,
    /// Present when a coordinator revoked it: the cut-off seq, when (UTC) and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<RevokedDevice<'a>>,
}

/// A revocation as `--json` shows it.
#[derive(Debug, Serialize)]
pub struct RevokedDevice<'a> {
    /// Entries after this seq are refused, and flagged where already held.
    pub after_seq: u64,
    /// When, UTC.
    pub revoked_at: String,
    /// Why.
    pub reason: &'a str,
}

impl<'a> From<&'a KnownDevice> for Device<'a> {
    fn from(d: &'a KnownDevice) -> Self {
        Device {
            device_id: d.device_id,
            observer: &d.observer,
            fingerprint: &d.fingerprint,
            last_bundle_at: d.last_bundle_at.as_deref().map(stored_utc),
            latest_bundle_created_at: d.latest_bundle_created_at.as_deref().map(stored_utc),
            newest_entry_at: d.newest_entry_at.as_deref().map(stored_utc),
            entries: d.entries,
            last_seq: d.last_seq,
            gaps: &d.gaps,
            accepted: d.accepted_at.is_some(),
            accepted_at: d.accepted_at.as_deref().map(stored_utc),
            revoked: d
                .revoked
                .as_ref()
                .map(|(after_seq, at, reason)| RevokedDevice {
                    after_seq: *after_seq,
                    revoked_at: stored_utc(at),
                    reason,
                }),
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
    /// When it was accepted, UTC.
    pub accepted_at: Option<String>,
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
            accepted_at: device.accepted_at.as_deref().map(stored_utc),
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
    /// The area the records are in, or null (outside every area).
    pub area: Option<Area<'a>>,
    /// First observation time in the window, UTC.
    pub from: String,
    /// Last observation time in the window, UTC.
    pub to: String,
    /// The observations' ids.
    pub records: Vec<Uuid>,
    /// Their devices, in the same order.
    pub devices: Vec<Uuid>,
}

impl<'a> Alert<'a> {
    /// The line for one alert, its area named from the profile's `areas`.
    pub fn new(a: &'a CoreAlert, areas: &'a [ProfileArea]) -> Self {
        Alert {
            rule: &a.rule,
            level: a.level,
            area: Area::by_code(areas, &a.area),
            from: utc_ms(a.from_ms),
            to: utc_ms(a.to_ms),
            records: a.records.iter().map(|k| k.id).collect(),
            devices: a.records.iter().map(|k| k.device_id).collect(),
        }
    }
}

/// `truce report --json`: events (reports linked as one event count once), what they counted,
/// per dimension, against the previous period.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Start of the period (inclusive), UTC.
    pub from: String,
    /// End of the period (exclusive), UTC.
    pub to: String,
    /// `day` (one day of the mission's time zone), `week` (seven) or `custom`.
    pub period: PeriodKind,
    /// The mission's time zone (`UTC` or an IANA name): the period's days are its days.
    pub time_zone: &'static str,
    /// Events in the period.
    pub total: u64,
    /// Events in the previous period of the same length.
    pub previous_total: u64,
    /// The period's events added up.
    pub tally: &'a Tally,
    /// The previous period's.
    pub previous_tally: &'a Tally,
    /// Reports counted in the period.
    pub reports: u64,
    /// Reports merged into another report's event.
    pub merged_reports: u64,
    /// Reports in the period marked unfounded, left out.
    pub unfounded_reports: u64,
    /// Reports in the period a revoked device sent past its cut-off (counted, flagged).
    pub after_revocation_reports: u64,
    /// Counts by area, kind, category, party and method.
    pub breakdowns: Vec<Breakdown<'a>>,
    /// Events per day of `time_zone` for the chart, oldest first.
    pub daily: &'a [DayCount],
    /// The escalation alerts whose window overlaps the period.
    pub alerts: Vec<Alert<'a>>,
}

/// Counts along one dimension of the report.
#[derive(Debug, Serialize)]
pub struct Breakdown<'a> {
    /// `area`, `kind`, `category`, `party` or `method`.
    pub dimension: &'a str,
    /// Lines, most events first.
    pub counts: Vec<Count<'a>>,
}

/// One line of a breakdown.
#[derive(Debug, Serialize)]
pub struct Count<'a> {
    /// The value counted: an area, kind, category or party code, or a method; `""` for an area
    /// outside every area and for a party not recorded.
    pub key: &'a str,
    /// What a reader sees: the profile's label, "(no area)", "Not recorded", "Unknown".
    pub label: &'a str,
    /// Only in the `area` breakdown: the area, or null for events outside every area.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<Option<Area<'a>>>,
    /// Events in the period.
    pub current: u64,
    /// Events in the previous period.
    pub previous: u64,
    /// The period's events on this line added up.
    pub tally: &'a Tally,
}

impl<'a> Report<'a> {
    /// The JSON of `report`; the area lines' areas found by code among the profile's `areas`.
    pub fn new(report: &'a CoreReport, areas: &'a [ProfileArea]) -> Self {
        let breakdowns = report
            .breakdowns
            .iter()
            .map(|b| Breakdown {
                dimension: &b.dimension,
                counts: b
                    .counts
                    .iter()
                    .map(|c| Count {
                        key: &c.key,
                        label: &c.label,
                        area: (b.dimension == "area").then(|| {
                            areas
                                .iter()
                                .find(|a| a.code == c.key)
                                .map(Area::from_profile)
                        }),
                        current: c.current,
                        previous: c.previous,
                        tally: &c.tally,
                    })
                    .collect(),
            })
            .collect();
        Report {
            from: utc(&report.from),
            to: utc(&report.to),
            time_zone: report.zone.name(),
            period: report.period,
            total: report.total,
            previous_total: report.previous_total,
            tally: &report.tally,
            previous_tally: &report.previous_tally,
            reports: report.reports,
            merged_reports: report.merged_reports,
            unfounded_reports: report.unfounded_reports,
            after_revocation_reports: report.after_revocation_reports,
            breakdowns,
            daily: &report.daily,
            alerts: report.alerts.iter().map(|a| Alert::new(a, areas)).collect(),
        }
    }
}

/// A line of `truce import --json`: one bundle.
#[derive(Debug, Serialize)]
pub struct ImportedBundle<'a> {
    /// The bundle file.
    pub file: String,
    /// The sending device, or null when the bundle did not get that far.
    pub device_id: Option<Uuid>,
    /// Its fingerprint, when known.
    pub fingerprint: Option<&'a str>,
    /// The observer the bundle names, when it got that far.
    pub observer: Option<&'a str>,
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
    /// Missing ranges of the device's log, `[first, last]`.
    pub gaps: &'a [(u64, u64)],
    /// Why the bundle was refused, or null.
    pub refused: Option<&'a str>,
    /// The file is another kind of Truce file (a receipt), passed over: which kind. Absent
    /// for bundles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed_over: Option<&'a str>,
}

impl<'a> From<&'a ImportReport> for ImportedBundle<'a> {
    fn from(r: &'a ImportReport) -> Self {
        ImportedBundle {
            file: r.file.display().to_string(),
            device_id: r.device_id,
            fingerprint: r.fingerprint.as_deref(),
            observer: r.observer.as_deref(),
            new_device: r.new_device,
            device_pending: r.device_pending,
            held_already: r.held_already,
            new_entries: r.new_entries,
            known_entries: r.known_entries,
            gaps: &r.gaps,
            refused: r.refused.as_deref(),
            passed_over: r.passed_over.as_deref(),
        }
    }
}

/// A line of `truce import --json` on a monitor's device: a receipt applied.
#[derive(Debug, Serialize)]
pub struct AppliedReceipt<'a> {
    /// The receipt file.
    pub file: String,
    /// The coordinator that signed it.
    pub coordinator: &'a str,
    /// The highest entry it says the coordinator holds.
    pub held_through: u64,
    /// Ranges it says are missing, `[first, last]`: the next export sends them again.
    pub missing: &'a [(u64, u64)],
    /// Entries it confirmed that were not confirmed before.
    pub newly_confirmed: u64,
    /// The sequence of the mission profile it brought, when this device installed it.
    pub profile_installed: Option<u64>,
    /// This receipt was applied before; nothing changed.
    pub applied_already: bool,
}

/// `import --json` on a device: a file it refused (nothing of it was applied).
#[derive(Debug, Serialize)]
pub struct RefusedReceipt<'a> {
    /// The file.
    pub file: String,
    /// Why, for people.
    pub refused: &'a str,
}

impl<'a> From<&'a truce_core::model::ReceiptApplied> for AppliedReceipt<'a> {
    fn from(r: &'a truce_core::model::ReceiptApplied) -> Self {
        AppliedReceipt {
            file: r.file.display().to_string(),
            coordinator: &r.coordinator,
            held_through: r.held_through,
            missing: &r.missing,
            newly_confirmed: r.newly_confirmed,
            profile_installed: r.profile_installed,
            applied_already: r.applied_already,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_utc_with_z() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T10:30:00+03:00").expect("time");
        assert_eq!(utc(&t), "2026-12-01T07:30:00Z");
        assert_eq!(
            stored_utc("2026-12-01T00:15:00-02:00"),
            "2026-12-01T02:15:00Z"
        );
        assert_eq!(
            stored_utc("2026-12-01T02:15:00+00:00"),
            "2026-12-01T02:15:00Z"
        );
        assert_eq!(utc_ms(1_500), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn an_area_is_found_by_code_or_is_null() {
        let areas = vec![ProfileArea {
            code: "north".into(),
            label: "North".into(),
            bbox: None,
        }];
        assert_eq!(
            Area::by_code(&areas, "north"),
            Some(Area {
                code: "north",
                label: "North"
            })
        );
        assert_eq!(Area::by_code(&areas, ""), None);
        assert_eq!(
            Area::by_code(&areas, "gone"),
            Some(Area {
                code: "gone",
                label: "gone"
            })
        );
    }
}
