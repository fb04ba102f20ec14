//! The coordinator's working preferences (report cut-off, export folder, incident-queue filters),
//! kept between runs inside the encrypted journal, never in the plaintext settings file: on a
//! seized device, a coordinator's filters and folders say what they were looking at.
//!
//! Each preference is one JSON value under its own key. A value that is missing, unreadable or
//! out of range falls back to its default; reading preferences never fails an unlock.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use truce_sync::verification::VerificationStatus;
use uuid::Uuid;

use crate::journal::{now, Journal, JournalError};
use crate::model::SortOrder;

/// The key of the report's daily cut-off (`"HH:MM"`).
pub const KEY_CUTOFF: &str = "report.cutoff";
/// The key of the Exports screen's folder (a string).
pub const KEY_EXPORT_DIR: &str = "exports.folder";
/// The key of the incident queue's filters (an object).
pub const KEY_QUEUE: &str = "queue.filters";

/// Longest code (area, kind, category, party) kept; anything longer is taken as garbled.
const CODE_MAX_CHARS: usize = 200;

pub use crate::period::Cutoff;

/// The incident queue's filters as last chosen (the narrative search is not kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueuePreferences {
    /// First day shown (UTC).
    pub from_day: Option<NaiveDate>,
    /// Last day shown (UTC).
    pub to_day: Option<NaiveDate>,
    /// An area code of the mission profile.
    pub area: Option<String>,
    /// A kind code.
    pub kind: Option<String>,
    /// A category code.
    pub category: Option<String>,
    /// A party code.
    pub party: Option<String>,
    /// A verification status.
    pub status: Option<VerificationStatus>,
    /// A recording device.
    pub device: Option<Uuid>,
    /// The order of the list.
    pub sort: SortOrder,
}

/// Everything the coordinator's workspace remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preferences {
    /// The report's daily cut-off.
    pub cutoff: Cutoff,
    /// The folder the Exports screen writes to (`None`: the default folder).
    pub export_dir: Option<PathBuf>,
    /// The incident queue's filters.
    pub queue: QueuePreferences,
}

/// The short code of a sort order, as the GUI and the stored preferences spell it.
pub fn sort_code(sort: SortOrder) -> &'static str {
    match sort {
        SortOrder::NewestObserved => "newest",
        SortOrder::OldestObserved => "oldest",
        SortOrder::NewestRecorded => "recorded",
        SortOrder::Severity => "severity",
        SortOrder::Kind => "kind",
    }
}

/// The sort order of a short code (see [`sort_code`]).
pub fn sort_from_code(code: &str) -> Option<SortOrder> {
    Some(match code {
        "newest" => SortOrder::NewestObserved,
        "oldest" => SortOrder::OldestObserved,
        "recorded" => SortOrder::NewestRecorded,
        "severity" => SortOrder::Severity,
        "kind" => SortOrder::Kind,
        _ => return None,
    })
}

/// The queue filters as stored: every field optional and read leniently, so one bad field
/// only loses itself, and fields a later version adds are ignored.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredQueue {
    #[serde(skip_serializing_if = "Option::is_none")]
    from_day: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_day: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    area: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    party: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<Value>,
}

fn text(value: &Option<Value>) -> Option<&str> {
    value.as_ref()?.as_str()
}

fn code(value: &Option<Value>) -> Option<String> {
    text(value)
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.chars().count() <= CODE_MAX_CHARS)
        .map(str::to_owned)
}

fn day(value: &Option<Value>) -> Option<NaiveDate> {
    crate::period::parse_day(text(value)?).ok()
}

impl QueuePreferences {
    fn decode(stored: &StoredQueue) -> QueuePreferences {
        QueuePreferences {
            from_day: day(&stored.from_day),
            to_day: day(&stored.to_day),
            area: code(&stored.area),
            kind: code(&stored.kind),
            category: code(&stored.category),
            party: code(&stored.party),
            status: text(&stored.status).and_then(VerificationStatus::from_code),
            device: text(&stored.device).and_then(|d| Uuid::parse_str(d).ok()),
            sort: text(&stored.sort)
                .and_then(sort_from_code)
                .unwrap_or_default(),
        }
    }

