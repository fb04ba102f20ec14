//! The filter flags shared by `list` and `export-data`, and the day and time bounds they and
//! `report` take (`--from`, `--to`, `--cutoff`).

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use truce_core::model::{ObservationFilter, SortOrder};
use truce_core::period::{self, MissionZone};
use truce_sync::verification::VerificationStatus;

use super::error::usage;

/// Filters shared by coordinator commands.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Observed on or after this day (YYYY-MM-DD) or time (YYYY-MM-DD HH:MM, or RFC 3339),
    /// in the mission's time zone (UTC when its profile names none).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Observed before this day (YYYY-MM-DD; the whole day is included) or time (YYYY-MM-DD
    /// HH:MM, or RFC 3339), in the mission's time zone.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only this kind (repeat for more).
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Only this category (repeat for more).
    #[arg(long = "category", value_name = "CATEGORY")]
    pub categories: Vec<String>,
    /// Only this verification status (repeat for more).
    #[arg(long = "status", value_name = "STATUS")]
    pub statuses: Vec<String>,
    /// Only records from this device (its full id).
    #[arg(long, value_name = "DEVICE_ID")]
    pub device: Option<String>,
    /// Only records whose narrative contains this text.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Order: newest (observed, the default), oldest, recorded (latest saved first), severity
    /// (highest first) or kind.
    #[arg(long, value_enum, default_value_t = SortArg::Newest)]
    pub sort: SortArg,
}

/// `--sort` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Newest observation first.
    Newest,
    /// Oldest observation first.
    Oldest,
    /// Most recently saved or amended first.
    Recorded,
    /// Highest severity first.
    Severity,
    /// By kind, then category.
    Kind,
}

/// A verification status code, or a usage error listing the valid ones.
pub fn status_code(code: &str) -> Result<VerificationStatus> {
    VerificationStatus::from_code(code).ok_or_else(|| {
        usage(format!(
            "unknown status `{code}`; use one of: unverified, corroborated, verified, disputed, unfounded"
        ))
    })
}

/// The core's filter for these flags, days and times read in `zone` (the mission's: call it
/// with UTC before unlocking only to check the flags).
pub fn observation_filter(args: &FilterArgs, zone: MissionZone) -> Result<ObservationFilter> {
    let statuses = args
        .statuses
        .iter()
        .map(|s| status_code(s))
        .collect::<Result<Vec<_>>>()?;
    let device = match &args.device {
        None => None,
        Some(d) => Some(
            uuid::Uuid::parse_str(d)
                .map_err(|_| usage(format!("`{d}` is not a device id (a UUID)")))?,
        ),
    };
    Ok(ObservationFilter {
        from_ms: args
            .from
            .as_deref()
            .map(|t| parse_bound(t, false, zone))
            .transpose()?,
        to_ms: args
            .to
            .as_deref()
            .map(|t| parse_bound(t, true, zone))
            .transpose()?,
        kinds: args.kinds.clone(),
        categories: args.categories.clone(),
        statuses,
        device,
        text: args.search.clone(),
        limit: None,
        include_pending_devices: false,
        sort: match args.sort {
            SortArg::Newest => SortOrder::NewestObserved,
            SortArg::Oldest => SortOrder::OldestObserved,
            SortArg::Recorded => SortOrder::NewestRecorded,
            SortArg::Severity => SortOrder::Severity,
            SortArg::Kind => SortOrder::Kind,
        },
    })
}

/// Unix milliseconds as a UTC time (the epoch for a value out of range).
pub fn millis_to_utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The latest daily cut-off at or before now: `cutoff` (HH:MM), else the end of the mission's
/// reporting day, else midnight; in `zone`.
pub fn latest_cutoff(
    cutoff: Option<&str>,
    day_ends: Option<&str>,
    zone: MissionZone,
) -> Result<DateTime<Utc>> {
    let cutoff = period::parse_cutoff(cutoff.or(day_ends).unwrap_or("00:00"), zone)
        .map_err(|e| usage(e.to_string()))?;
    Ok(period::latest_cutoff(cutoff, Utc::now()))
}

/// Parses `--from`/`--to`: a day (`--to` includes the whole day), `YYYY-MM-DD HH:MM`, both in
/// `zone`, or RFC 3339.
pub fn parse_bound(text: &str, end: bool, zone: MissionZone) -> Result<i64> {
    if let Ok(day) = period::parse_day(text) {
        return Ok(period::day_bound_ms(day, end, zone));
    }
    period::parse_time(text, zone)
        .map(|t| t.timestamp_millis())
        .map_err(|e| usage(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_bounds_parse_days_and_times() {
        let utc = MissionZone::Utc;
        let day = parse_bound("2026-11-20", false, utc).expect("day");
        let end = parse_bound("2026-11-20", true, utc).expect("end of day");
        assert_eq!(end - day, 24 * 3_600_000);
        assert_eq!(
            parse_bound("2026-11-20T03:00:00+03:00", false, utc).expect("time"),
            day
        );
        let kyiv = MissionZone::parse("Europe/Kyiv").expect("zone");
        assert_eq!(
            parse_bound("2026-11-20", false, kyiv).expect("local day"),
            day - 2 * 3_600_000,
            "a day of the mission's zone (UTC+2 in November)"
        );
        assert_eq!(
            parse_bound("2026-11-20 02:00", false, kyiv).expect("local time"),
            day
        );
        assert!(parse_bound("yesterday", false, utc).is_err());
        assert!(latest_cutoff(Some("25:00"), None, utc).is_err());
        assert!(latest_cutoff(Some("19:30"), None, utc).expect("cut-off") <= Utc::now());
        assert!(latest_cutoff(None, Some("19:30"), kyiv).expect("cut-off") <= Utc::now());
    }
}
