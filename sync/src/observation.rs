//! Observation schema v1: the record monitors write, its JSON contract, parsing and validation.
//!
//! The JSON field names here are the interchange contract of ../shared/DOMAIN.md: devices,
//! coordinators, the CLI and exports all use them. Add fields as missions need; never rename.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::taxonomy::Taxonomy;

/// Longest narrative accepted, in characters.
pub const NARRATIVE_MAX_CHARS: usize = 10_000;
/// Longest short text field (place, weapon), in characters.
pub const SHORT_TEXT_MAX_CHARS: usize = 500;
/// Largest count (`event_count`, `killed`, `injured`) and distance in metres a record may
/// carry: far above any real one, and small enough that a million records summed stay exact.
pub const MAX_COUNT: u32 = 1_000_000;
/// Longest party code or tag, in characters.
pub const CODE_MAX_CHARS: usize = 64;
/// Most tags on one observation.
pub const TAGS_MAX: usize = 32;

/// How precisely the observation time is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimePrecision {
    /// To the minute.
    #[default]
    Exact,
    /// Within roughly an hour.
    Approx,
    /// Only the day is known.
    Day,
}

/// Where the coordinates (or the place) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationSource {
    /// The device's own positioning.
    Gps,
    /// Picked on a map.
    Map,
    /// Described in words (`place`).
    Described,
}

/// How the monitor observed the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Seen directly.
    Seen,
    /// Heard only.
    Heard,
    /// Both seen and heard.
    SeenHeard,
    /// Through a camera.
    Camera,
    /// Through an unmanned aerial vehicle.
    Uav,
    /// Reported by someone else.
    Reported,
}

impl Method {
    /// Every method, in display order.
    pub const ALL: [Method; 6] = [
        Method::Seen,
        Method::Heard,
        Method::SeenHeard,
        Method::Camera,
        Method::Uav,
        Method::Reported,
    ];

    /// The schema v1 code of this method.
    pub fn code(self) -> &'static str {
        match self {
            Method::Seen => "seen",
            Method::Heard => "heard",
            Method::SeenHeard => "seen_heard",
            Method::Camera => "camera",
            Method::Uav => "uav",
            Method::Reported => "reported",
        }
    }
}

/// One observation, schema v1. Device metadata (device, observer, revision) travels beside it
/// in [`ObservationRevision`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// UUID v7, assigned on the device when absent.
    pub id: Uuid,
    /// Top-level class, a taxonomy kind code.
    pub kind: String,
    /// A taxonomy category code.
    pub category: String,
    /// Start of the observation, with the observer's UTC offset.
    pub observed_at: DateTime<FixedOffset>,
    /// End of an observation window.
    #[serde(default)]
    pub observed_until: Option<DateTime<FixedOffset>>,
    /// How precisely the time is known.
    #[serde(default)]
    pub time_precision: TimePrecision,
    /// WGS84 latitude in degrees; together with `lon` or not at all.
    #[serde(default)]
    pub lat: Option<f64>,
    /// WGS84 longitude in degrees; together with `lat` or not at all.
    #[serde(default)]
    pub lon: Option<f64>,
    /// 68% radius of the position in metres, as GPS reports it.
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    /// Where the position came from.
    #[serde(default)]
    pub location_source: Option<LocationSource>,
    /// A named or described place, e.g. "15 km north of X".
    #[serde(default)]
    pub place: Option<String>,
    /// How it was observed.
    pub method: Method,
    /// Bearing from observer to event, 0..359 degrees.
    #[serde(default)]
    pub direction_deg: Option<u16>,
    /// Nearest assessed distance in metres.
    #[serde(default)]
    pub distance_min_m: Option<u32>,
    /// Farthest assessed distance in metres.
    #[serde(default)]
    pub distance_max_m: Option<u32>,
    /// How many events (explosions, bursts, shots).
    #[serde(default)]
    pub event_count: Option<u32>,
    /// Whether `event_count` is an estimate.
    #[serde(default)]
    pub count_approx: bool,
    /// Weapon, e.g. "82mm mortar (assessed)".
    #[serde(default)]
    pub weapon: Option<String>,
    /// Party code of the initiator, or `unknown`.
    #[serde(default)]
    pub initiator: Option<String>,
    /// Party code of the target, or `unknown`.
    #[serde(default)]
    pub target: Option<String>,
    /// People killed.
    #[serde(default)]
    pub killed: Option<u32>,
    /// People injured.
    #[serde(default)]
    pub injured: Option<u32>,
    /// Step on the mission's escalation ladder, 1..5.
    #[serde(default)]
    pub severity: Option<u8>,
    /// Free description.
    #[serde(default)]
    pub narrative: String,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Evidence files, named by the SHA-256 of their original bytes (see
    /// [`crate::attachment`]). Absent from the record when there are none, so that records
    /// without attachments keep the bytes, and the hashes, they always had.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
}

