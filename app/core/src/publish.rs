//! Data exports for coordinators: CSV, GeoJSON and HXL-tagged CSV, and the public redacted
//! variant (no identities, no free text unless tagged `public`, coarse places and times in UTC,
//! confirmed records only).

use std::io::Write;

use chrono::{DateTime, FixedOffset, SecondsFormat, Timelike, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use truce_sync::profile::{area_of, Area};
use truce_sync::taxonomy::Code;

use crate::model::QueueRow;

/// Output formats of `truce export-data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// Comma-separated values, schema v1 column names, UTF-8 with a byte-order mark.
    Csv,
    /// A GeoJSON FeatureCollection (RFC 7946).
    GeoJson,
    /// CSV with an HXL hashtag row under the header.
    Hxl,
}

/// How a public export coarsens what it keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicOptions {
    /// Grid size in degrees coordinates are snapped to (cell centres).
    pub grid_deg: f64,
}

impl Default for PublicOptions {
    fn default() -> Self {
        PublicOptions { grid_deg: 0.05 }
    }
}

/// The tag that marks a record's free text (narrative, place, weapon, parties named in words)
/// as fit for publication.
pub const PUBLIC_NARRATIVE_TAG: &str = "public";

/// Free-text columns of a public export: empty unless the record is tagged
/// [`PUBLIC_NARRATIVE_TAG`]. A place in words ("Roof of Ana's house at 48.5124N 37.5432E")
/// would undo the grid, and a narrative or weapon can name people and places.
pub const PUBLIC_FREE_TEXT: [&str; 3] = ["narrative", "place", "weapon"];

/// Party columns of a public export: kept when the value is one of the mission profile's party
/// codes or `unknown`, else (a party typed in words) treated as free text.
pub const PUBLIC_PARTY_COLUMNS: [&str; 2] = ["initiator", "target"];

/// Columns a full export adds after the schema v1 fields: device metadata, verification, area.
pub const EXTRA_COLUMNS: [&str; 8] = [
    "revision",
    "recorded_at",
    "device_id",
    "observer",
    "status",
    "area_code",
    "area",
    "after_revocation",
];

/// Time columns and their UTC companions. The originals keep the offset they were observed or
/// recorded with; the companions (`YYYY-MM-DD HH:MM:SS`, UTC, in CSV and HXL; RFC 3339 with
/// `Z` in GeoJSON) sort in time order and read as date-times in spreadsheets.
pub const UTC_COMPANIONS: [(&str, &str); 3] = [
    ("observed_at", "observed_at_utc"),
    ("observed_until", "observed_until_utc"),
    ("recorded_at", "recorded_at_utc"),
];

/// `columns` with each time column's UTC companion right after it.
fn with_utc_companions(columns: impl IntoIterator<Item = &'static str>) -> Vec<&'static str> {
    let mut out = Vec::new();
    for column in columns {
        out.push(column);
        if let Some((_, utc)) = UTC_COMPANIONS.iter().find(|(c, _)| *c == column) {
            out.push(utc);
        }
    }
    out
}

/// Columns of a full export: schema v1 (in contract order), then [`EXTRA_COLUMNS`], each time
/// column followed by its UTC companion.
pub fn columns() -> Vec<&'static str> {
    with_utc_companions(
        truce_sync::observation::FIELDS
            .iter()
            .chain(EXTRA_COLUMNS.iter())
            .copied(),
    )
}

/// Columns of a public export: no observer, device or recording metadata, no observer position.
pub const PUBLIC_COLUMNS: [&str; 22] = [
    "id",
    "kind",
    "category",
    "observed_at",
    "observed_until",
    "time_precision",
    "lat",
    "lon",
    "place",
    "method",
    "event_count",
    "count_approx",
    "weapon",
    "initiator",
    "target",
    "killed",
    "injured",
    "severity",
    "narrative",
    "status",
    "area_code",
    "area",
];

/// Columns of a public export, each time column followed by its UTC companion.
pub fn public_columns() -> Vec<&'static str> {
    with_utc_companions(PUBLIC_COLUMNS)
}

