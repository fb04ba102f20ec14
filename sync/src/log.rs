//! The device log: every saved revision as an entry with a per-device sequence number and the
//! hash of the previous entry, forming a tamper-evident chain; and the merge rules for it.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::observation::{Observation, ObservationRevision, SchemaError};
use crate::taxonomy::Taxonomy;

/// A SHA-256 hash, shown as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryHash(pub [u8; 32]);

impl EntryHash {
    /// The `prev_hash` of a device's first entry.
    pub const GENESIS: EntryHash = EntryHash([0u8; 32]);

    /// The hash as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<EntryHash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(EntryHash(out))
    }
}

impl std::fmt::Debug for EntryHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EntryHash({})", self.to_hex())
    }
}

impl Serialize for EntryHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut digits = [0u8; 64];
        hex::encode_to_slice(self.0, &mut digits).map_err(serde::ser::Error::custom)?;
        s.serialize_str(std::str::from_utf8(&digits).map_err(serde::ser::Error::custom)?)
    }
}

impl<'de> Deserialize<'de> for EntryHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <&str>::deserialize(d)?;
        EntryHash::from_hex(text).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// One entry of a device log. `record` is kept as the exact JSON bytes that were hashed, so the
/// chain verifies the same on every machine and across versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// 1, 2, 3, ... per device, with no gaps on the device.
    pub seq: u64,
    /// Hash of the entry before (`GENESIS` for seq 1).
    pub prev_hash: EntryHash,
    /// Hash of this entry: see [`entry_hash`].
    pub hash: EntryHash,
    /// The revision, as flat JSON (schema v1 plus `revision`, `recorded_at`, `device_id`, `observer`).
    pub record: Box<RawValue>,
}

/// The hash of an entry: SHA-256 of `"truce-entry-v1\n" seq "\n" prev_hash_hex "\n" record_json`.
pub fn entry_hash(seq: u64, prev_hash: &EntryHash, record_json: &str) -> EntryHash {
    entry_hash_of_bytes(seq, prev_hash, record_json.as_bytes())
}

/// [`entry_hash`] of a record held as bytes (the bundle writer hashes each record where it
/// sits in the line it serialized).
pub(crate) fn entry_hash_of_bytes(
    seq: u64,
    prev_hash: &EntryHash,
    record_json: &[u8],
) -> EntryHash {
    let mut h = Sha256::new();
    h.update(b"truce-entry-v1\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    let mut prev_hex = [0u8; 64];
    hex::encode_to_slice(prev_hash.0, &mut prev_hex)
        .expect("32 bytes are always 64 hex digits: a constant length, not input");
    h.update(prev_hex);
    h.update(b"\n");
    h.update(record_json);
    EntryHash(h.finalize().into())
}

/// Why an entry or record was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The record JSON is not valid JSON text.
    #[error("the record is not valid JSON: {0}")]
    Json(String),
    /// The stored hash does not match the content.
    #[error("entry {0}: its hash does not match its content (altered)")]
    HashMismatch(u64),
    /// The record breaks schema v1.
    #[error("entry {seq}: {error}")]
    Schema {
        /// The entry.
        seq: u64,
        /// What is wrong.
        error: SchemaError,
    },
    /// The record names another device than the log it is in.
    #[error("entry {0}: the record names another device than the one that signed it")]
    ForeignDevice(u64),
}

impl LogEntry {
    /// A new entry for `record_json`, chained after `prev_hash`.
    pub fn new(
        seq: u64,
        prev_hash: EntryHash,
        record_json: String,
    ) -> Result<LogEntry, EntryError> {
        let record =
            RawValue::from_string(record_json).map_err(|e| EntryError::Json(e.to_string()))?;
        let hash = entry_hash(seq, &prev_hash, record.get());
        Ok(LogEntry {
            seq,
            prev_hash,
            hash,
            record,
        })
    }

