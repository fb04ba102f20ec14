//! The plain types that truce-core's use cases take and return and that the store fills: what
//! a query asks for and what a row of the coordinator's queue holds. No SQL, no I/O.

use std::path::{Path, PathBuf};

use truce_sync::profile::MissionProfile;
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
    /// Its device was revoked, and this revision lies past the cut-off: flagged wherever it
    /// shows.
    pub after_revocation: bool,
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
    /// When its latest bundle was imported (by this coordinator; a stick read again moves it).
    pub last_bundle_at: Option<String>,
    /// When the latest bundle imported from it was made on the device (UTC, `Z`); `None` for
    /// bundles imported before Truce kept it.
    pub latest_bundle_created_at: Option<String>,
    /// When the newest record received from it was saved on the device (UTC, `Z`): how fresh
    /// what the coordinator knows of the team is.
    pub newest_entry_at: Option<String>,
    /// Entries held.
    pub entries: u64,
    /// Highest sequence number held.
    pub last_seq: u64,
    /// Missing ranges of its log.
    pub gaps: Vec<(u64, u64)>,
    /// When the coordinator accepted it; `None` while it is pending (its records count
    /// nowhere until then).
    pub accepted_at: Option<String>,
    /// Its revocation, if a coordinator revoked it: the cut-off seq, when and why.
    pub revoked: Option<(u64, String, String)>,
}

// ---- Exchange ----

/// Which entries to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportRange {
    /// What no bundle written so far carries: with [`Journal::export`], its lowest range (a
    /// bundle carries one contiguous range); [`Journal::export_pending`] writes them all.
    Pending,
    /// The whole log again.
    All,
    /// From one sequence number to another, inclusive.
    Seqs(u64, u64),
}

/// A written bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Where it is.
    pub path: PathBuf,
    /// Attachments it carries.
    pub attachments: usize,
    /// Attachments its records name that it leaves for a later bundle (text first).
    pub pending_attachments: usize,
    /// It re-sends entries already exported text-first, with their media.
    pub media_for_earlier: bool,
    /// First and last sequence numbers in it.
    pub first_seq: u64,
    /// Last sequence number in it.
    pub last_seq: u64,
    /// When it was made: its manifest's `created_at`.
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}

// ---- The way back ----

/// A receipt a coordinator wrote for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptWritten {
    /// Where it is.
    pub path: PathBuf,
    /// The device it answers.
    pub device_id: Uuid,
    /// Its observer.
    pub observer: String,
    /// The highest entry held of its log.
    pub held_through: u64,
    /// The ranges below it still missing.
    pub missing: Vec<(u64, u64)>,
}

/// What a device made of the files it was given: the receipts it applied, how many files
/// were not for it (bundles, others' receipts), and those it refused, each with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiptsRead {
    /// Receipts applied (or recognised as applied before), in order.
    pub applied: Vec<ReceiptApplied>,
    /// Files not addressed to this device, passed over without a word.
    pub passed_over: usize,
    /// Files addressed to this device, or not Truce files at all, that were refused.
    pub refused: Vec<ReceiptRefused>,
}

/// A receipt file a device refused: nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRefused {
    /// The file.
    pub file: PathBuf,
    /// Why, for people.
    pub reason: String,
}

/// What a device did with a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptApplied {
    /// The receipt file.
    pub file: PathBuf,
    /// The coordinator that signed it.
    pub coordinator: String,
    /// The highest entry it says the coordinator holds.
    pub held_through: u64,
    /// The ranges it says never arrived (the next export sends them again).
    pub missing: Vec<(u64, u64)>,
    /// Entries it confirmed that no receipt had confirmed before.
    pub newly_confirmed: u64,
    /// The sequence of the newer mission profile it brought and this device installed.
    pub profile_installed: Option<u64>,
    /// This very receipt was applied before: nothing changed.
    pub applied_already: bool,
}

/// A bundle file a regional office kept for HQ and wrote out now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedBundle {
    /// Where it was written.
    pub path: PathBuf,
    /// The device it is from.
    pub device_id: Uuid,
    /// The entries it holds.
    pub first_seq: u64,
    /// The last entry it holds.
    pub last_seq: u64,
}

