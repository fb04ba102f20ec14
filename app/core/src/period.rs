//! Days, times and daily cut-offs as people type them: the one parser of each that the command
//! line, the GUI and the stored preferences share, and the period bounds they give.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Text that is not the day, time or cut-off it should be. The message says how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeriodError {
    /// Not `YYYY-MM-DD`.
    #[error("“{0}” is not a day: write it as YYYY-MM-DD, e.g. 2026-11-24")]
    Day(String),
    /// Not `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or RFC 3339.
    #[error("“{0}” is not a time: write it as YYYY-MM-DD HH:MM (the mission's time zone), YYYY-MM-DD, or RFC 3339 (2026-11-24T18:00:00+02:00)")]
    Time(String),
    /// Not `HH:MM`.
    #[error("“{0}” is not a time of day: write it as HH:MM, e.g. 19:30")]
    Cutoff(String),
}

/// Where a mission's days and daily cut-offs are: UTC, or the IANA time zone its profile
/// names. Local times that a change of clock skips are read as the first moment after the
/// gap; local times it repeats, as their first occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissionZone {
    /// No zone named: days and cut-offs in UTC.
    #[default]
    Utc,
    /// The profile's zone.
    Named(Tz),
}

impl MissionZone {
    /// The zone `profile` names, UTC without one.
    pub fn of(profile: Option<&truce_sync::profile::MissionProfile>) -> MissionZone {
        profile
            .and_then(|p| p.zone())
            .map_or(MissionZone::Utc, MissionZone::Named)
    }

    /// `UTC` or the IANA name (`Europe/Kyiv`).
    pub fn name(self) -> &'static str {
        match self {
            MissionZone::Utc => "UTC",
            MissionZone::Named(tz) => tz.name(),
        }
    }

    /// Reads a zone name: `UTC` or an IANA name.
    pub fn parse(text: &str) -> Option<MissionZone> {
        match text.trim() {
            "UTC" | "Z" => Some(MissionZone::Utc),
            name => name.parse::<Tz>().ok().map(MissionZone::Named),
        }
    }

    /// The moment a local date and time of this zone names (see the type's note on gaps and
    /// repeats).
    pub fn moment(self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            MissionZone::Utc => local.and_utc(),
            MissionZone::Named(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
                // In a gap: the same wall time an hour on is past the gap in every zone that
                // has one (gaps of 30 minutes or an hour).
                LocalResult::None => {
                    let later = local + Duration::hours(1);
                    tz.from_local_datetime(&later)
                        .earliest()
                        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
                }
            },
        }
    }

    /// The local date and time of `t` in this zone.
    pub fn local(self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            MissionZone::Utc => t.naive_utc(),
            MissionZone::Named(tz) => t.with_timezone(&tz).naive_local(),
        }
    }

    /// The local day `t` falls on.
    pub fn day_of(self, t: DateTime<Utc>) -> NaiveDate {
        self.local(t).date()
    }

    /// `t` as `YYYY-MM-DD HH:MM` in this zone.
    pub fn format(self, t: DateTime<Utc>) -> String {
        self.local(t).format("%Y-%m-%d %H:%M").to_string()
    }
}

impl serde::Serialize for MissionZone {
    /// As its name: `UTC` or `Europe/Kyiv`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The daily cut-off of the report period: a time of day in a zone. A cut-off saved as bare
/// `HH:MM` (as every build before mission time zones saved it) is UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cutoff {
    hour: u8,
    minute: u8,
    zone: MissionZone,
}

impl Cutoff {
    /// `hour:minute` UTC, or `None` out of range.
    pub fn new(hour: u8, minute: u8) -> Option<Cutoff> {
        (hour < 24 && minute < 60).then_some(Cutoff {
            hour,
            minute,
            zone: MissionZone::Utc,
        })
    }

    /// Reads `HH:MM` (or `H:MM`), UTC, optionally followed by a zone name: `19:30
    /// Europe/Kyiv`, as [`Cutoff`]'s `Display` writes it.
    pub fn parse(text: &str) -> Option<Cutoff> {
        let text = text.trim();
        let (time, zone) = match text.split_once(' ') {
            Some((time, zone)) => (time, MissionZone::parse(zone)?),
            None => (text, MissionZone::Utc),
        };
        let (h, m) = time.split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        Cutoff::new(h.parse().ok()?, m.parse().ok()?).map(|c| c.in_zone(zone))
    }

    /// The same time of day in `zone`.
    pub fn in_zone(self, zone: MissionZone) -> Cutoff {
        Cutoff { zone, ..self }
    }

    /// The hour, 0 to 23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0 to 59.
    pub fn minute(self) -> u8 {
        self.minute
    }

    /// The zone the time of day is in.
    pub fn zone(self) -> MissionZone {
        self.zone
    }