    /// An entry as stored, with the hash it was stored with; check it with
    /// [`LogEntry::hash_is_valid`] (the bundle writer does, for every entry it writes).
    pub fn stored(
        seq: u64,
        prev_hash: EntryHash,
        hash: EntryHash,
        record_json: String,
    ) -> Result<LogEntry, EntryError> {
        let record =
            RawValue::from_string(record_json).map_err(|e| EntryError::Json(e.to_string()))?;
        Ok(LogEntry {
            seq,
            prev_hash,
            hash,
            record,
        })
    }

    /// Whether `hash` matches the content.
    pub fn hash_is_valid(&self) -> bool {
        entry_hash(self.seq, &self.prev_hash, self.record.get()) == self.hash
    }
}

/// An entry as a journal holds it, its record borrowed and not parsed. The hash covers the
/// record's bytes, so whoever takes one checks the hash ([`StoredEntry::hash_is_valid`]; the
/// bundle writer checks every entry it writes): a record that matches its hash is the JSON
/// that was hashed, and validated, when the entry was made ([`LogEntry::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredEntry<'a> {
    /// Its place in the device's log.
    pub seq: u64,
    /// Hash of the entry before.
    pub prev_hash: EntryHash,
    /// Hash of this entry, as stored.
    pub hash: EntryHash,
    /// The record JSON, as stored.
    pub record: &'a str,
}

impl StoredEntry<'_> {
    /// Whether `hash` matches the content.
    pub fn hash_is_valid(&self) -> bool {
        entry_hash(self.seq, &self.prev_hash, self.record) == self.hash
    }
}

impl<'a> From<&'a LogEntry> for StoredEntry<'a> {
    fn from(entry: &'a LogEntry) -> Self {
        StoredEntry {
            seq: entry.seq,
            prev_hash: entry.prev_hash,
            hash: entry.hash,
            record: entry.record.get(),
        }
    }
}

/// Serializes a revision as the record JSON carried in log entries.
pub fn record_json(revision: &ObservationRevision) -> String {
    // Serializing plain data structures to a String cannot fail.
    serde_json::to_string(revision).unwrap_or_default()
}

/// A record parsed and validated: the revision, and its observation as schema v1 JSON (the
/// `body` a journal stores).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRecord {
    /// The revision the record carries.
    pub revision: ObservationRevision,
    /// The observation's JSON, without the device metadata.
    pub body: String,
}

/// The highest sequence number a device log may reach: 2^53 - 1, the largest integer every
/// JSON reader holds exactly, and far below what SQLite's 64-bit integers and `seq + 1` can
/// hold. A device saving one entry a second would need 285 million years.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// The highest revision number a record may carry: a million amendments of one observation.
pub const MAX_REVISION: u32 = 1_000_000;

/// Parses and validates a record (schema v1 plus device metadata) against `taxonomy`.
///
/// Records as Truce writes them ([`record_json`]: the observation's fields, then `revision`,
/// `recorded_at`, `device_id` and `observer`) are parsed in one pass straight into the typed
/// observation, and the observation's own bytes become the body. Anything else (other field
/// order, spacing, an unknown field) takes the general path, which names the field at fault.
pub fn parse_record(seq: u64, raw: &str, taxonomy: &Taxonomy) -> Result<ParsedRecord, EntryError> {
    match split_record(raw) {
        Some((observation, meta, body)) => checked_record(seq, observation, meta, body, taxonomy),
        None => parse_record_general(seq, raw, taxonomy),
    }
}

/// The general path of [`parse_record`] alone: any layout, errors that name the field at
/// fault. Public for the differential fuzz target (fuzz/), which checks that whatever the
/// one-pass parse accepts, this accepts with the same revision.
#[doc(hidden)]
pub fn parse_record_general(
    seq: u64,
    raw: &str,
    taxonomy: &Taxonomy,
) -> Result<ParsedRecord, EntryError> {
    let schema = |error| EntryError::Schema { seq, error };
    let (observation, meta) = parse_record_slowly(raw).map_err(schema)?;
    let body = serde_json::to_string(&observation)
        .map_err(|e| schema(SchemaError::Json(e.to_string())))?;
    checked_record(seq, observation, meta, body, taxonomy)
}

