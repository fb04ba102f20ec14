//! Pure helpers that turn journal values into the short texts the screens show.

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone};
use serde_json::Value;
use truce_sync::ObservationRevision;

/// `2026-11-24 05:30`, in the observation's own UTC offset (the observer's local time).
pub fn time(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-24 05:30 +03:00`, for the detail screen.
pub fn time_with_offset(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M %:z").to_string()
}

/// Now, as the new-observation form shows it.
pub fn now_for_form() -> String {
    time(&Local::now().fixed_offset())
}

/// Reads the time typed in the form: `YYYY-MM-DD HH:MM` in local time, or full RFC 3339.
pub fn parse_form_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    let naive = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
}

/// The first line of the narrative, at most `max` characters, with an ellipsis when cut.
pub fn excerpt(narrative: &str, max: usize) -> String {
    let line = narrative
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// `text` on one line: control characters and the bidirectional overrides a hostile file
/// name could carry become spaces, so what came from a stick cannot reorder what the user
/// reads.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The last 8 characters of an id (the random part of a UUID v7), as `truce list` shows it.
pub fn short_id(id: &str) -> String {
    let n = id.chars().count();
    id.chars().skip(n.saturating_sub(8)).collect()
}

/// A JSON value as a person reads it.
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::Array(items) => items.iter().map(value).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// What changed from `before` to `after`, one `field: old → new` per line; empty for the first revision.
pub fn changes(before: Option<&ObservationRevision>, after: &ObservationRevision) -> String {
    let Some(before) = before else {
        return String::new();
    };
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) = (
        serde_json::to_value(&before.observation),
        serde_json::to_value(&after.observation),
    ) else {
        return String::new();
    };
    let mut lines = Vec::new();
    for field in truce_sync::observation::FIELDS {
        let old = a.get(field).unwrap_or(&Value::Null);
        let new = b.get(field).unwrap_or(&Value::Null);
        if old != new {
            let (old, new) = (value(old), value(new));
            if field == "narrative" {
                lines.push(format!(
                    "narrative: “{}” → “{}”",
                    excerpt(&old, 40),
                    excerpt(&new, 40)
                ));
            } else {
                lines.push(format!("{field}: {old} → {new}"));
            }
        }
    }
    let named = |r: &ObservationRevision| -> Vec<(String, String)> {
        r.observation
            .attachments
            .iter()
            .map(|a| (a.sha256.clone(), a.name.clone()))
            .collect()
    };
    let (old, new) = (named(before), named(after));
    for (hash, name) in &new {
        if !old.iter().any(|(h, _)| h == hash) {
            lines.push(format!("attached {name}"));
        }
    }
    for (hash, name) in &old {
        if !new.iter().any(|(h, _)| h == hash) {
            lines.push(format!("no longer names {name}"));
        }
    }
    lines.join("\n")
}

/// The first millisecond of a `YYYY-MM-DD` day of the mission's `zone`, or of the day after
/// it (`end`); `None` for an empty text (the queue's and the exports' day filters).
pub(crate) fn day_ms(
    text: &str,
    end: bool,
    zone: truce_core::period::MissionZone,
) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = truce_core::period::parse_day(text).map_err(|e| e.to_string())?;
    Ok(Some(truce_core::period::day_bound_ms(day, end, zone)))
}

/// Passphrase strength for the setup hint: 0 (too short) to 4 (strong). A hint, not a policy:
/// the journal itself only refuses fewer than 8 characters.
pub fn strength(passphrase: &str) -> i32 {
    let n = passphrase.chars().count();
    if n < 8 {
        return 0;
    }
    let words = passphrase.split_whitespace().count();
    let classes = [
        passphrase.chars().any(|c| c.is_lowercase()),
        passphrase.chars().any(|c| c.is_uppercase()),
        passphrase.chars().any(|c| c.is_ascii_digit()),
        passphrase.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    let mut score = match n {
        8..=11 => 1,
        12..=15 => 2,
        16..=23 => 3,
        _ => 4,
    };
    if words >= 4 && n >= 20 {
        score = 4;
    } else if classes <= 1 && words < 3 && score > 1 {
        score -= 1;
    }
    score
}

/// A recording's length for people: `0:04`, `12:30`, `1:02:05`.
pub fn duration(ms: u64) -> String {
    let secs = (ms + 500) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn one_line_removes_controls_and_bidi_overrides() {
        assert_eq!(one_line("a\nb\u{202E}c\td"), "a b c d");
        assert_eq!(one_line("plain: text"), "plain: text");
    }

    use super::*;

    #[test]
    fn durations_read_as_clock_times() {
        assert_eq!(duration(3_499), "0:03");
        assert_eq!(duration(3_500), "0:04");
        assert_eq!(duration(750_000), "12:30");
        assert_eq!(duration(3_725_000), "1:02:05");
    }

    #[test]
    fn days_are_the_mission_zone_s_and_the_last_one_is_included() {
        assert_eq!(
            day_ms("", false, truce_core::period::MissionZone::Utc),
            Ok(None)
        );
        let from = day_ms("2026-11-24", false, truce_core::period::MissionZone::Utc)
            .expect("day")
            .expect("ms");
        let to = day_ms("2026-11-24", true, truce_core::period::MissionZone::Utc)
            .expect("day")
            .expect("ms");
        assert_eq!(to - from, 86_400_000);
        assert!(day_ms("24/11/2026", false, truce_core::period::MissionZone::Utc).is_err());
        // A day of the mission's zone: Kyiv is UTC+2 in November.
        let kyiv = truce_core::period::MissionZone::parse("Europe/Kyiv").expect("zone");
        let local = day_ms("2026-11-24", false, kyiv).expect("day").expect("ms");
        assert_eq!(from - local, 2 * 3_600_000);
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("\n  first line \nsecond", 50), "first line");
        assert_eq!(excerpt("ééééé", 3), "éé…");
        assert_eq!(excerpt("", 10), "");
    }

    #[test]
    fn form_time_accepts_local_and_rfc3339() {
        let t = parse_form_time("2026-11-24T05:30:00+03:00").expect("rfc3339");
        assert_eq!(time_with_offset(&t), "2026-11-24 05:30 +03:00");
        let local = parse_form_time("2026-11-24 05:30").expect("local");
        assert_eq!(time(&local), "2026-11-24 05:30");
        assert!(parse_form_time("yesterday").is_none());
    }

    #[test]
    fn strength_grows_with_length_and_words() {
        assert_eq!(strength(""), 0);
        assert_eq!(strength("short"), 0);
        assert_eq!(strength("abcdefgh"), 1);
        assert!(strength("correct horse battery staple") == 4);
        assert!(strength("aaaaaaaaaaaaaa") < strength("Aa1!aaaaaaaaaa"));
    }

    #[test]
    fn short_ids_are_the_end() {
        assert_eq!(short_id("0192f0c4-7d2a-7b3c-9d4e-5f6a7b8c9d0e"), "7b8c9d0e");
    }
}
