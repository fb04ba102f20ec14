//! truce-sync: what crosses Truce devices: the observation schema v1 and its validation, the
//! taxonomy, device identity, the device log's hash chain and merge rule, bundles, mission
//! profiles and verification statuses. Pure Rust: no SQLite, no Slint, no clock, no file system
//! (callers pass in "now", fresh ids and the bytes to read or write).

pub mod archive;
pub mod attachment;
pub mod bundle;
pub mod device;
pub mod enrolment;
pub mod log;
pub mod observation;
pub mod profile;
pub mod receipt;
mod sealed;
pub mod taxonomy;
pub mod text;
pub mod verification;

pub use device::{fingerprint, DeviceSigningKey, KeyLengthError, Role};
pub use observation::{
    parse_object, LocationSource, Method, NewObservationDefaults, Observation, ObservationKey,
    ObservationRevision, SchemaError, TimePrecision,
};
pub use taxonomy::Taxonomy;

/// The `format` and `version` of a Truce file, read leniently (every other field ignored) before
/// the strict parse, so that a file newer than this build is reported as needing a newer Truce
/// rather than as carrying unknown fields.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct FormatProbe {
    #[serde(default)]
    pub(crate) format: String,
    #[serde(default)]
    pub(crate) version: u32,
    /// Version 2 onwards: what the reader must understand.
    #[serde(default)]
    pub(crate) features: Vec<String>,
}
