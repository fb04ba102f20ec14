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
        s.serialize_str(&self.to_hex())
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
    let mut h = Sha256::new();
    h.update(b"truce-entry-v1\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(prev_hash.to_hex().as_bytes());
    h.update(b"\n");
    h.update(record_json.as_bytes());
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

    /// Whether `hash` matches the content.
    pub fn hash_is_valid(&self) -> bool {
        entry_hash(self.seq, &self.prev_hash, self.record.get()) == self.hash
    }
}

/// Serializes a revision as the record JSON carried in log entries.
pub fn record_json(revision: &ObservationRevision) -> String {
    // Serializing plain data structures to a String cannot fail.
    serde_json::to_string(revision).unwrap_or_default()
}

/// Parses and validates a record (schema v1 plus device metadata) against `taxonomy`.
pub fn parse_record(
    seq: u64,
    raw: &str,
    taxonomy: &Taxonomy,
) -> Result<ObservationRevision, EntryError> {
    let schema = |error| EntryError::Schema { seq, error };
    let mut map: Map<String, Value> = crate::observation::parse_object(raw).map_err(schema)?;
    let mut take = |field: &str| {
        map.remove(field)
            .ok_or_else(|| schema(SchemaError::missing(field)))
    };
    let revision = take("revision")?;
    let recorded_at = take("recorded_at")?;
    let device_id = take("device_id")?;
    let observer = take("observer")?;
    let meta: Metadata = serde_path_to_error::deserialize(serde_json::json!({
        "revision": revision, "recorded_at": recorded_at, "device_id": device_id, "observer": observer,
    }))
    .map_err(|e| schema(SchemaError::invalid(&e.path().to_string(), e.inner().to_string())))?;
    let observation = Observation::from_object(map).map_err(schema)?;
    observation.validate(taxonomy).map_err(schema)?;
    if meta.revision == 0 {
        return Err(schema(SchemaError::invalid(
            "revision",
            "must be 1 or more",
        )));
    }
    if meta.observer.chars().count() > 100 {
        return Err(schema(SchemaError::invalid(
            "observer",
            "is longer than 100 characters",
        )));
    }
    Ok(ObservationRevision {
        observation,
        revision: meta.revision,
        recorded_at: meta.recorded_at,
        device_id: meta.device_id,
        observer: meta.observer,
    })
}

#[derive(Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> EntryHash {
        EntryHash([b; 32])
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
