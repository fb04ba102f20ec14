//! The plain types that truce-core's use cases take and return and that the store fills: what
//! a query asks for and what a row of the coordinator's queue holds. No SQL, no I/O.

use truce_sync::verification::VerificationStatus;
use truce_sync::{ObservationRevision, Role};
use uuid::Uuid;

/// One step of an observation's verification trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationEvent {
    /// The status given.
    pub status: VerificationStatus,
    /// Why.
    pub note: String,
    /// Who gave it.
    pub by_observer: String,
    /// From which device.
    pub by_device: Uuid,
    /// When (RFC 3339).
    pub at: String,
}

/// Which observations a query covers. Empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservationFilter {
    /// Observed at or after (Unix milliseconds).
    pub from_ms: Option<i64>,
    /// Observed before (Unix milliseconds).
    pub to_ms: Option<i64>,
    /// Kind codes.
    pub kinds: Vec<String>,
    /// Category codes.
    pub categories: Vec<String>,
    /// Verification statuses.
    pub statuses: Vec<VerificationStatus>,
    /// The recording device.
    pub device: Option<Uuid>,
    /// Words that must appear in the narrative (case-insensitive).
    pub text: Option<String>,
    /// At most this many rows.
    pub limit: Option<u32>,
    /// The order of the rows (newest observation first by default).
    pub sort: SortOrder,
    /// Also the records of devices the coordinator has not accepted yet (the queue shows
    /// them, marked); reports, alerts and exports leave them out.
    pub include_pending_devices: bool,
}

/// How the incident queue is sorted. Ties keep the newest observation first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Newest observation first.
    #[default]
    NewestObserved,
    /// Oldest observation first.
    OldestObserved,
    /// Most recently saved (or amended) first.
    NewestRecorded,
    /// Highest severity first (unassessed last).
    Severity,
    /// By kind, then category.
    Kind,
}

/// An observation with its current verification status.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    /// The latest revision.
    pub revision: ObservationRevision,
    /// Its current status.
    pub status: VerificationStatus,
    /// Its device is not accepted yet: it does not count in reports, alerts or exports.
    pub device_pending: bool,
    /// Other devices that made an observation with the same id (each its own observation).
    pub id_also_used_by: Vec<Uuid>,
}

/// This journal's own device, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThisDevice {
    /// The device's UUID.
    pub device_id: Uuid,
    /// The observer's name.
    pub observer: String,
    /// The observer's team.
    pub team: Option<String>,
    /// Monitor or coordinator.
    pub role: Role,
    /// Fingerprint of the device's signing key.
    pub fingerprint: String,
    /// When the journal was created.
    pub created_at: String,
}

/// A device whose bundles a coordinator holds, as the device list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    /// The device.
    pub device_id: Uuid,
    /// The observer named in its first bundle.
    pub observer: String,
    /// Fingerprint of its signing key, to confirm with its observer.
    pub fingerprint: String,
    /// When its latest bundle was imported.
    pub last_bundle_at: Option<String>,
    /// Entries held.
    pub entries: u64,
    /// Highest sequence number held.
    pub last_seq: u64,
    /// Missing ranges of its log.
    pub gaps: Vec<(u64, u64)>,
    /// When the coordinator accepted it; `None` while it is pending (its records count
    /// nowhere until then).
    pub accepted_at: Option<String>,
}