    fn encode(&self) -> StoredQueue {
        let string = |s: &Option<String>| s.clone().map(Value::String);
        let day =
            |d: &Option<NaiveDate>| d.map(|d| Value::String(d.format("%Y-%m-%d").to_string()));
        StoredQueue {
            from_day: day(&self.from_day),
            to_day: day(&self.to_day),
            area: string(&self.area),
            kind: string(&self.kind),
            category: string(&self.category),
            party: string(&self.party),
            status: self.status.map(|s| Value::String(s.code().into())),
            device: self.device.map(|d| Value::String(d.to_string())),
            sort: Some(Value::String(sort_code(self.sort).into())),
        }
    }
}

impl Preferences {
    /// The preferences the stored `(key, value)` rows describe; unknown keys are ignored, and
    /// a value that does not read falls back to its default.
    pub fn decode(rows: &[(String, String)]) -> Preferences {
        let mut prefs = Preferences::default();
        for (key, value) in rows {
            let parsed: Option<Value> = serde_json::from_str(value).ok();
            let read = match key.as_str() {
                KEY_CUTOFF => parsed
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(Cutoff::parse)
                    .map(|c| prefs.cutoff = c)
                    .is_some(),
                KEY_EXPORT_DIR => parsed
                    .as_ref()
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| prefs.export_dir = Some(PathBuf::from(d)))
                    .is_some(),
                KEY_QUEUE => parsed
                    .and_then(|v| serde_json::from_value::<StoredQueue>(v).ok())
                    .map(|q| prefs.queue = QueuePreferences::decode(&q))
                    .is_some(),
                _ => true,
            };
            if !read {
                // The key names a setting, never its value: nothing the coordinator chose is logged.
                tracing::warn!(
                    key = key.as_str(),
                    "unreadable preference; using its default"
                );
            }
        }
        prefs
    }

    /// The `(key, value)` rows that store these preferences.
    pub fn encode(&self) -> Result<Vec<(&'static str, String)>, JournalError> {
        let json = |v: Value| {
            serde_json::to_string(&v).map_err(|e| JournalError::Internal {
                what: "write the preferences",
                source: e.into(),
            })
        };
        let queue =
            serde_json::to_value(self.queue.encode()).map_err(|e| JournalError::Internal {
                what: "write the queue filters",
                source: e.into(),
            })?;
        let dir = self
            .export_dir
            .as_ref()
            .and_then(|d| d.to_str())
            .unwrap_or("")
            .to_owned();
        Ok(vec![
            (KEY_CUTOFF, json(Value::String(self.cutoff.to_string()))?),
            (KEY_EXPORT_DIR, json(Value::String(dir))?),
            (KEY_QUEUE, json(queue)?),
        ])
    }
}

impl Journal {
    /// The working preferences kept in this journal; defaults for whatever is missing or does
    /// not read. Fails only when the database itself cannot be read.
    /// Without a saved cut-off, the report's is the end of the mission's reporting day.
    pub fn preferences(&self) -> Result<Preferences, JournalError> {
        let rows = self.store.preferences()?;
        let mut prefs = Preferences::decode(&rows);
        if !rows.iter().any(|(key, _)| key == KEY_CUTOFF) {
            prefs.cutoff = self.reporting_day_end();
        }
        Ok(prefs)
    }