/// What an enrolment request says of its device: what to compare with its observer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCheck {
    /// The device.
    pub device_id: Uuid,
    /// Its observer.
    pub observer: String,
    /// Its team.
    pub team: Option<String>,
    /// The fingerprint of its key, as `truce keys` shows it on the device.
    pub fingerprint: String,
}

/// What a purge after receipt removed from the device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Observations removed (every revision).
    pub observations: u64,
    /// Log entries whose record was emptied (their seq and hashes stay).
    pub entries: u64,
    /// Attachment files removed.
    pub attachments: u64,
}

/// Where one of this device's records stands on its way to the coordinators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Saved here; no bundle written carries its latest revision.
    NotExported,
    /// In a bundle; no coordinator's receipt confirms it yet.
    AwaitingConfirmation,
    /// A coordinator's receipt confirms every revision of it.
    Received,
}

/// What the device's log holds, by where it stands on the way to the coordinators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliverySummary {
    /// Entries in the device log.
    pub entries: u64,
    /// Entries confirmed by a coordinator's receipt.
    pub confirmed: u64,
    /// Entries exported and not confirmed.
    pub awaiting: u64,
    /// Entries not exported.
    pub not_exported: u64,
    /// Ranges a receipt reported missing that the next export sends again.
    pub owed_again: Vec<(u64, u64)>,
    /// Observations this device recorded and still holds that no receipt fully confirms.
    pub unconfirmed_records: u64,
    /// Observations removed from the device after their receipt.
    pub purged_records: u64,
    /// Receipts applied.
    pub receipts: u64,
    /// When the latest receipt was issued, and by whom.
    pub latest_receipt: Option<(String, String)>,
}

/// Whether an export carries the attachments its records name, or leaves them for later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttachmentMode {
    /// The files travel with their records (and media owed by text-first exports go too).
    #[default]
    WithFiles,
    /// Text first: the records now, their files named as pending, for a later export.
    TextFirst,
}

/// What the screens show of an attachment without opening it (`Journal::attachment_preview`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentPreview {
    /// The original's SHA-256, hex.
    pub sha256: String,
    /// Its media type ("" when not held).
    pub media_type: String,
    /// Whether this journal holds the file; `false`: attachment pending (sent text first).
    pub held: bool,
    /// A photo's size in pixels.
    pub pixels: Option<(u32, u32)>,
    /// A recording's or a video's length, in milliseconds, where known.
    pub duration_ms: Option<u64>,
    /// A photo's thumbnail (at most 320 px on its longer side).
    pub thumbnail: Option<Picture>,
    /// Why a photo has no thumbnail (HEIC, too large, undecodable).
    pub problem: Option<String>,
}

/// A photo on a camera's card taken near an observation's time ("From camera card").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPhoto {
    /// The file on the card.
    pub path: std::path::PathBuf,
    /// Its name.
    pub name: String,
    /// Its media type, from the content.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was taken.
    pub taken_at: chrono::DateTime<chrono::Utc>,
    /// `true` when that time is the camera's (EXIF), `false` when it is the file's.
    pub time_from_camera: bool,
    /// A thumbnail made in memory, when one could be.
    pub thumbnail: Option<Picture>,
}

/// Decoded pixels, RGBA8, row by row; held in memory only. `Debug` shows the size, never
/// the pixels.
#[derive(Clone, PartialEq, Eq)]
pub struct Picture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Picture({} × {})", self.width, self.height)
    }
}

/// An evidence package written (see `Journal::write_evidence_package`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidencePackage {
    /// The package's folder.
    pub folder: std::path::PathBuf,
    /// How many originals it holds.
    pub originals: usize,
    /// How many bundles' signed lines it holds.
    pub signed_bundles: usize,
    /// The originals (SHA-256, hex) whose naming entry's signature the package cannot show:
    /// their bundle was imported before Truce kept signed texts.
    pub without_signed_text: Vec<String>,
}