/// The HXL hashtag of a column. Base hashtags come from the HXL core dictionary only
/// (hxlstandard.org); attributes say which one of several columns it is. The choices, with
/// their reasons, are in docs/data-exports.md. Every column is tagged.
pub fn hxl_tag(column: &str) -> &'static str {
    match column {
        "id" => "#meta+id",
        "kind" => "#event+type",
        "category" => "#event+type+sub",
        "observed_at" => "#date+occurred",
        "observed_at_utc" => "#date+occurred+utc",
        "observed_until" => "#date+occurred+end",
        "observed_until_utc" => "#date+occurred+end+utc",
        "time_precision" => "#meta+precision+time",
        "lat" => "#geo+lat",
        "lon" => "#geo+lon",
        "accuracy_m" => "#geo+precision+m",
        "location_source" => "#geo+source",
        "place" => "#loc+name",
        "method" => "#meta+method",
        "direction_deg" => "#geo+bearing+deg",
        "distance_min_m" => "#geo+distance+min+m",
        "distance_max_m" => "#geo+distance+max+m",
        "event_count" => "#indicator+num+events",
        "count_approx" => "#meta+approx",
        "weapon" => "#event+weapon",
        "initiator" => "#group+initiator",
        "target" => "#group+target",
        "killed" => "#affected+killed",
        "injured" => "#affected+injured",
        "severity" => "#severity",
        "narrative" => "#description",
        "tags" => "#meta+tags",
        "revision" => "#meta+revision",
        "recorded_at" => "#date+reported",
        "recorded_at_utc" => "#date+reported+utc",
        "device_id" => "#meta+device",
        "observer" => "#contact+name",
        "status" => "#status+verification",
        "area_code" => "#loc+area+code",
        "area" => "#loc+area+name",
        "after_revocation" => "#meta+revoked",
        _ => "",
    }
}