    /// Keeps `prefs` in the journal (encrypted, like the records), replacing the earlier ones.
    pub fn save_preferences(&mut self, prefs: &Preferences) -> Result<(), JournalError> {
        let values = prefs.encode()?;
        self.store.save_preferences(&values, &now().to_rfc3339())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::SecretString;
    use truce_sync::Role;

    use crate::journal::Profile;
    use crate::keyfile::KdfCost;

    fn pass() -> SecretString {
        SecretString::from("correct horse battery".to_owned())
    }

    fn journal(dir: &std::path::Path) -> Journal {
        Journal::init(
            dir,
            &pass(),
            Profile {
                observer: "HQ".into(),
                team: None,
                role: Role::Coordinator,
            },
            KdfCost::WorkFactor(10),
        )
        .expect("init")
    }

    fn chosen() -> Preferences {
        Preferences {
            cutoff: Cutoff::new(19, 30).expect("cut-off"),
            export_dir: Some(PathBuf::from("/media/TRUCE-USB/exports")),
            queue: QueuePreferences {
                from_day: NaiveDate::from_ymd_opt(2026, 11, 20),
                to_day: NaiveDate::from_ymd_opt(2026, 11, 24),
                area: Some("north".into()),
                kind: Some("violation".into()),
                category: Some("shelling".into()),
                party: Some("party_a".into()),
                status: Some(VerificationStatus::Disputed),
                device: Some(Uuid::now_v7()),
                sort: SortOrder::Severity,
            },
        }
    }

    #[test]
    fn preferences_round_trip_through_the_encrypted_journal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut j = journal(dir.path());
        assert_eq!(j.preferences().expect("read"), Preferences::default());
        let prefs = chosen();
        j.save_preferences(&prefs).expect("save");
        drop(j);
        let j = Journal::open(dir.path(), &pass()).expect("reopen");
        assert_eq!(j.preferences().expect("read"), prefs);
        // Nothing of them reaches the plaintext settings file.
        assert!(!dir.path().join(crate::journal::SETTINGS_FILE).exists());
    }

    #[test]
    fn garbled_values_fall_back_to_defaults_one_by_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut j = journal(dir.path());
        j.save_preferences(&chosen()).expect("save");
        j.store
            .put_raw_preference(KEY_CUTOFF, r#""25:99""#)
            .expect("raw");
        j.store
            .put_raw_preference(KEY_EXPORT_DIR, "{not json")
            .expect("raw");
        j.store
            .put_raw_preference(
                KEY_QUEUE,
                r#"{"from_day":"yesterday","kind":"violation","status":"maybe","device":42,"sort":"sideways","future":true}"#,
            )
            .expect("raw");
        j.store
            .put_raw_preference("some.future.key", "\u{1}")
            .expect("raw");
        let prefs = j.preferences().expect("garbled values do not fail");
        assert_eq!(prefs.cutoff, Cutoff::default());
        assert_eq!(prefs.export_dir, None);
        assert_eq!(
            prefs.queue,
            QueuePreferences {
                kind: Some("violation".into()),
                ..QueuePreferences::default()
            }
        );
        j.store
            .put_raw_preference(KEY_QUEUE, "[1, 2]")
            .expect("raw");
        assert_eq!(
            j.preferences().expect("read").queue,
            QueuePreferences::default()
        );
    }

    #[test]
    fn cutoffs_parse_and_print_as_hh_mm() {
        assert_eq!(
            Cutoff::parse("19:30").map(|c| c.to_string()),
            Some("19:30".into())
        );
        assert_eq!(
            Cutoff::parse(" 7:05 ").map(|c| c.to_string()),
            Some("07:05".into())
        );
        for bad in ["24:00", "12:60", "1230", "12:3", ":30", "ab:cd", "123:00"] {
            assert_eq!(Cutoff::parse(bad), None, "{bad}");
        }
        for sort in [
            SortOrder::NewestObserved,
            SortOrder::OldestObserved,
            SortOrder::NewestRecorded,
            SortOrder::Severity,
            SortOrder::Kind,
        ] {
            assert_eq!(sort_from_code(sort_code(sort)), Some(sort));
        }
    }
}
