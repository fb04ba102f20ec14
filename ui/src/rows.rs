//! Row mapping shared by the screens: a journal value becomes the Slint struct a list, a card
//! or a chip shows (`ObservationRow`, `QueueItem`, `LinkSuggestionItem`, `FieldRow`, `Choice`),
//! with the labels of the mission profile's codes. Pure functions of their arguments.

use serde_json::Value;
use slint::{ModelRc, VecModel};
use truce_sync::taxonomy::Code;
use truce_sync::verification::VerificationStatus;
use truce_sync::{ObservationRevision, Taxonomy, TimePrecision};

use truce_core::journal::JournalError;
use truce_core::model::QueueRow;
use truce_core::model::{LinkSuggestion, Nearness};

use crate::format;
use crate::ui::{Choice, FieldRow, LinkSuggestionItem, ObservationRow, QueueItem, SessionError};

/// The label of `code` among `codes`; the code itself when the profile does not define it.
pub(crate) fn label(codes: &[Code], code: &str) -> String {
    codes
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.label.clone())
        .unwrap_or_else(|| code.to_owned())
}

/// Chips for a list of codes (kinds, categories, parties).
pub(crate) fn choices(codes: &[Code]) -> ModelRc<Choice> {
    choice_list(codes.iter().map(|c| (c.code.clone(), c.label.clone())))
}

/// Chips for (code, label) pairs.
pub(crate) fn choice_list(list: impl IntoIterator<Item = (String, String)>) -> ModelRc<Choice> {
    let items: Vec<Choice> = list
        .into_iter()
        .map(|(code, label)| Choice {
            code: code.into(),
            label: label.into(),
        })
        .collect();
    ModelRc::new(VecModel::from(items))
}

/// A journal list row.
pub(crate) fn observation_row(
    revision: &ObservationRevision,
    taxonomy: &Taxonomy,
) -> ObservationRow {
    let o = &revision.observation;
    let id = o.id.to_string();
    ObservationRow {
        short_id: format::short_id(&id).into(),
        // Callbacks pass the id with its device: two devices may have used the same id.
        id: revision.key().to_string().into(),
        full_id: id.into(),
        kind: o.kind.as_str().into(),
        kind_label: label(&taxonomy.kinds, &o.kind).into(),
        category: o.category.as_str().into(),
        category_label: label(&taxonomy.categories, &o.category).into(),
        time: format::time(&o.observed_at).into(),
        severity: o.severity.map(i32::from).unwrap_or(0),
        excerpt: format::excerpt(&o.narrative, 90).into(),
        place: o.place.clone().unwrap_or_default().into(),
        revision: revision.revision as i32,
        delivery: crate::ui::Delivery::None,
    }
}

/// A queue card (also the records under an alert and an event cluster).
pub(crate) fn queue_item(
    revision: &ObservationRevision,
    status: VerificationStatus,
    taxonomy: &Taxonomy,
) -> QueueItem {
    let r = observation_row(revision, taxonomy);
    QueueItem {
        id: r.id,
        short_id: r.short_id,
        kind: r.kind,
        kind_label: r.kind_label,
        category: r.category,
        category_label: r.category_label,
        time: r.time,
        severity: r.severity,
        excerpt: r.excerpt,
        place: r.place,
        observer: revision.observer.as_str().into(),
        status: status.code().into(),
        device_pending: false,
        id_shared: false,
        after_revocation: false,
    }
}

/// A queue card with its marks: a device not accepted yet, an id that another device used too.
pub(crate) fn queue_row_item(row: &QueueRow, taxonomy: &Taxonomy) -> QueueItem {
    QueueItem {
        device_pending: row.device_pending,
        id_shared: !row.id_also_used_by.is_empty(),
        after_revocation: row.after_revocation,
        ..queue_item(&row.revision, row.status, taxonomy)
    }
}

/// How near a suggestion is: "850 m", "1.2 km", or the area's name.
pub(crate) fn near_text(nearness: &Nearness) -> String {
    match nearness {
        Nearness::Distance(km) if *km < 1.0 => format!("{} m", (km * 100.0).round() * 10.0),
        Nearness::Distance(km) => format!("{km:.1} km"),
        Nearness::Area(label) => label.clone(),
    }
}

/// A report likely to be the same event.
pub(crate) fn suggestion_item(s: &LinkSuggestion, taxonomy: &Taxonomy) -> LinkSuggestionItem {
    let r = observation_row(&s.revision, taxonomy);
    LinkSuggestionItem {
        id: r.id,
        short_id: r.short_id,
        kind: r.kind,
        category: r.category,
        category_label: r.category_label,
        time: r.time,
        near: near_text(&s.nearness).into(),
        observer: s.revision.observer.as_str().into(),
    }
}

fn field(label: &str, value: impl Into<String>) -> FieldRow {
    FieldRow {
        label: label.into(),
        value: value.into().into(),
    }
}