    /// `HH:MM` when the cut-off is in the mission's zone `mission`, else `HH:MM Zone` (a
    /// cut-off saved in UTC before the mission named its zone shows `19:30 UTC`).
    pub fn text_in(self, mission: MissionZone) -> String {
        let time = format!("{:02}:{:02}", self.hour, self.minute);
        if self.zone == mission {
            time
        } else {
            format!("{time} {}", self.zone.name())
        }
    }

    /// The cut-off on local `day`.
    fn on(self, day: NaiveDate) -> Option<DateTime<Utc>> {
        let local = day.and_hms_opt(u32::from(self.hour), u32::from(self.minute), 0)?;
        Some(self.zone.moment(local))
    }
}

impl std::fmt::Display for Cutoff {
    /// `HH:MM` for UTC, `HH:MM Zone/Name` otherwise: what [`Cutoff::parse`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)?;
        match self.zone {
            MissionZone::Utc => Ok(()),
            MissionZone::Named(tz) => write!(f, " {}", tz.name()),
        }
    }
}

/// Reads a day, `YYYY-MM-DD` (surrounding spaces ignored).
pub fn parse_day(text: &str) -> Result<NaiveDate, PeriodError> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| PeriodError::Day(text.to_string()))
}

/// Reads a point in time: RFC 3339 (any offset), or `YYYY-MM-DD HH:MM` or `YYYY-MM-DD`
/// (midnight) in `zone`.
pub fn parse_time(text: &str, zone: MissionZone) -> Result<DateTime<Utc>, PeriodError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M") {
        return Ok(zone.moment(t));
    }
    parse_day(text)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| zone.moment(t))
        .ok_or_else(|| PeriodError::Time(text.to_string()))
}

/// [`parse_time`] in UTC.
pub fn parse_utc_time(text: &str) -> Result<DateTime<Utc>, PeriodError> {
    parse_time(text, MissionZone::Utc)
}

/// Reads a daily cut-off, `HH:MM` or `H:MM`, as a time of day in `zone`; or with its own zone
/// after it (`19:30 UTC`, `19:30 Europe/Kyiv`), as [`Cutoff::text_in`] shows one of another
/// zone.
pub fn parse_cutoff(text: &str, zone: MissionZone) -> Result<Cutoff, PeriodError> {
    let parsed = Cutoff::parse(text);
    let bare = !text.trim().contains(' ');
    parsed
        .map(|c| if bare { c.in_zone(zone) } else { c })
        .ok_or_else(|| PeriodError::Cutoff(text.trim().to_string()))
}

/// The first millisecond of local `day` in `zone`, or of the day after it when `end`, so that
/// a period ending there holds the whole day.
pub fn day_bound_ms(day: NaiveDate, end: bool, zone: MissionZone) -> i64 {
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| zone.moment(t).timestamp_millis())
}

/// [`day_bound_ms`] in UTC.
pub fn utc_day_bound_ms(day: NaiveDate, end: bool) -> i64 {
    day_bound_ms(day, end, MissionZone::Utc)
}

/// The latest daily `cutoff` at or before `now`: where a daily report's period ends.
pub fn latest_cutoff(cutoff: Cutoff, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = cutoff.zone.day_of(now);
    match cutoff.on(today) {
        Some(t) if t <= now => t,
        _ => today.pred_opt().and_then(|d| cutoff.on(d)).unwrap_or(now),
    }
}

