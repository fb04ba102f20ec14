//! Observations and areas the coordination tests share.

use chrono::DateTime;
use truce_sync::profile::Area;
use truce_sync::ObservationRevision;
use uuid::Uuid;

pub(crate) fn rev(
    kind: &str,
    at: &str,
    position: Option<(f64, f64)>,
    place: Option<&str>,
) -> ObservationRevision {
    let mut json = serde_json::json!({
        "id": Uuid::now_v7().to_string(),
        "kind": kind,
        "category": if kind == "violation" { "shelling" } else { "mine_uxo" },
        "method": "heard",
        "observed_at": at,
    });
    if let Some((lat, lon)) = position {
        json["lat"] = lat.into();
        json["lon"] = lon.into();
    }
    if let Some(place) = place {
        json["place"] = place.into();
    }
    ObservationRevision {
        observation: serde_json::from_value(json).expect("observation"),
        revision: 1,
        recorded_at: DateTime::parse_from_rfc3339("2026-11-24T08:00:00+00:00").expect("time"),
        device_id: Uuid::nil(),
        observer: "Ana".into(),
    }
}

pub(crate) fn areas() -> Vec<Area> {
    vec![
        Area {
            code: "north".into(),
            label: "North".into(),
            bbox: Some([37.0, 48.0, 38.0, 49.0]),
        },
        Area {
            code: "south".into(),
            label: "South".into(),
            bbox: Some([37.0, 47.0, 38.0, 48.0]),
        },
    ]
}