/// An observation as the journal holds it: the record plus device-side metadata.
/// Serializes flat: the schema v1 names plus `revision`, `recorded_at`, `device_id`, `observer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservationRevision {
    /// The record itself.
    #[serde(flatten)]
    pub observation: Observation,
    /// 1 for the first save, one more for each amendment.
    pub revision: u32,
    /// When this revision was saved on the device.
    pub recorded_at: DateTime<FixedOffset>,
    /// The device that saved it.
    pub device_id: Uuid,
    /// The observer signed in on that device.
    pub observer: String,
}

/// An observation's identity: its id together with the device that made it. Ids are chosen
/// on devices, so two devices may use the same one (by chance, or a stranger on purpose); the
/// pair never merges one device's record into another's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObservationKey {
    /// The observation's id (UUID v7, chosen on its device).
    pub id: Uuid,
    /// The device that made it.
    pub device_id: Uuid,
}

impl std::fmt::Display for ObservationKey {
    /// `ID@DEVICE`, the form `truce show` and `truce amend` accept.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.id, self.device_id)
    }
}

impl ObservationRevision {
    /// The identity of the observation this is a revision of.
    pub fn key(&self) -> ObservationKey {
        ObservationKey {
            id: self.observation.id,
            device_id: self.device_id,
        }
    }
}

/// What is wrong with an observation. Every variant says which field, and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The input is not JSON at all.
    #[error("the observation is not valid JSON: {0}. Send one JSON object, e.g. {{\"kind\":\"violation\",\"category\":\"shelling\",\"method\":\"heard\"}}")]
    Json(String),
    /// The input is JSON but not an object.
    #[error("the observation must be one JSON object, not {0}")]
    NotAnObject(&'static str),
    /// One field is missing, mistyped or out of range.
    #[error("field `{field}`: {message}")]
    Field {
        /// Schema v1 name of the field at fault.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

impl SchemaError {
    /// A required field is absent.
    pub(crate) fn missing(field: &str) -> Self {
        SchemaError::field(field, "is required")
    }

    /// A field has a value that is not allowed.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        SchemaError::field(field.trim_start_matches('.'), message)
    }

    fn field(field: &str, message: impl Into<String>) -> Self {
        SchemaError::Field {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The field at fault, if the error is about one field.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            SchemaError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses JSON text into a JSON object, with an error a person can act on.
pub fn parse_object(text: &str) -> Result<Map<String, Value>, SchemaError> {
    let value: Value = serde_json::from_str(text).map_err(|e| SchemaError::Json(e.to_string()))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(SchemaError::NotAnObject(json_type(&other))),
    }
}

/// Turns a JSON object into an [`Observation`], naming the field at fault on error.
/// Does not check ranges or the taxonomy: see [`Observation::validate`].
pub(crate) fn from_object(map: Map<String, Value>) -> Result<Observation, SchemaError> {
    serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." || path.is_empty() {
            // Missing or unknown field: serde names it in the message.
            let field = inner.split('`').nth(1).unwrap_or("(record)").to_owned();
            let message = if inner.starts_with("unknown field") {
                format!(
                    "is not a schema v1 field; check the spelling (fields: {}, attachments)",
                    FIELDS.join(", ")
                )
            } else if inner.starts_with("missing field") {
                "is required".to_owned()
            } else {
                inner
            };
            SchemaError::field(&field, message)
        } else {
            SchemaError::field(path.trim_start_matches('.'), inner)
        }
    })
}