/// Every field that has a value, labelled by its schema v1 name (the markup translates it).
/// An initiator or a target that is one of the profile's `parties` shows its label.
pub(crate) fn fields(revision: &ObservationRevision, parties: &[Code]) -> Vec<FieldRow> {
    let o = &revision.observation;
    let mut rows = vec![field(
        "observed_at",
        format::time_with_offset(&o.observed_at),
    )];
    if let Some(until) = &o.observed_until {
        rows.push(field("observed_until", format::time_with_offset(until)));
    }
    if o.time_precision != TimePrecision::Exact {
        rows.push(field(
            "time_precision",
            format::value(&serde_json::to_value(o.time_precision).unwrap_or(Value::Null)),
        ));
    }
    rows.push(field("method", o.method.code()));
    if let (Some(lat), Some(lon)) = (o.lat, o.lon) {
        rows.push(field("position", format!("{lat}, {lon}")));
    }
    if let Some(a) = o.accuracy_m {
        rows.push(field("accuracy_m", format!("{a} m")));
    }
    if let Some(place) = &o.place {
        rows.push(field("place", place.clone()));
    }
    if let Some(d) = o.direction_deg {
        rows.push(field("direction_deg", format!("{d}°")));
    }
    match (o.distance_min_m, o.distance_max_m) {
        (Some(a), Some(b)) => rows.push(field("distance", format!("{a}–{b} m"))),
        (Some(a), None) | (None, Some(a)) => rows.push(field("distance", format!("{a} m"))),
        (None, None) => {}
    }
    if let Some(n) = o.event_count {
        rows.push(field(
            "event_count",
            if o.count_approx {
                format!("≈ {n}")
            } else {
                n.to_string()
            },
        ));
    }
    if let Some(weapon) = &o.weapon {
        rows.push(field("weapon", weapon.clone()));
    }
    for (name, text) in [("initiator", &o.initiator), ("target", &o.target)] {
        if let Some(text) = text {
            rows.push(field(name, label(parties, text)));
        }
    }
    for (name, n) in [("killed", o.killed), ("injured", o.injured)] {
        if let Some(n) = n {
            rows.push(field(name, n.to_string()));
        }
    }
    if !o.tags.is_empty() {
        rows.push(field("tags", o.tags.join(", ")));
    }
    rows.push(field("observer", revision.observer.clone()));
    rows
}

/// `41–57, 60` for the missing ranges of a device's log.
pub(crate) fn gaps(ranges: &[(u64, u64)]) -> String {
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The screen-level error for a journal error (unlock, setup, passphrase change).
pub(crate) fn session_error(e: &JournalError) -> (SessionError, String) {
    match e {
        JournalError::WrongPassphrase(_) => (SessionError::WrongPassphrase, String::new()),
        other => (SessionError::Other, other.to_string()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A revision the screens' tests share.
    pub(crate) fn revision() -> ObservationRevision {
        let json = r#"{"id":"0192f0c4-7d2a-7b3c-9d4e-5f6a7b8c9d0e","kind":"violation","category":"shelling",
            "method":"heard","observed_at":"2026-11-24T05:30:00+03:00","severity":3,"event_count":40,
            "narrative":"Shelling"}"#;
        ObservationRevision {
            observation: serde_json::from_str(json).expect("observation"),
            revision: 1,
            recorded_at: chrono::DateTime::parse_from_rfc3339("2026-11-24T05:41:00+03:00")
                .expect("time"),
            device_id: uuid::Uuid::nil(),
            observer: "Ana".into(),
        }
    }

    #[test]
    fn nearness_reads_as_metres_kilometres_or_the_area() {
        assert_eq!(near_text(&Nearness::Distance(0.8449)), "840 m");
        assert_eq!(near_text(&Nearness::Distance(1.24)), "1.2 km");
        assert_eq!(near_text(&Nearness::Area("North".into())), "North");
    }

    #[test]
    fn fields_are_labelled_by_schema_name() {
        let rows = fields(&revision(), &[]);
        let names: Vec<String> = rows.iter().map(|r| r.label.to_string()).collect();
        assert_eq!(names, ["observed_at", "method", "event_count", "observer"]);
        assert_eq!(rows[0].value.as_str(), "2026-11-24 05:30 +03:00");
    }

    #[test]
    fn parties_show_the_profiles_label() {
        let mut r = revision();
        r.observation.initiator = Some("party_a".into());
        r.observation.target = Some("a farm".into());
        let parties = [Code {
            code: "party_a".into(),
            label: "Party A".into(),
        }];
        let value = |rows: &[FieldRow], name: &str| {
            rows.iter()
                .find(|f| f.label == name)
                .map(|f| f.value.to_string())
        };
        let rows = fields(&r, &parties);
        assert_eq!(value(&rows, "initiator").as_deref(), Some("Party A"));
        assert_eq!(value(&rows, "target").as_deref(), Some("a farm"));
        let rows = fields(&r, &[]);
        assert_eq!(value(&rows, "initiator").as_deref(), Some("party_a"));
    }

    #[test]
    fn gaps_read_as_ranges() {
        assert_eq!(gaps(&[]), "");
        assert_eq!(gaps(&[(41, 57), (60, 60)]), "41–57, 60");
    }
}