/// The same local time one day before `t` in `zone`: where a daily report that ends at `t`
/// starts. Across a change of clock the day is 23 or 25 hours long.
pub fn day_before(t: DateTime<Utc>, zone: MissionZone) -> DateTime<Utc> {
    let local = zone.local(t);
    local
        .date()
        .pred_opt()
        .map_or(t - Duration::hours(24), |d| {
            zone.moment(d.and_time(local.time()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_times_and_cutoffs_parse_or_say_how_to_write_them() {
        assert_eq!(
            parse_day(" 2026-11-24 "),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 24).expect("day"))
        );
        for bad in ["2026-13-01", "24/11/2026", "", "2026-11-24 10:00"] {
            let err = parse_day(bad).expect_err(bad).to_string();
            assert!(err.contains("YYYY-MM-DD"), "{bad}: {err}");
        }
        let t = |s: &str| parse_utc_time(s).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2026-11-24T20:00:00+02:00"),
            Ok("2026-11-24T18:00:00+00:00".into())
        );
        assert_eq!(
            t("2026-11-24 18:00"),
            Ok("2026-11-24T18:00:00+00:00".into())
        );
        assert_eq!(t("2026-11-24"), Ok("2026-11-24T00:00:00+00:00".into()));
        assert!(matches!(t("yesterday"), Err(PeriodError::Time(_))));
        assert_eq!(
            parse_cutoff("7:05", MissionZone::Utc).map(|c| c.to_string()),
            Ok("07:05".into())
        );
        assert!(matches!(
            parse_cutoff("25:00", MissionZone::Utc),
            Err(PeriodError::Cutoff(_))
        ));
    }

    #[test]
    fn the_cutoff_is_the_latest_one_at_or_before_now() {
        let cutoff = parse_cutoff("19:30", MissionZone::Utc).expect("cut-off");
        let at = |s: &str| parse_utc_time(s).expect("time");
        assert_eq!(
            latest_cutoff(cutoff, at("2026-11-24 20:00")),
            at("2026-11-24 19:30")
        );
        assert_eq!(
            latest_cutoff(cutoff, at("2026-11-24 19:30")),
            at("2026-11-24 19:30")
        );
        assert_eq!(
            latest_cutoff(cutoff, at("2026-11-24 08:00")),
            at("2026-11-23 19:30")
        );
        let day = parse_day("2026-11-24").expect("day");
        assert_eq!(
            utc_day_bound_ms(day, false),
            at("2026-11-24").timestamp_millis()
        );
        assert_eq!(
            utc_day_bound_ms(day, true),
            at("2026-11-25").timestamp_millis()
        );
    }

    fn kyiv() -> MissionZone {
        MissionZone::Named(chrono_tz::Europe::Kyiv)
    }

    /// Kyiv leaves summer time at 04:00 local (01:00 UTC) on 2026-10-25: that local day has
    /// 25 hours, and the daily report that ends at 19:30 on it starts 25 hours earlier.
    #[test]
    fn days_and_cutoffs_follow_the_mission_zone_across_a_change_of_clock() {
        let zone = kyiv();
        let utc = |s: &str| parse_utc_time(s).expect("time");
        let cutoff = parse_cutoff("19:30", zone).expect("cut-off");
        assert_eq!(cutoff.to_string(), "19:30 Europe/Kyiv");
        // Summer (UTC+3), then winter (UTC+2).
        assert_eq!(
            latest_cutoff(cutoff, utc("2026-10-24 17:00")),
            utc("2026-10-24 16:30")
        );
        let end = latest_cutoff(cutoff, utc("2026-10-25 18:00"));
        assert_eq!(end, utc("2026-10-25 17:30"));
        let start = day_before(end, zone);
        assert_eq!(start, utc("2026-10-24 16:30"));
        assert_eq!(end - start, Duration::hours(25));
        // Spring forward (2026-03-29 03:00 local): a 23-hour day.
        let end = utc("2026-03-29 16:30");
        assert_eq!(end - day_before(end, zone), Duration::hours(23));

        // Days and times as people type them are local.
        let day = parse_day("2026-10-25").expect("day");
        assert_eq!(
            day_bound_ms(day, false, zone),
            utc("2026-10-24 21:00").timestamp_millis()
        );
        assert_eq!(
            day_bound_ms(day, true, zone),
            utc("2026-10-25 22:00").timestamp_millis()
        );
        assert_eq!(
            parse_time("2026-10-25 19:30", zone),
            Ok(utc("2026-10-25 17:30"))
        );
        assert_eq!(
            parse_time("2026-10-25T19:30:00Z", zone),
            Ok(utc("2026-10-25 19:30")),
            "an explicit offset wins"
        );
        // 03:30 on 2026-03-29 does not exist in Kyiv: the moment after the gap.
        assert_eq!(
            parse_time("2026-03-29 03:30", zone),
            Ok(utc("2026-03-29 01:30"))
        );
        assert_eq!(zone.format(utc("2026-10-25 17:30")), "2026-10-25 19:30");
        assert_eq!(zone.day_of(utc("2026-10-24 22:30")), day);
    }

    /// A cut-off saved before the mission named a zone (bare `HH:MM`) keeps meaning UTC; one
    /// saved with its zone reads back in it.
    #[test]
    fn saved_cutoffs_keep_their_zone() {
        let old = Cutoff::parse("19:30").expect("old cut-off");
        assert_eq!(old.zone(), MissionZone::Utc);
        let new = Cutoff::parse("19:30 Europe/Kyiv").expect("new cut-off");
        assert_eq!(new.zone(), kyiv());
        assert_eq!(Cutoff::parse(&new.to_string()), Some(new));
        assert_eq!(Cutoff::parse("19:30 Mars/Olympus"), None);
        assert_eq!(parse_cutoff("19:30 Europe/Kyiv", MissionZone::Utc), Ok(new));
        // Shown to the user: bare in the mission's zone, named otherwise, and read back.
        assert_eq!(old.text_in(kyiv()), "19:30 UTC");
        assert_eq!(parse_cutoff(&old.text_in(kyiv()), kyiv()), Ok(old));
        assert_eq!(new.text_in(kyiv()), "19:30");
        assert_eq!(parse_cutoff(&new.text_in(kyiv()), kyiv()), Ok(new));
    }
}