/// Every schema v1 field name, in contract order.
pub const FIELDS: [&str; 25] = [
    "id",
    "kind",
    "category",
    "observed_at",
    "observed_until",
    "time_precision",
    "lat",
    "lon",
    "accuracy_m",
    "location_source",
    "place",
    "method",
    "direction_deg",
    "distance_min_m",
    "distance_max_m",
    "event_count",
    "count_approx",
    "weapon",
    "initiator",
    "target",
    "killed",
    "injured",
    "severity",
    "narrative",
    "tags",
];

/// Values the device fills in when a new observation leaves them out.
#[derive(Debug, Clone, Copy)]
pub struct NewObservationDefaults {
    /// The id to use when the input has none (a fresh UUID v7).
    pub id: Uuid,
    /// The time to use when the input has no `observed_at` (now, in local time).
    pub now: DateTime<FixedOffset>,
}

impl Observation {
    /// Turns a JSON object into an observation without filling defaults or validating.
    pub(crate) fn from_object(map: Map<String, Value>) -> Result<Observation, SchemaError> {
        from_object(map)
    }

    /// Builds a new observation from a JSON object, filling `id` and `observed_at` when absent,
    /// then validates it against `taxonomy`.
    pub fn from_new_json(
        mut map: Map<String, Value>,
        defaults: NewObservationDefaults,
        taxonomy: &Taxonomy,
    ) -> Result<Observation, SchemaError> {
        if map.get("id").is_none_or(Value::is_null) {
            map.insert("id".into(), Value::String(defaults.id.to_string()));
        }
        if map.get("observed_at").is_none_or(Value::is_null) {
            map.insert(
                "observed_at".into(),
                Value::String(defaults.now.to_rfc3339()),
            );
        }
        let observation = from_object(map)?;
        observation.validate(taxonomy)?;
        Ok(observation)
    }