/// Validates a parsed record, whichever path parsed it.
fn checked_record(
    seq: u64,
    observation: Observation,
    meta: Metadata,
    body: String,
    taxonomy: &Taxonomy,
) -> Result<ParsedRecord, EntryError> {
    let schema = |error| EntryError::Schema { seq, error };
    observation.validate(taxonomy).map_err(schema)?;
    if meta.revision == 0 || meta.revision > MAX_REVISION {
        return Err(schema(SchemaError::invalid(
            "revision",
            "must be between 1 and 1,000,000",
        )));
    }
    if meta.observer.chars().count() > 100 {
        return Err(schema(SchemaError::invalid(
            "observer",
            "is longer than 100 characters",
        )));
    }
    if let Some(c) = crate::text::line_control(&meta.observer) {
        return Err(schema(SchemaError::invalid(
            "observer",
            crate::text::line_control_message(c),
        )));
    }
    Ok(ParsedRecord {
        revision: ObservationRevision {
            observation,
            revision: meta.revision,
            recorded_at: meta.recorded_at,
            device_id: meta.device_id,
            observer: meta.observer,
        },
        body,
    })
}

/// The one-pass parse of a record laid out as [`record_json`] writes it: the observation object
/// up to `,"revision":`, then the metadata. `None` when the record is laid out otherwise or
/// either part fails to parse; the general path then decides, with a precise error.
fn split_record(raw: &str) -> Option<(Observation, Metadata, String)> {
    // Inside a JSON string a quote is escaped, so this sequence only occurs between fields.
    let at = raw.rfind(",\"revision\":")?;
    let mut body = String::with_capacity(at + 1);
    body.push_str(&raw[..at]);
    body.push('}');
    let meta_json = format!("{{{}", &raw[at + 1..]);
    let meta: Metadata = serde_json::from_str(&meta_json).ok()?;
    let observation: Observation = serde_json::from_str(&body).ok()?;
    Some((observation, meta, body))
}

/// The general parse: any field order and spacing; errors name the field at fault.
fn parse_record_slowly(raw: &str) -> Result<(Observation, Metadata), SchemaError> {
    let mut map: Map<String, Value> = crate::observation::parse_object(raw)?;
    let mut take = |field: &str| map.remove(field).ok_or_else(|| SchemaError::missing(field));
    let revision = take("revision")?;
    let recorded_at = take("recorded_at")?;
    let device_id = take("device_id")?;
    let observer = take("observer")?;
    let meta: Metadata = serde_path_to_error::deserialize(serde_json::json!({
        "revision": revision, "recorded_at": recorded_at, "device_id": device_id, "observer": observer,
    }))
    .map_err(|e| SchemaError::invalid(&e.path().to_string(), e.inner().to_string()))?;
    let observation = Observation::from_object(map)?;
    Ok((observation, meta))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    revision: u32,
    recorded_at: chrono::DateTime<chrono::FixedOffset>,
    device_id: uuid::Uuid,
    observer: String,
}

/// What the coordinator already holds around one incoming entry of a device's log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Neighbours {
    /// Hash stored at the same seq, if any.
    pub same: Option<EntryHash>,
    /// Hash stored at seq - 1, if any.
    pub before: Option<EntryHash>,
    /// `prev_hash` stored at seq + 1, if any.
    pub after_prev: Option<EntryHash>,
}

/// What a coordinator holds of one stretch of a device's log, `start..start + len`: read once
/// for a batch of incoming entries instead of once per entry, and kept up to date as the batch
/// is merged, so that each entry's [`Neighbours`] are as a look-up per entry would find them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldStretch {
    start: u64,
    /// `(prev_hash, hash)` of each seq from `start`, if held.
    held: Vec<Option<(EntryHash, EntryHash)>>,
}

impl HeldStretch {
    /// A stretch of `len` entries from `start`, none of them held yet.
    pub fn new(start: u64, len: usize) -> HeldStretch {
        HeldStretch {
            start,
            held: vec![None; len],
        }
    }