/// A UTC time in RFC 3339 with `Z`, to the second (the JSON convention).
fn utc_text(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The form of a `_utc` value spreadsheets read as a date-time: `2026-11-24 18:30:00`.
fn spreadsheet_time(rfc3339_utc: &str) -> String {
    rfc3339_utc.trim_end_matches('Z').replacen('T', " ", 1)
}

/// One row as named values, full or public.
///
/// Public: [`PUBLIC_COLUMNS`] only; the id replaced by an opaque one; times to the hour, in
/// UTC (`Z`: an offset would name the team's time zone); coordinates snapped to the grid;
/// [`PUBLIC_FREE_TEXT`] empty and [`PUBLIC_PARTY_COLUMNS`] empty unless a profile party code,
/// both unless the record is tagged [`PUBLIC_NARRATIVE_TAG`].
pub fn row_values(
    row: &QueueRow,
    areas: &[Area],
    parties: &[Code],
    public: Option<&PublicOptions>,
) -> Map<String, Value> {
    let mut map = match serde_json::to_value(&row.revision) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let o = &row.revision.observation;
    map.insert("status".into(), json!(row.status.code()));
    map.insert("after_revocation".into(), json!(row.after_revocation));
    let area = area_of(areas, o.lat, o.lon, o.place.as_deref());
    map.insert("area_code".into(), json!(area.map(|a| a.code.clone())));
    map.insert("area".into(), json!(area.map(|a| a.label.clone())));
    map.insert("observed_at_utc".into(), json!(utc_text(o.observed_at)));
    map.insert(
        "observed_until_utc".into(),
        json!(o.observed_until.map(utc_text)),
    );
    map.insert(
        "recorded_at_utc".into(),
        json!(utc_text(row.revision.recorded_at)),
    );
    let Some(options) = public else {
        return map;
    };
    map.insert("id".into(), json!(public_id(&o.id.to_string())));
    map.insert("observed_at".into(), json!(public_time(o.observed_at)));
    map.insert(
        "observed_until".into(),
        json!(o.observed_until.map(public_time)),
    );
    map.insert("observed_at_utc".into(), json!(public_time(o.observed_at)));
    map.insert(
        "observed_until_utc".into(),
        json!(o.observed_until.map(public_time)),
    );
    map.insert(
        "lat".into(),
        json!(o.lat.map(|v| snap(v, options.grid_deg))),
    );
    map.insert(
        "lon".into(),
        json!(o.lon.map(|v| snap(v, options.grid_deg))),
    );
    if !o.tags.iter().any(|t| t == PUBLIC_NARRATIVE_TAG) {
        for column in PUBLIC_FREE_TEXT {
            // The narrative is text, never absent; place and weapon are optional.
            let dropped = if column == "narrative" {
                json!("")
            } else {
                Value::Null
            };
            map.insert(column.into(), dropped);
        }
        for (column, value) in PUBLIC_PARTY_COLUMNS
            .into_iter()
            .zip([&o.initiator, &o.target])
        {
            let coded = value
                .as_deref()
                .is_some_and(|v| v == "unknown" || parties.iter().any(|p| p.code == v));
            if !coded {
                map.insert(column.into(), Value::Null);
            }
        }
    }
    let keep = public_columns();
    map.retain(|k, _| keep.contains(&k.as_str()));
    map
}

/// A public time: to the hour, in UTC, written with `Z`.
fn public_time(t: DateTime<FixedOffset>) -> String {
    to_the_hour(t.with_timezone(&Utc).fixed_offset()).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A stable public id that does not reveal the record id (whose UUID v7 holds the exact time).
fn public_id(id: &str) -> String {
    let digest = Sha256::digest(format!("truce-public-id\n{id}").as_bytes());
    hex::encode(&digest[..8])
}

fn to_the_hour(t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    t.with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

/// The centre of the grid cell holding `v`, rounded to 6 decimals.
fn snap(v: f64, grid: f64) -> f64 {
    let centre = ((v / grid).floor() + 0.5) * grid;
    (centre * 1e6).round() / 1e6
}

/// A value as a cell. `spreadsheet`: text that would run as a formula is defused (CSV); HXL
/// is a machine format and keeps every value as it is.
fn cell_text(column: &str, value: &Value, spreadsheet: bool) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(s) if column.ends_with("_utc") => return spreadsheet_time(s),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(";"),
        other => return other.to_string(),
    };
    if spreadsheet {
        defuse(&text)
    } else {
        text
    }
}

/// Text starting with `=`, `+`, `-` or `@` would run as a formula in a spreadsheet; a leading
/// apostrophe keeps it text. Numbers are written as numbers and never pass through here.
fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Streams rows out in one format.
pub struct DataWriter<W: Write> {
    format: DataFormat,
    columns: Vec<&'static str>,
    csv: Option<csv::Writer<W>>,
    raw: Option<W>,
    rows: u64,
}

impl<W: Write> DataWriter<W> {
    /// Writes the header (and hashtag row, or GeoJSON opening).
    pub fn new(mut out: W, format: DataFormat, public: bool) -> std::io::Result<Self> {
        let columns: Vec<&'static str> = if public {
            public_columns()
        } else {
            self::columns()
        };
        match format {
            DataFormat::Csv | DataFormat::Hxl => {
                // The byte-order mark tells spreadsheets the CSV is UTF-8; HXL is for machines,
                // which would read it as part of the first header.
                if format == DataFormat::Csv {
                    out.write_all("\u{feff}".as_bytes())?;
                }
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(&columns).map_err(csv_io)?;
                if format == DataFormat::Hxl {
                    csv.write_record(columns.iter().map(|c| hxl_tag(c)))
                        .map_err(csv_io)?;
                }
                Ok(DataWriter {
                    format,
                    columns,
                    csv: Some(csv),
                    raw: None,
                    rows: 0,
                })
            }
            DataFormat::GeoJson => {
                out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
                Ok(DataWriter {
                    format,
                    columns,
                    csv: None,
                    raw: Some(out),
                    rows: 0,
                })
            }
        }
    }

    /// Writes one row.
    pub fn row(&mut self, values: &Map<String, Value>) -> std::io::Result<()> {
        if let Some(csv) = &mut self.csv {
            let spreadsheet = self.format == DataFormat::Csv;
            csv.write_record(self.columns.iter().map(|c| {
                values
                    .get(*c)
                    .map(|v| cell_text(c, v, spreadsheet))
                    .unwrap_or_default()
            }))
            .map_err(csv_io)?;
        } else if let Some(out) = &mut self.raw {
            let geometry = match (
                values.get("lon").and_then(Value::as_f64),
                values.get("lat").and_then(Value::as_f64),
            ) {
                (Some(lon), Some(lat)) => json!({"type": "Point", "coordinates": [lon, lat]}),
                _ => Value::Null,
            };
            let properties: Map<String, Value> = self
                .columns
                .iter()
                .filter(|c| !matches!(**c, "lat" | "lon"))
                .map(|c| {
                    (
                        (*c).to_owned(),
                        values.get(*c).cloned().unwrap_or(Value::Null),
                    )
                })
                .collect();
            if self.rows > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(
                &mut *out,
                &json!({"type": "Feature", "geometry": geometry, "properties": properties}),
            )?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Closes the document; returns the output and the number of rows.
    pub fn finish(self) -> std::io::Result<(W, u64)> {
        let rows = self.rows;
        match (self.format, self.csv, self.raw) {
            (_, Some(csv), _) => Ok((csv.into_inner().map_err(|e| e.into_error())?, rows)),
            (_, None, Some(mut out)) => {
                out.write_all(b"\n]}\n")?;
                Ok((out, rows))
            }
            _ => Err(std::io::Error::other("the writer was already closed")),
        }
    }
}

fn csv_io(e: csv::Error) -> std::io::Error {
    std::io::Error::other(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapping_and_hours() {
        assert_eq!(snap(48.1234, 0.05), 48.125);
        assert_eq!(snap(-0.01, 0.05), -0.025);
        let t = DateTime::parse_from_rfc3339("2026-11-24T05:37:12+03:00").expect("time");
        assert_eq!(to_the_hour(t).to_rfc3339(), "2026-11-24T05:00:00+03:00");
        assert_eq!(public_time(t), "2026-11-24T02:00:00Z");
        // A half-hour offset: to the hour in UTC, so the offset leaves no trace.
        let t = DateTime::parse_from_rfc3339("2026-11-24T05:10:00+05:30").expect("time");
        assert_eq!(public_time(t), "2026-11-23T23:00:00Z");
    }

    #[test]
    fn formulas_are_defused_and_ids_hidden() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("heavy shelling"), "heavy shelling");
        let a = public_id("01a20f85-14ac-7654-b291-d23b0e5bbb16");
        assert_eq!(a.len(), 16);
        assert!(!a.contains("01a20f85"));
        assert_eq!(a, public_id("01a20f85-14ac-7654-b291-d23b0e5bbb16"));
    }

    fn row(extra: Value) -> QueueRow {
        let mut record = json!({
            "id": "01a20f85-14ac-7654-b291-d23b0e5bbb16", "kind": "violation",
            "category": "shelling", "method": "seen", "lat": 48.51243, "lon": 37.54321,
            "observed_at": "2026-11-24T05:37:12+03:00", "observed_until": "2026-11-24T06:05:00+03:00",
            "place": "Roof of Ana's house at 48.5124N 37.5432E", "weapon": "82mm mortar from Ana's yard",
            "initiator": "Ana's neighbours", "target": "party_b",
            "narrative": "Ana saw it", "tags": ["night"],
        });
        if let (Value::Object(r), Value::Object(e)) = (&mut record, extra) {
            r.extend(e);
        }
        let observation: truce_sync::Observation =
            serde_json::from_value(record).expect("a record");
        QueueRow {
            revision: truce_sync::ObservationRevision {
                observation,
                revision: 1,
                recorded_at: DateTime::parse_from_rfc3339("2026-11-24T05:40:00+03:00")
                    .expect("time"),
                device_id: uuid::Uuid::nil(),
                observer: "Ana".into(),
            },
            status: truce_sync::verification::VerificationStatus::Verified,
            device_pending: false,
            after_revocation: false,
            id_also_used_by: Vec::new(),
        }
    }

    #[test]
    fn public_rows_drop_free_text_unless_tagged_public_and_write_utc() {
        let parties = [Code {
            code: "party_b".into(),
            label: "Party B".into(),
        }];
        let options = PublicOptions::default();
        let public = row_values(&row(json!({})), &[], &parties, Some(&options));
        for column in ["narrative", "place", "weapon", "initiator"] {
            let value = &public[column];
            assert!(
                value.is_null() || value == "",
                "{column} is dropped: {value}"
            );
        }
        assert_eq!(public["target"], "party_b", "a profile party code is kept");
        assert_eq!(public["observed_at"], "2026-11-24T02:00:00Z");
        assert_eq!(public["observed_until"], "2026-11-24T03:00:00Z");
        let text = Value::Object(public.clone()).to_string();
        for secret in ["Ana", "48.5124", "37.5432", "+03:00", "01a20f85"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let unknown = row_values(
            &row(json!({"initiator": "unknown"})),
            &[],
            &[],
            Some(&options),
        );
        assert_eq!(unknown["initiator"], "unknown");
        assert!(unknown["target"].is_null(), "no profile: not a party code");

        let tagged = row_values(&row(json!({"tags": ["public"]})), &[], &[], Some(&options));
        assert_eq!(tagged["place"], "Roof of Ana's house at 48.5124N 37.5432E");
        assert_eq!(tagged["weapon"], "82mm mortar from Ana's yard");
        assert_eq!(tagged["narrative"], "Ana saw it");
        assert_eq!(tagged["initiator"], "Ana's neighbours");
        assert_eq!(tagged["observed_at"], "2026-11-24T02:00:00Z");
        assert!(!tagged.contains_key("observer") && !tagged.contains_key("tags"));

        let full = row_values(&row(json!({})), &[], &parties, None);
        assert_eq!(full["place"], "Roof of Ana's house at 48.5124N 37.5432E");
        assert_eq!(full["observed_at"], "2026-11-24T05:37:12+03:00");
    }

    #[test]
    fn every_public_column_is_a_full_column() {
        let all = columns();
        assert_eq!(all.len(), 25 + EXTRA_COLUMNS.len() + UTC_COMPANIONS.len());
        for c in public_columns() {
            assert!(all.contains(&c), "{c}");
        }
        assert!(!PUBLIC_COLUMNS.contains(&"observer") && !PUBLIC_COLUMNS.contains(&"device_id"));
    }

    #[test]
    fn every_column_has_an_hxl_tag_from_the_core_dictionary() {
        // The HXL 1.1 core hashtags this export may use.
        const CORE: [&str; 9] = [
            "#meta",
            "#event",
            "#date",
            "#geo",
            "#loc",
            "#indicator",
            "#group",
            "#affected",
            "#contact",
        ];
        const ALSO: [&str; 3] = ["#severity", "#description", "#status"];
        for column in columns() {
            let tag = hxl_tag(column);
            let base = tag.split('+').next().unwrap_or("");
            assert!(
                CORE.contains(&base) || ALSO.contains(&base),
                "{column}: {tag:?} is not a core hashtag"
            );
        }
        let tags: Vec<&str> = columns().into_iter().map(hxl_tag).collect();
        let unique: std::collections::HashSet<&&str> = tags.iter().collect();
        assert_eq!(
            unique.len(),
            tags.len(),
            "two columns share a tag: {tags:?}"
        );
        assert!(!tags
            .iter()
            .any(|t| t.starts_with("#adm") || t.starts_with("#item")));
    }

    #[test]
    fn utc_companions_follow_their_columns_and_hxl_keeps_values_as_they_are() {
        let all = columns();
        for (column, utc) in UTC_COMPANIONS {
            let at = all.iter().position(|c| *c == column).expect(column);
            assert_eq!(all[at + 1], utc);
        }
        let values = row_values(
            &row(
                json!({"narrative": "=cmd|' /C calc'!A0", "observed_until": "2026-11-24T06:10:00+03:00"}),
            ),
            &[],
            &[],
            None,
        );
        assert_eq!(values["observed_at_utc"], "2026-11-24T02:37:12Z");
        assert_eq!(values["observed_until_utc"], "2026-11-24T03:10:00Z");
        let write = |format| {
            let mut w = DataWriter::new(Vec::new(), format, false).expect("writer");
            w.row(&values).expect("row");
            String::from_utf8(w.finish().expect("finish").0).expect("UTF-8")
        };
        let csv = write(DataFormat::Csv);
        assert!(csv.contains(",2026-11-24 02:37:12,"), "{csv}");
        assert!(csv.contains("'=cmd"), "CSV defuses formulas: {csv}");
        let hxl = write(DataFormat::Hxl);
        assert!(hxl.contains(",=cmd|"), "HXL keeps the value: {hxl}");
        assert!(hxl.contains("#date+occurred+utc"), "{hxl}");
        let geojson = write(DataFormat::GeoJson);
        assert!(
            geojson.contains("\"observed_at_utc\":\"2026-11-24T02:37:12Z\""),
            "{geojson}"
        );
    }
}
