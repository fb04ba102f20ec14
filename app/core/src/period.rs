//! Days, times and daily cut-offs as people type them: the one parser of each that the command
//! line, the GUI and the stored preferences share, and the period bounds they give.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Text that is not the day, time or cut-off it should be. The message says how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeriodError {
    /// Not `YYYY-MM-DD`.
    #[error("“{0}” is not a day: write it as YYYY-MM-DD, e.g. 2026-11-24")]
    Day(String),
    /// Not `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or RFC 3339.
    #[error("“{0}” is not a time: write it as YYYY-MM-DD HH:MM (UTC), YYYY-MM-DD, or RFC 3339 (2026-11-24T18:00:00+02:00)")]
    Time(String),
    /// Not `HH:MM`.
    #[error("“{0}” is not a time of day: write it as HH:MM, e.g. 19:30")]
    Cutoff(String),
}

/// The daily cut-off of the report period, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cutoff {
    hour: u8,
    minute: u8,
}

impl Cutoff {
    /// `hour:minute`, or `None` out of range.
    pub fn new(hour: u8, minute: u8) -> Option<Cutoff> {
        (hour < 24 && minute < 60).then_some(Cutoff { hour, minute })
    }

    /// Reads `HH:MM` (or `H:MM`).
    pub fn parse(text: &str) -> Option<Cutoff> {
        let (h, m) = text.trim().split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        Cutoff::new(h.parse().ok()?, m.parse().ok()?)
    }

    /// The hour, 0 to 23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0 to 59.
    pub fn minute(self) -> u8 {
        self.minute
    }
}

impl std::fmt::Display for Cutoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// Reads a day, `YYYY-MM-DD` (surrounding spaces ignored).
pub fn parse_day(text: &str) -> Result<NaiveDate, PeriodError> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| PeriodError::Day(text.to_string()))
}

/// Reads a point in time: RFC 3339 (any offset), or `YYYY-MM-DD HH:MM` or `YYYY-MM-DD`
/// (midnight) taken as UTC.
pub fn parse_utc_time(text: &str) -> Result<DateTime<Utc>, PeriodError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M") {
        return Ok(t.and_utc());
    }
    parse_day(text)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| PeriodError::Time(text.to_string()))
}

/// Reads a daily cut-off, `HH:MM` or `H:MM`.
pub fn parse_cutoff(text: &str) -> Result<Cutoff, PeriodError> {
    Cutoff::parse(text).ok_or_else(|| PeriodError::Cutoff(text.trim().to_string()))
}

/// The first millisecond (UTC) of `day`, or of the day after it when `end`, so that a period
/// ending there holds the whole day.
pub fn utc_day_bound_ms(day: NaiveDate, end: bool) -> i64 {
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
}

/// The latest daily `cutoff` (UTC) at or before `now`: where a daily report's period ends.
pub fn latest_cutoff(cutoff: Cutoff, now: DateTime<Utc>) -> DateTime<Utc> {
    let at = |day: NaiveDate| {
        day.and_hms_opt(u32::from(cutoff.hour()), u32::from(cutoff.minute()), 0)
            .map(|t| t.and_utc())
    };
    match at(now.date_naive()) {
        Some(today) if today <= now => today,
        _ => now.date_naive().pred_opt().and_then(at).unwrap_or(now),
    }
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
            parse_cutoff("7:05").map(|c| c.to_string()),
            Ok("07:05".into())
        );
        assert!(matches!(parse_cutoff("25:00"), Err(PeriodError::Cutoff(_))));
    }

    #[test]
    fn the_cutoff_is_the_latest_one_at_or_before_now() {
        let cutoff = parse_cutoff("19:30").expect("cut-off");
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
}