    /// Notes that entry `seq` is held with `prev_hash` and `hash`; outside the stretch, nothing.
    pub fn hold(&mut self, seq: u64, prev_hash: EntryHash, hash: EntryHash) {
        if let Some(slot) = self.slot(seq) {
            self.held[slot] = Some((prev_hash, hash));
        }
    }

    fn slot(&self, seq: u64) -> Option<usize> {
        let slot = usize::try_from(seq.checked_sub(self.start)?).ok()?;
        (slot < self.held.len()).then_some(slot)
    }

    fn at(&self, seq: Option<u64>) -> Option<(EntryHash, EntryHash)> {
        self.held[self.slot(seq?)?]
    }

    /// What is held around `seq`, as far as the stretch reaches.
    pub fn neighbours(&self, seq: u64) -> Neighbours {
        Neighbours {
            same: self.at(Some(seq)).map(|(_, hash)| hash),
            before: self.at(seq.checked_sub(1)).map(|(_, hash)| hash),
            after_prev: self.at(seq.checked_add(1)).map(|(prev, _)| prev),
        }
    }
}

/// The merge decision for one incoming entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Not known yet and consistent with its neighbours: insert it.
    New,
    /// Already held, identical: nothing to do.
    Known,
    /// Contradicts what is held: the same seq with other content, or a broken chain.
    Conflict(&'static str),
}

/// The merge rule, as a pure function: insert-or-ignore on (device, seq), and refuse anything
/// that contradicts the chain already held.
pub fn merge(entry_prev: EntryHash, entry_hash: EntryHash, seq: u64, held: Neighbours) -> Merge {
    if let Some(same) = held.same {
        return if same == entry_hash {
            Merge::Known
        } else {
            Merge::Conflict("the same sequence number with different content")
        };
    }
    if seq == 1 && entry_prev != EntryHash::GENESIS {
        return Merge::Conflict("the first entry does not start the chain");
    }
    if let Some(before) = held.before {
        if before != entry_prev {
            return Merge::Conflict("it does not follow the entry before it");
        }
    }
    if let Some(after_prev) = held.after_prev {
        if after_prev != entry_hash {
            return Merge::Conflict("the entry after it does not follow it");
        }
    }
    Merge::New
}

/// Missing ranges in a sorted list of held sequence numbers, from 1 to the highest held.
pub fn gaps(held_sorted: impl IntoIterator<Item = u64>) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut expected = 1u64;
    for seq in held_sorted {
        if seq > expected {
            out.push((expected, seq - 1));
        }
        expected = expected.max(seq + 1);
    }
    out
}