/// The outcome of one bundle's import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The bundle file.
    pub file: PathBuf,
    /// The sending device, when the bundle got that far.
    pub device_id: Option<Uuid>,
    /// Its key fingerprint, when known.
    pub fingerprint: Option<String>,
    /// The observer the bundle names, when the bundle got that far.
    pub observer: Option<String>,
    /// This bundle registered a device never seen before.
    pub new_device: bool,
    /// The device is not accepted yet: its records are held, marked, but count nowhere until
    /// the coordinator confirms its fingerprint (`truce devices accept`).
    pub device_pending: bool,
    /// This very bundle was imported before (its signature verified again, every entry held):
    /// nothing changed.
    pub held_already: bool,
    /// Entries added.
    pub new_entries: u64,
    /// Entries already held.
    pub known_entries: u64,
    /// Missing ranges of the device's log once this import is durable (as the commit that
    /// holds it leaves them: found once per device, not once per bundle).
    pub gaps: Vec<(u64, u64)>,
    /// Why the bundle was refused (quarantined); None when imported.
    pub refused: Option<String>,
    /// The file is another kind of Truce file (a receipt), passed over: not a bundle, not
    /// quarantined. Says which kind.
    pub passed_over: Option<String>,
    /// The bundle's id and range, once it got that far.
    pub bundle: Option<(String, u64, u64)>,
}

impl ImportReport {
    pub(crate) fn refused(file: &Path, device_id: Option<Uuid>, reason: String) -> Self {
        ImportReport {
            file: file.to_path_buf(),
            device_id,
            fingerprint: None,
            observer: None,
            new_device: false,
            device_pending: false,
            held_already: false,
            new_entries: 0,
            known_entries: 0,
            gaps: Vec::new(),
            refused: Some(reason),
            passed_over: None,
            bundle: None,
        }
    }

    pub(crate) fn passed_over(file: &Path, kind: String) -> Self {
        ImportReport {
            refused: None,
            passed_over: Some(kind),
            ..ImportReport::refused(file, None, String::new())
        }
    }
}

/// What `truce keys` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// The coordinator's age recipient (`age1...`), for coordinators.
    pub recipient: Option<String>,
    /// Fingerprint of the device's signing key.
    pub fingerprint: String,
    /// The device's public signing key, hex.
    pub device_key: String,
    /// Coordinators: the same signing key as a minisign public key file, which checks the
    /// signatures on what the mission publishes (`minisign -V -p FILE -m DATA`).
    pub publication_key: Option<String>,
    /// Coordinators: the recipients of the earlier identities kept (rotated away or imported),
    /// which still open what was sealed to them.
    pub earlier_recipients: Vec<String>,
}

/// What `truce keys --import-secret` restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretImport {
    /// The recipient of the identity that became the journal's own, when it had none.
    pub current: Option<String>,
    /// How many identities were kept as earlier ones.
    pub earlier_added: usize,
}

/// A mission profile checked before it is installed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileCheck {
    /// The profile.
    pub profile: MissionProfile,
    /// The fingerprint of the coordinator key that signed it.
    pub signer_fingerprint: String,
    /// No profile is installed yet: nothing vouches for this signer but the user's check.
    pub first_install: bool,
}

// ---- Coordination ----

/// Filters the store cannot apply, checked on each row as it streams by: the area (from the
/// mission profile's bounding boxes) and the party (the initiator).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueExtra {
    /// An area code of the mission profile; "" for observations outside every area.
    pub area: Option<String>,
    /// A party code (the initiator); "unknown" also matches observations without one.
    pub party: Option<String>,
}

/// One page of the incident queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePage {
    /// The rows, in the filter's order.
    pub rows: Vec<QueueRow>,
    /// Whether more rows match after this page.
    pub more: bool,
}

/// Why a suggested report is thought to be near.
#[derive(Debug, Clone, PartialEq)]
pub enum Nearness {
    /// Both have a position: the distance between them, in kilometres.
    Distance(f64),
    /// A position is missing; both are in this area of the mission profile (its label).
    Area(String),
}

/// A report that is likely the same event as the one open.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSuggestion {
    /// Its latest revision.
    pub revision: ObservationRevision,
    /// How near it is.
    pub nearness: Nearness,
    /// How far apart in time, in minutes (never negative).
    pub minutes_apart: i64,
}

/// What evaluating the alerts swept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertSweep {
    /// Where the sweep resumed (a checkpoint's time, Unix milliseconds); `None` when it swept
    /// from the start.
    pub resumed_from_ms: Option<i64>,
    /// How many observations it read.
    pub observations: u64,
}