    /// Applies a partial JSON object (an amendment) to this observation and validates the result.
    /// A key set to `null` clears an optional field. The `id` cannot change.
    pub fn amended(
        &self,
        patch: Map<String, Value>,
        taxonomy: &Taxonomy,
    ) -> Result<Observation, SchemaError> {
        if patch.is_empty() {
            return Err(SchemaError::field(
                "(record)",
                "the amendment is empty; give the fields to change, e.g. {\"severity\":3}",
            ));
        }
        if let Some(id) = patch.get("id") {
            if id != &Value::String(self.id.to_string()) {
                return Err(SchemaError::field(
                    "id",
                    "an amendment cannot change the id; leave `id` out",
                ));
            }
        }
        let mut map = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => return Err(SchemaError::NotAnObject("an unserializable record")),
        };
        for (key, value) in patch {
            map.insert(key, value);
        }
        let observation = from_object(map)?;
        observation.validate(taxonomy)?;
        if &observation == self {
            return Err(SchemaError::field(
                "(record)",
                "the amendment changes nothing; give at least one new value",
            ));
        }
        Ok(observation)
    }

    /// Checks every rule of schema v1 that types alone do not enforce.
    pub fn validate(&self, taxonomy: &Taxonomy) -> Result<(), SchemaError> {
        if !taxonomy.has_kind(&self.kind) {
            return Err(SchemaError::field(
                "kind",
                format!(
                    "`{}` is not a known kind; use one of: {}",
                    self.kind,
                    taxonomy.kind_list()
                ),
            ));
        }
        if !taxonomy.has_category(&self.category) {
            return Err(SchemaError::field(
                "category",
                format!(
                    "`{}` is not a known category; use one of: {}",
                    self.category,
                    taxonomy.category_list()
                ),
            ));
        }
        if let Some(until) = self.observed_until {
            if until < self.observed_at {
                return Err(SchemaError::field(
                    "observed_until",
                    "is before `observed_at`; the end of a window cannot come before its start",
                ));
            }
        }
        match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(SchemaError::field(
                        "lat",
                        format!("{lat} is outside -90..90 degrees"),
                    ));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    return Err(SchemaError::field(
                        "lon",
                        format!("{lon} is outside -180..180 degrees"),
                    ));
                }
            }
            (Some(_), None) => {
                return Err(SchemaError::field(
                    "lon",
                    "is missing; give `lat` and `lon` together, or neither",
                ))
            }
            (None, Some(_)) => {
                return Err(SchemaError::field(
                    "lat",
                    "is missing; give `lat` and `lon` together, or neither",
                ))
            }
            (None, None) => {
                if matches!(
                    self.location_source,
                    Some(LocationSource::Gps | LocationSource::Map)
                ) {
                    return Err(SchemaError::field(
                        "location_source",
                        "says the position came from GPS or a map, but `lat` and `lon` are missing",
                    ));
                }
            }
        }
        if let Some(acc) = self.accuracy_m {
            if !(0.0..=1_000_000.0).contains(&acc) {
                return Err(SchemaError::field(
                    "accuracy_m",
                    "must be between 0 and 1,000,000 metres",
                ));
            }
        }
        if self.location_source == Some(LocationSource::Described)
            && self.place.as_deref().is_none_or(|p| p.trim().is_empty())
        {
            return Err(SchemaError::field(
                "place",
                "is empty, but `location_source` is `described`; describe the place",
            ));
        }
        if let Some(dir) = self.direction_deg {
            if dir > 359 {
                return Err(SchemaError::field(
                    "direction_deg",
                    format!("{dir} is outside 0..359 degrees"),
                ));
            }
        }
        for (field, value) in [
            ("event_count", self.event_count),
            ("killed", self.killed),
            ("injured", self.injured),
            ("distance_min_m", self.distance_min_m),
            ("distance_max_m", self.distance_max_m),
        ] {
            if let Some(value) = value.filter(|v| *v > MAX_COUNT) {
                return Err(SchemaError::field(
                    field,
                    format!("{value} is more than {MAX_COUNT}"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.distance_min_m, self.distance_max_m) {
            if min > max {
                return Err(SchemaError::field(
                    "distance_min_m",
                    format!("{min} m is more than `distance_max_m` ({max} m)"),
                ));
            }
        }
        if let Some(sev) = self.severity {
            if !(1..=5).contains(&sev) {
                return Err(SchemaError::field(
                    "severity",
                    format!("{sev} is outside 1..5"),
                ));
            }
        }
        check_len("narrative", &self.narrative, NARRATIVE_MAX_CHARS)?;
        if let Some(c) = crate::text::free_text_control(&self.narrative) {
            return Err(SchemaError::field(
                "narrative",
                format!(
                    "holds the control character {}; a narrative may hold line breaks and tabs, no other control characters",
                    crate::text::code_point(c)
                ),
            ));
        }
        for (field, text) in [("place", &self.place), ("weapon", &self.weapon)] {
            if let Some(text) = text {
                check_len(field, text, SHORT_TEXT_MAX_CHARS)?;
                check_line(field, text)?;
            }
        }
        for (field, code) in [("initiator", &self.initiator), ("target", &self.target)] {
            if let Some(code) = code {
                check_code(field, code)?;
            }
        }
        crate::attachment::validate(&self.attachments)
            .map_err(|e| SchemaError::invalid(&e.field, e.message))?;
        if self.tags.len() > TAGS_MAX {
            return Err(SchemaError::field(
                "tags",
                format!("has {} tags; at most {TAGS_MAX}", self.tags.len()),
            ));
        }
        for tag in &self.tags {
            check_code("tags", tag)?;
        }
        Ok(())
    }
}

fn check_len(field: &str, text: &str, max: usize) -> Result<(), SchemaError> {
    let n = text.chars().count();
    if n > max {
        return Err(SchemaError::field(
            field,
            format!("is {n} characters long; at most {max} are allowed"),
        ));
    }
    Ok(())
}

/// One-line text: no control characters at all (see [`crate::text`]).
fn check_line(field: &str, text: &str) -> Result<(), SchemaError> {
    match crate::text::line_control(text) {
        Some(c) => Err(SchemaError::field(
            field,
            crate::text::line_control_message(c),
        )),
        None => Ok(()),
    }
}

fn check_code(field: &str, code: &str) -> Result<(), SchemaError> {
    if code.trim().is_empty() {
        return Err(SchemaError::field(field, "contains an empty value"));
    }
    check_len(field, code, CODE_MAX_CHARS)?;
    check_line(field, code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> NewObservationDefaults {
        NewObservationDefaults {
            id: Uuid::now_v7(),
            now: DateTime::parse_from_rfc3339("2026-11-24T21:00:00+02:00").expect("valid time"),
        }
    }

    fn minimal() -> Value {
        json!({"kind": "violation", "category": "shelling", "method": "heard"})
    }

    fn parse(value: Value) -> Result<Observation, SchemaError> {
        let map = match value {
            Value::Object(map) => map,
            _ => panic!("test input must be an object"),
        };
        Observation::from_new_json(map, defaults(), &Taxonomy::builtin())
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = minimal();
        v[field] = value;
        v
    }

    fn field_of(result: Result<Observation, SchemaError>) -> String {
        result
            .expect_err("must be refused")
            .field_name()
            .expect("a field error")
            .to_owned()
    }

    #[test]
    fn minimal_observation_gets_id_and_time() {
        let d = defaults();
        let map = minimal().as_object().cloned().expect("object");
        let obs = Observation::from_new_json(map, d, &Taxonomy::builtin()).expect("valid");
        assert_eq!(obs.id, d.id);
        assert_eq!(obs.observed_at, d.now);
        assert_eq!(obs.time_precision, TimePrecision::Exact);
        assert!(obs.tags.is_empty());
    }

    #[test]
    fn offset_survives_round_trip() {
        let obs = parse(with("observed_at", json!("2026-03-01T05:30:00+03:00"))).expect("valid");
        let text = serde_json::to_string(&obs).expect("serializes");
        assert!(text.contains("2026-03-01T05:30:00+03:00"), "{text}");
        let back: Observation = serde_json::from_str(&text).expect("parses back");
        assert_eq!(back, obs);
        assert_eq!(back.observed_at.offset().local_minus_utc(), 3 * 3600);
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(Value, &str)> = vec![
            (with("lat", json!(91.0)), "lon"), // lat without lon
            (
                {
                    let mut v = with("lat", json!(90.5));
                    v["lon"] = json!(10.0);
                    v
                },
                "lat",
            ),
            (
                {
                    let mut v = with("lat", json!(10.0));
                    v["lon"] = json!(-180.5);
                    v
                },
                "lon",
            ),
            (with("lon", json!(10.0)), "lat"),
            (with("direction_deg", json!(360)), "direction_deg"),
            (with("direction_deg", json!(-1)), "direction_deg"),
            (
                {
                    let mut v = with("distance_min_m", json!(500));
                    v["distance_max_m"] = json!(100);
                    v
                },
                "distance_min_m",
            ),
            (with("severity", json!(0)), "severity"),
            (with("severity", json!(6)), "severity"),
            (
                {
                    let mut v = with("observed_at", json!("2026-11-24T10:00:00Z"));
                    v["observed_until"] = json!("2026-11-24T09:59:00Z");
                    v
                },
                "observed_until",
            ),
            (
                with("narrative", json!("x".repeat(NARRATIVE_MAX_CHARS + 1))),
                "narrative",
            ),
            (with("kind", json!("skirmish")), "kind"),
            (with("category", json!("Shelling")), "category"),
            (with("method", json!("smelled")), "method"),
            (with("observed_at", json!("yesterday")), "observed_at"),
            (with("narative", json!("typo")), "narative"),
            (with("killed", json!(-2)), "killed"),
            (with("killed", json!(MAX_COUNT + 1)), "killed"),
            (
                with("event_count", json!(u64::from(u32::MAX))),
                "event_count",
            ),
            (
                with("distance_max_m", json!(MAX_COUNT + 1)),
                "distance_max_m",
            ),
            (with("location_source", json!("gps")), "location_source"),
            (with("location_source", json!("described")), "place"),
            (with("tags", json!(["ok", ""])), "tags"),
            (with("tags", json!(["ok\u{1b}[2K"])), "tags"),
            (with("narrative", json!("fake\u{1b}[2K\rline")), "narrative"),
            (with("narrative", json!("csi \u{9b}2K")), "narrative"),
            (with("place", json!("hill 4\nsecond line")), "place"),
            (with("weapon", json!("\u{7}mortar")), "weapon"),
            (with("initiator", json!("party\u{85}")), "initiator"),
        ];
        for (input, field) in cases {
            assert_eq!(field_of(parse(input.clone())), field, "input: {input}");
        }
        let mut missing = minimal();
        missing.as_object_mut().expect("object").remove("kind");
        assert_eq!(field_of(parse(missing)), "kind");
    }

    #[test]
    fn boundaries_are_accepted() {
        let mut v = with("lat", json!(-90.0));
        v["lon"] = json!(180.0);
        v["direction_deg"] = json!(359);
        v["severity"] = json!(5);
        v["distance_min_m"] = json!(100);
        v["distance_max_m"] = json!(100);
        v["narrative"] = json!("é".repeat(NARRATIVE_MAX_CHARS));
        parse(v.clone()).expect("all at the limits");
        // Line breaks and tabs stay in a narrative, and so do the marks Arabic and Persian need.
        v["narrative"] = json!("first line\nsecond\tline\r\nآنا\u{200f} می\u{200c}خواهد");
        v["place"] = json!("قرية\u{200f} \u{200e}X");
        v["observed_until"] = v["observed_at"].clone();
        v["observed_at"] = json!("2026-11-24T10:00:00+01:00");
        v["observed_until"] = json!("2026-11-24T09:00:00Z");
        v["event_count"] = json!(MAX_COUNT);
        v["killed"] = json!(MAX_COUNT);
        parse(v).expect("all at the limits");
    }

    #[test]
    fn not_json_and_not_object() {
        assert!(matches!(
            parse_object("{\"kind\": "),
            Err(SchemaError::Json(_))
        ));
        assert!(matches!(
            parse_object("[1,2]"),
            Err(SchemaError::NotAnObject("an array"))
        ));
    }

    #[test]
    fn amendment_merges_and_keeps_id() {
        let mut v = minimal();
        v["severity"] = json!(2);
        v["place"] = json!("hill 4");
        let obs = parse(v).expect("valid");
        let patch = json!({"severity": 4, "place": null})
            .as_object()
            .cloned()
            .expect("object");
        let amended = obs
            .amended(patch, &Taxonomy::builtin())
            .expect("valid amendment");
        assert_eq!(amended.id, obs.id);
        assert_eq!(amended.severity, Some(4));
        assert_eq!(amended.place, None);
        assert_eq!(amended.kind, obs.kind);

        let bad = json!({"severity": 9}).as_object().cloned().expect("object");
        assert_eq!(field_of(obs.amended(bad, &Taxonomy::builtin())), "severity");
        let other_id = json!({"id": Uuid::now_v7().to_string()})
            .as_object()
            .cloned()
            .expect("object");
        assert_eq!(field_of(obs.amended(other_id, &Taxonomy::builtin())), "id");
        let same = json!({"severity": 2}).as_object().cloned().expect("object");
        assert!(obs.amended(same, &Taxonomy::builtin()).is_err());
    }

    #[test]
    fn revision_serializes_flat() {
        let obs = parse(minimal()).expect("valid");
        let rev = ObservationRevision {
            observation: obs,
            revision: 2,
            recorded_at: defaults().now,
            device_id: Uuid::nil(),
            observer: "Ana".into(),
        };
        let value = serde_json::to_value(&rev).expect("serializes");
        assert_eq!(value["revision"], json!(2));
        assert_eq!(value["observer"], json!("Ana"));
        assert_eq!(value["kind"], json!("violation"));
        assert!(value.get("observation").is_none());
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn valid_positions_round_trip(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0, dir in 0u16..360) {
                let mut v = minimal();
                v["lat"] = json!(lat);
                v["lon"] = json!(lon);
                v["direction_deg"] = json!(dir);
                let obs = parse(v).expect("valid");
                let back: Observation = serde_json::from_str(&serde_json::to_string(&obs).expect("ser")).expect("de");
                prop_assert_eq!(back, obs);
            }

            #[test]
            fn out_of_range_latitude_is_refused(lat in prop_oneof![-1000.0f64..-90.0001, 90.0001f64..1000.0]) {
                let mut v = minimal();
                v["lat"] = json!(lat);
                v["lon"] = json!(0.0);
                prop_assert_eq!(field_of(parse(v)), "lat");
            }
        }
    }
}