/// Missing ranges of a device's log when what is held is known as ranges `(first, last)` (the
/// bundles imported), in any order and overlapping: the same answer as [`gaps`] over every
/// sequence number in them.
pub fn gaps_in_ranges(ranges: impl IntoIterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut ranges: Vec<(u64, u64)> = ranges.into_iter().filter(|(a, b)| a <= b).collect();
    ranges.sort_unstable();
    let mut out = Vec::new();
    let mut expected = 1u64;
    for (first, last) in ranges {
        if first > expected {
            out.push((expected, first - 1));
        }
        expected = expected.max(last.saturating_add(1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> EntryHash {
        EntryHash([b; 32])
    }

    #[test]
    fn a_held_stretch_gives_the_neighbours_of_each_seq_it_covers() {
        let h = |b: u8| EntryHash([b; 32]);
        let mut stretch = HeldStretch::new(4, 5); // 4..=8
        stretch.hold(4, h(3), h(4));
        stretch.hold(6, h(5), h(6));
        stretch.hold(3, h(2), h(3)); // before the stretch: not kept
        stretch.hold(9, h(8), h(9)); // after it: not kept
        assert_eq!(
            stretch.neighbours(5),
            Neighbours {
                same: None,
                before: Some(h(4)),
                after_prev: Some(h(5)),
            }
        );
        assert_eq!(stretch.neighbours(6).same, Some(h(6)));
        assert_eq!(stretch.neighbours(4).before, None, "seq 3 is outside");
        assert_eq!(stretch.neighbours(8), Neighbours::default());
        assert_eq!(stretch.neighbours(100), Neighbours::default());
        assert_eq!(stretch.neighbours(0), Neighbours::default());
        stretch.hold(5, h(4), h(5));
        assert_eq!(stretch.neighbours(5).same, Some(h(5)));
        assert_eq!(
            HeldStretch::new(u64::MAX - 1, 2).neighbours(u64::MAX),
            Neighbours::default()
        );
    }

    #[test]
    fn merge_rules() {
        let cases = [
            (Neighbours::default(), 5, h(1), h(2), Merge::New),
            (
                Neighbours {
                    same: Some(h(2)),
                    ..Default::default()
                },
                5,
                h(1),
                h(2),
                Merge::Known,
            ),
            (
                Neighbours {
                    same: Some(h(3)),
                    ..Default::default()
                },
                5,
                h(1),
                h(2),
                Merge::Conflict("the same sequence number with different content"),
            ),
            (
                Neighbours {
                    before: Some(h(1)),
                    ..Default::default()
                },
                5,
                h(1),
                h(2),
                Merge::New,
            ),
            (
                Neighbours {
                    before: Some(h(9)),
                    ..Default::default()
                },
                5,
                h(1),
                h(2),
                Merge::Conflict("it does not follow the entry before it"),
            ),
            (
                Neighbours {
                    after_prev: Some(h(2)),
                    ..Default::default()
                },
                5,
                h(1),
                h(2),
                Merge::New,
            ),
            (
                Neighbours {
                    after_prev: Some(h(7)),
                    ..Default::default()
                },
                5,
                h(1),
                h(2),
                Merge::Conflict("the entry after it does not follow it"),
            ),
            (
                Neighbours::default(),
                1,
                h(1),
                h(2),
                Merge::Conflict("the first entry does not start the chain"),
            ),
            (
                Neighbours::default(),
                1,
                EntryHash::GENESIS,
                h(2),
                Merge::New,
            ),
        ];
        for (held, seq, prev, hash, expected) in cases {
            assert_eq!(merge(prev, hash, seq, held), expected, "{held:?} seq {seq}");
        }
    }

    #[test]
    fn gaps_are_found() {
        assert_eq!(gaps([1, 2, 3]), vec![]);
        assert_eq!(gaps([2, 3]), vec![(1, 1)]);
        assert_eq!(gaps([1, 2, 41 - 1, 58]), vec![(3, 39), (41, 57)]);
        assert_eq!(gaps(Vec::<u64>::new()), vec![]);
    }

    fn revision() -> ObservationRevision {
        let map = serde_json::json!({
            "kind": "violation", "category": "shelling", "method": "heard",
            "lat": 48.5, "lon": 37.25, "narrative": "Shots, then \",\\\"revision\\\":\" in quotes",
            "tags": ["night"],
        });
        let map = map.as_object().cloned().expect("object");
        let defaults = crate::observation::NewObservationDefaults {
            id: uuid::Uuid::now_v7(),
            now: chrono::DateTime::parse_from_rfc3339("2026-11-24T21:00:00+02:00").expect("time"),
        };
        ObservationRevision {
            observation: Observation::from_new_json(map, defaults, &Taxonomy::builtin())
                .expect("valid"),
            revision: 2,
            recorded_at: defaults.now,
            device_id: uuid::Uuid::now_v7(),
            observer: "Ana".into(),
        }
    }

    #[test]
    fn records_parse_the_same_on_the_fast_and_the_general_path() {
        let taxonomy = Taxonomy::builtin();
        let rev = revision();
        let canonical = serde_json::to_string(&rev.observation).expect("ser");
        // As Truce writes it: the one-pass path, and the record's own bytes as the body.
        let written = record_json(&rev);
        assert!(split_record(&written).is_some(), "{written}");
        let fast = parse_record(1, &written, &taxonomy).expect("valid");
        assert_eq!(fast.revision, rev);
        assert_eq!(fast.body, canonical);
        // Spaced and reordered: the general path, the same revision and a canonical body.
        let value: Value = serde_json::from_str(&written).expect("json");
        let mut reordered = Map::new();
        reordered.insert("observer".into(), value["observer"].clone());
        for (k, v) in value.as_object().expect("object") {
            reordered.insert(k.clone(), v.clone());
        }
        let spaced = serde_json::to_string_pretty(&Value::Object(reordered)).expect("ser");
        assert!(split_record(&spaced).is_none());
        let general = parse_record(1, &spaced, &taxonomy).expect("valid");
        assert_eq!(general, fast);
    }

    #[test]
    fn an_observer_name_with_control_characters_is_refused_on_both_paths() {
        let taxonomy = Taxonomy::builtin();
        let mut rev = revision();
        rev.observer = "Ana\u{1b}[2K\u{1b}[1Aok".into();
        let written = record_json(&rev);
        let value: Value = serde_json::from_str(&written).expect("json");
        let spaced = serde_json::to_string_pretty(&value).expect("ser");
        for raw in [written, spaced] {
            let err = parse_record(4, &raw, &taxonomy).expect_err("refused");
            let text = err.to_string();
            assert!(
                text.contains("observer") && text.contains("U+001B"),
                "{text}"
            );
            assert!(
                !text.contains('\u{1b}'),
                "the reason quotes no raw escape: {text}"
            );
        }
    }

    /// The differential check of the `record_parse` fuzz target (fuzz/), on the layouts it is
    /// most likely to find: whatever `parse_record` accepts, the general path accepts with the
    /// same revision, and the body it keeps reads back as that observation.
    #[test]
    fn the_one_pass_parse_never_accepts_what_the_general_path_refuses() {
        let taxonomy = Taxonomy::builtin();
        let written = record_json(&revision());
        let cases = [
            written.clone(),
            written.replacen(r#""kind":"#, r#""revision":9,"kind":"#, 1),
            written.replacen(r#""kind":"#, r#""kind":"violation","kind":"#, 1),
            written.replacen(
                r#","observer":"Ana""#,
                r#","observer":"Ana","observer":"Eve""#,
                1,
            ),
            written.replacen(r#""lat":48.5"#, r#""lat":null"#, 1),
            written.replacen(r#""lat":48.5"#, r#""lat":4.85e1"#, 1),
            written.replacen(r#""revision":2"#, r#""revision":2.0"#, 1),
            written.replacen(
                r#""observer":"Ana""#,
                r#""observer":"Ana\",\"revision\":3""#,
                1,
            ),
            format!("{written} "),
            format!(" {written}"),
            written.replacen('{', "{ ", 1),
            written.replacen(r#""tags":["night"]"#, r#""tags":["night"],"tags":[]"#, 1),
        ];
        let mut accepted = 0;
        for raw in &cases {
            let either = parse_record(1, raw, &taxonomy);
            let general = parse_record_general(1, raw, &taxonomy);
            match (&either, &general) {
                (Ok(fast), Ok(general)) => {
                    accepted += 1;
                    assert_eq!(fast.revision, general.revision, "{raw}");
                    let body: Observation = serde_json::from_str(&fast.body).expect("reads back");
                    assert_eq!(body, fast.revision.observation, "{raw}");
                }
                (Err(_), Err(_)) => {}
                _ => panic!("the paths disagree on {raw}: {either:?} / {general:?}"),
            }
        }
        assert!(
            accepted >= 3,
            "the cases must include accepted records ({accepted})"
        );
    }

    #[test]
    fn records_with_unknown_or_bad_fields_are_refused_with_the_field_named() {
        let taxonomy = Taxonomy::builtin();
        let written = record_json(&revision());
        let cases = [
            (
                written.replacen(r#""kind":"#, r#""colour":"red","kind":"#, 1),
                "colour",
            ),
            (
                written.replacen(r#","observer":"#, r#","extra":1,"observer":"#, 1),
                "extra",
            ),
            (
                written.replacen(r#""revision":2"#, r#""revision":0"#, 1),
                "revision",
            ),
            (
                written.replacen(r#""lat":48.5"#, r#""lat":148.5"#, 1),
                "lat",
            ),
            (
                written.replacen(r#","device_id":"#, r#","device_id":"nope","x":"#, 1),
                "device_id",
            ),
        ];
        for (record, field) in cases {
            let error = parse_record(4, &record, &taxonomy)
                .expect_err(&record)
                .to_string();
            assert!(error.contains(field), "{error} should name {field}");
            assert!(error.starts_with("entry 4"), "{error}");
        }
    }

    #[test]
    fn gaps_from_ranges_match_gaps_from_every_seq() {
        let cases: [&[(u64, u64)]; 6] = [
            &[],
            &[(1, 10)],
            &[(3, 5), (9, 10), (12, 12)],
            &[(5, 9), (1, 3)],
            &[(1, 5), (3, 8), (8, 8), (10, 20), (11, 12)],
            &[(2, 2), (4, 4)],
        ];
        for ranges in cases {
            let mut seqs: Vec<u64> = ranges.iter().flat_map(|(a, b)| *a..=*b).collect();
            seqs.sort_unstable();
            seqs.dedup();
            assert_eq!(
                gaps_in_ranges(ranges.iter().copied()),
                gaps(seqs),
                "{ranges:?}"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the narrative, observer, place and tags hold (quotes, backslashes, the
            /// text `,"revision":` itself, any Unicode), the one-pass parse accepts what Truce
            /// writes and agrees with the general path, field for field and byte for byte.
            #[test]
            fn the_one_pass_parse_agrees_with_the_general_path(
                narrative in "(\\PC|\"|\\\\|,\"revision\":){0,40}",
                observer in "[^\\p{C}]{1,30}",
                place in proptest::option::of("(\\PC|\"){0,30}"),
                tags in proptest::collection::vec("[a-z_]{1,10}", 0..4),
                lat in -90.0f64..=90.0,
                lon in -180.0f64..=180.0,
                revision in 1u32..1000,
            ) {
                let mut rev = revision_with(narrative, observer, place, tags);
                rev.observation.lat = Some(lat);
                rev.observation.lon = Some(lon);
                rev.revision = revision;
                let written = record_json(&rev);
                let (fast_obs, fast_meta, fast_body) = split_record(&written).expect("one pass");
                let (slow_obs, slow_meta) = parse_record_slowly(&written).expect("general");
                prop_assert_eq!(&fast_obs, &slow_obs);
                prop_assert_eq!(&fast_obs, &rev.observation);
                prop_assert_eq!((fast_meta.revision, fast_meta.recorded_at, fast_meta.device_id, &fast_meta.observer),
                    (slow_meta.revision, slow_meta.recorded_at, slow_meta.device_id, &slow_meta.observer));
                prop_assert_eq!(fast_body, serde_json::to_string(&slow_obs).expect("ser"));
            }
        }
    }

    fn revision_with(
        narrative: String,
        observer: String,
        place: Option<String>,
        tags: Vec<String>,
    ) -> ObservationRevision {
        let mut rev = revision();
        rev.observation.narrative = narrative;
        rev.observation.place = place;
        rev.observation.tags = tags;
        rev.observer = observer;
        rev
    }

    #[test]
    fn hash_covers_every_part() {
        let e = LogEntry::new(3, h(1), r#"{"a":1}"#.into()).expect("json");
        assert!(e.hash_is_valid());
        let line = serde_json::to_string(&e).expect("ser");
        let back: LogEntry = serde_json::from_str(&line).expect("de");
        assert!(back.hash_is_valid());
        assert_eq!(back.record.get(), r#"{"a":1}"#);
        for tampered in [
            line.replace(r#""a":1"#, r#""a":2"#),
            line.replace(r#""seq":3"#, r#""seq":4"#),
            line.replacen(&h(1).to_hex(), &h(2).to_hex(), 1),
        ] {
            let t: LogEntry = serde_json::from_str(&tampered).expect("de");
            assert!(!t.hash_is_valid(), "{tampered}");
        }
    }
}
