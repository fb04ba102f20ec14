//! Mission profiles: who the coordinators are (age recipients), the taxonomy, parties, areas,
//! severity ladder and alert rules; signed by the coordinator so devices can trust updates.

use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::bundle::parse_device_key;
use crate::device::DeviceSigningKey;
use crate::taxonomy::{Code, Taxonomy};

/// The `format` of a mission profile.
pub const FORMAT: &str = "truce-profile";
/// The newest profile format version this build reads and writes (see docs/formats-v2.md).
pub const VERSION: u32 = 2;
/// The `features` of a version-2 profile this build implements. A profile that lists another
/// one is refused with a request to update Truce: its meaning may not be ignored.
pub const KNOWN_FEATURES: &[&str] = &[
    FEATURE_TIME_ZONE,
    FEATURE_LIMITS,
    FEATURE_COORDINATORS,
    FEATURE_PURGE,
    FEATURE_REVOCATIONS,
    FEATURE_HANDOVER,
    FEATURE_ENROLMENT,
    FEATURE_HANDOVER_CHAIN,
];
/// The feature of the mission's enrolment policy (`enrolment`).
pub const FEATURE_ENROLMENT: &str = "enrolment";

/// Version 2, feature `enrolment`: whether only devices the coordinators enrolled count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentPolicy {
    /// When true, bundles from devices not enrolled are quarantined, not merged.
    pub required: bool,
}
/// The feature of a coordinator hand-over (`handover`): the signer names its successor.
pub const FEATURE_HANDOVER: &str = "handover";

/// Version 2, feature `handover`: in a profile signed by the current coordinator key, the key
/// that may sign the mission's profiles and receipts from `effective_sequence` on, and its age
/// recipients. Devices then accept the successor's profiles without reinstalling anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    /// The successor's Ed25519 key (64 hex digits).
    pub to_signing_key: String,
    /// The successor's age recipients; bundles are encrypted to them too.
    pub to_recipients: Vec<String>,
    /// The first profile sequence the successor signs.
    pub effective_sequence: u64,
}
/// The feature of the hand-overs that lead to this profile's signer (`handover_chain`).
pub const FEATURE_HANDOVER_CHAIN: &str = "handover_chain";
/// The most hand-overs a chain may hold.
pub const MAX_HANDOVER_CHAIN: usize = 16;
/// The largest hand-over a chain may hold, in bytes of base64 (no more than a whole profile).
pub const MAX_CHAIN_LINK_BYTES: usize = MAX_PROFILE_BYTES;

/// The signed hand-over profile a chain link holds: base64 of the file's exact bytes.
pub fn chain_link(signed_text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(signed_text)
}

/// Opens a chain link: base64 of a signed profile file, verified.
fn open_link(encoded: &str) -> Result<SignedProfile, ProfileError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| ProfileError::Format(format!("the hand-over is not base64 ({e})")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ProfileError::Format("the hand-over is not UTF-8 text".into()))?;
    SignedProfile::open(&text)
}

/// The feature of the devices the coordinators revoked (`revocations`).
pub const FEATURE_REVOCATIONS: &str = "revocations";
/// The feature of the mission's purge policy (`purge`): confirmed records leave the devices.
pub const FEATURE_PURGE: &str = "purge";
/// The longest purge delay a profile may set, in days.
pub const MAX_PURGE_DAYS: u32 = 3650;

/// Version 2, feature `purge`: devices remove the records the coordinators confirmed, this many
/// days after the receipt. A device setting may only shorten it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgePolicy {
    /// Days after the receipt that confirmed a record (0: at once).
    pub after_receipt_days: u32,
}
/// The feature of the coordinators listed with their roles and signing keys (`coordinators`):
/// who may sign receipts, and that the coordinators read receipts-era bundles.
pub const FEATURE_COORDINATORS: &str = "coordinators";
/// Most coordinators a profile lists.
pub const MAX_COORDINATORS: usize = 64;

/// Most revocations a profile or receipt lists.
pub const MAX_REVOCATIONS: usize = 10_000;

/// A device the coordinators cut off: its entries after `after_seq` are refused. A sequence
/// number, not a time: whoever holds the device's key can forge times, not what the
/// coordinators already hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// The device.
    pub device_id: uuid::Uuid,
    /// Its Ed25519 key (64 hex digits).
    pub device_key: String,
    /// The last of its entries that still counts.
    pub after_seq: u64,
    /// When a coordinator revoked it (for people).
    pub revoked_at: DateTime<FixedOffset>,
    /// Why, in the coordinator's words.
    pub reason: String,
}

/// The `format` of a coordinator card: a coordinator's public keys, handed to HQ so that its
/// profile lists them (`truce keys --card FILE`).
pub const CARD_FORMAT: &str = "truce-coordinator-card";

/// A coordinator's public keys and name, as `truce keys --card` writes them. Nothing secret;
/// HQ compares the fingerprint with the coordinator before listing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorCard {
    /// Always `truce-coordinator-card`.
    pub format: String,
    /// 1.
    pub version: u32,
    /// The coordinator's name (its office, or its person).
    pub name: String,
    /// Its Ed25519 key (64 hex digits).
    pub signing_key: String,
    /// Its age recipient.
    pub age_recipient: String,
}

impl CoordinatorCard {
    /// Reads and checks a card's text.
    pub fn parse(text: &str) -> Result<CoordinatorCard, ProfileError> {
        let probe: crate::FormatProbe =
            serde_json::from_str(text).map_err(|e| ProfileError::Format(e.to_string()))?;
        if probe.format != CARD_FORMAT {
            return Err(ProfileError::Format(format!(
                "it is not a coordinator card (`truce keys --card FILE` writes one), its format is `{}`",
                probe.format.chars().take(40).collect::<String>()
            )));
        }
        if probe.version > 1 {
            return Err(ProfileError::TooNew {
                found: probe.version,
                known: 1,
            });
        }
        let card: CoordinatorCard =
            serde_json::from_str(text).map_err(|e| ProfileError::Invalid(e.to_string()))?;
        if parse_device_key(&card.signing_key).is_none()
            || card
                .age_recipient
                .parse::<age::x25519::Recipient>()
                .is_err()
        {
            return Err(ProfileError::Invalid(
                "the card's signing key or age recipient is unreadable".into(),
            ));
        }
        if card.name.trim().is_empty() || card.name.chars().count() > 200 {
            return Err(ProfileError::Invalid(
                "the card's name must be 1 to 200 characters".into(),
            ));
        }
        Ok(card)
    }
}

/// A revocation's rules: a device key in hex, a cut-off in range, a reason of one line.
pub fn check_revocation(r: &Revocation) -> Result<(), String> {
    if parse_device_key(&r.device_key).is_none() {
        return Err(format!(
            "the revocation of device {} names a key that is not an Ed25519 key in hex",
            r.device_id
        ));
    }
    if r.after_seq > crate::log::MAX_SEQ {
        return Err(format!(
            "the revocation of device {} has a cut-off beyond {}",
            r.device_id,
            crate::log::MAX_SEQ
        ));
    }
    if r.reason.chars().count() > 500 {
        return Err(format!(
            "the revocation of device {} gives a reason over 500 characters",
            r.device_id
        ));
    }
    if let Some(c) = crate::text::line_control(&r.reason) {
        return Err(format!(
            "the revocation of device {}: its reason {}",
            r.device_id,
            crate::text::line_control_message(c)
        ));
    }
    Ok(())
}

/// What a coordinator is to the mission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CoordinatorRole {
    /// Headquarters: signs profiles and receipts for every device.
    Hq,
    /// A regional office: confirms for the devices of the areas it serves, forwards to HQ.
    Regional,
}

impl CoordinatorRole {
    /// The role as the profile writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CoordinatorRole::Hq => "hq",
            CoordinatorRole::Regional => "regional",
        }
    }
}

/// Version 2, feature `coordinators`: one coordinator of the mission, its keys and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coordinator {
    /// A short id unique in the profile (`hq`, `east`).
    pub id: String,
    /// Its name, for people.
    pub name: String,
    /// HQ or a regional office.
    pub role: CoordinatorRole,
    /// Its Ed25519 key (64 hex digits): what signs its receipts (and, for HQ, profiles).
    pub signing_key: String,
    /// Its age recipient: bundles and receipts are encrypted to it.
    pub age_recipient: String,
    /// The area codes it serves; empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serves: Vec<String>,
}
/// The feature of the mission's limits on attachments and bundles (`limits`).
pub const FEATURE_LIMITS: &str = "limits";
/// A bundle's size after which an export is split, unless the profile says otherwise: 2 GiB,
/// half of what FAT32 allows for one file.
pub const DEFAULT_BUNDLE_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The largest `bundle_max_bytes` a profile may set: FAT32's largest file.
pub const BUNDLE_MAX_BYTES_CEILING: u64 = 4 * 1024 * 1024 * 1024 - 1;
/// The smallest `bundle_max_bytes` a profile may set.
pub const BUNDLE_MAX_BYTES_FLOOR: u64 = 1024 * 1024;

/// Version 2, feature `limits`: what the mission allows of attachments, and the size after
/// which an export is cut into several bundles. Each field left out keeps Truce's default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileLimits {
    /// Largest attachment, in bytes (default and ceiling: 200 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_max_bytes: Option<u64>,
    /// Most attachments one observation names (default and ceiling: 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments_per_observation: Option<u32>,
    /// The media types devices may attach (default: every type Truce accepts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_media_types: Option<Vec<String>>,
    /// A bundle's size after which an export is split (default 2 GiB, at most 4 GiB - 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_max_bytes: Option<u64>,
}

impl ProfileLimits {
    /// The largest attachment allowed.
    pub fn attachment_max_bytes(&self) -> u64 {
        self.attachment_max_bytes
            .unwrap_or(crate::attachment::MAX_ATTACHMENT_BYTES)
    }

    /// The most attachments one observation may name.
    pub fn attachments_per_observation(&self) -> usize {
        self.attachments_per_observation
            .map_or(crate::attachment::MAX_ATTACHMENTS, |n| n as usize)
    }

    /// Whether devices may attach files of `media_type`.
    pub fn allows(&self, media_type: &str) -> bool {
        self.attachment_media_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == media_type))
    }

    /// The size after which an export is split.
    pub fn bundle_max_bytes(&self) -> u64 {
        self.bundle_max_bytes.unwrap_or(DEFAULT_BUNDLE_MAX_BYTES)
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(n) = self.attachment_max_bytes {
            if !(1..=crate::attachment::MAX_ATTACHMENT_BYTES).contains(&n) {
                return Err(format!(
                    "`limits.attachment_max_bytes` is {n}; it must be from 1 to {} (200 MiB)",
                    crate::attachment::MAX_ATTACHMENT_BYTES
                ));
            }
        }
        if let Some(n) = self.attachments_per_observation {
            if !(1..=crate::attachment::MAX_ATTACHMENTS as u32).contains(&n) {
                return Err(format!(
                    "`limits.attachments_per_observation` is {n}; it must be from 1 to {}",
                    crate::attachment::MAX_ATTACHMENTS
                ));
            }
        }
        if let Some(types) = &self.attachment_media_types {
            if let Some(t) = types
                .iter()
                .find(|t| !crate::attachment::MEDIA_TYPES.contains(&t.as_str()))
            {
                return Err(format!(
                    "`limits.attachment_media_types` names {t:?}, which Truce does not accept; use some of {}",
                    crate::attachment::MEDIA_TYPES.join(", ")
                ));
            }
        }
        if let Some(n) = self.bundle_max_bytes {
            if !(BUNDLE_MAX_BYTES_FLOOR..=BUNDLE_MAX_BYTES_CEILING).contains(&n) {
                return Err(format!(
                    "`limits.bundle_max_bytes` is {n}; it must be from {BUNDLE_MAX_BYTES_FLOOR} (1 MiB) to {BUNDLE_MAX_BYTES_CEILING} (FAT32's largest file)"
                ));
            }
        }
        Ok(())
    }
}
/// The feature of the mission's time zone and reporting day (`time_zone`,
/// `reporting_day_ends`).
pub const FEATURE_TIME_ZONE: &str = "time_zone";
/// The `format` of the signed envelope around it.
pub const SIGNED_FORMAT: &str = "truce-signed-profile";
/// Domain separation prefix of the signed message.
pub const SIGNATURE_CONTEXT: &[u8] = b"truce-profile-v1\n";
/// Largest profile file accepted.
pub const MAX_PROFILE_BYTES: usize = 1024 * 1024;

/// A named area of operations, optionally with a bounding box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Stable code.
    pub code: String,
    /// Name people see.
    pub label: String,
    /// `[min_lon, min_lat, max_lon, max_lat]` in WGS84 degrees.
    #[serde(default)]
    pub bbox: Option<[f64; 4]>,
}

/// The one rule that puts an observation in a mission area, used by every screen, report, alert
/// and export: with a position, the first area whose bounding box holds it (none if none
/// does); without one, the area whose code or name its `place` is (case-insensitive).
pub fn area_of<'a>(
    areas: &'a [Area],
    lat: Option<f64>,
    lon: Option<f64>,
    place: Option<&str>,
) -> Option<&'a Area> {
    if let (Some(lat), Some(lon)) = (lat, lon) {
        return areas.iter().find(|a| {
            a.bbox.is_some_and(|[min_lon, min_lat, max_lon, max_lat]| {
                (min_lon..=max_lon).contains(&lon) && (min_lat..=max_lat).contains(&lat)
            })
        });
    }
    let place = place?.trim().to_lowercase();
    if place.is_empty() {
        return None;
    }
    areas
        .iter()
        .find(|a| a.code.to_lowercase() == place || a.label.to_lowercase() == place)
}

/// An escalation rule: at least `threshold` matching observations within `window_hours` raise
/// an alert of `level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Human name of the rule.
    pub name: String,
    /// Kinds that count (empty: all).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Categories that count (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Area code the rule applies to per area (None: each area separately).
    #[serde(default)]
    pub area: Option<String>,
    /// Sliding window length.
    pub window_hours: u32,
    /// Observations needed to fire.
    pub threshold: u32,
    /// Level on the severity ladder.
    pub level: u8,
}

/// What a coordinator publishes to the mission's devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissionProfile {
    /// Always `truce-profile`.
    pub format: String,
    /// 1 or 2 (see docs/formats-v2.md); a coordinator writes 2.
    pub version: u32,
    /// Version 2: the sections a reader must understand (see [`KNOWN_FEATURES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// The mission's name.
    pub mission: String,
    /// Version 2: fixed when the mission is created; the name may change, the id may not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mission_id: Option<uuid::Uuid>,
    /// Version 2: one more with each profile the coordinators issue; an update must be higher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// When this profile was issued. Version 1: an update must be newer; version 2 orders
    /// profiles by `sequence` and keeps this for people.
    pub issued_at: DateTime<FixedOffset>,
    /// Version 2, feature `time_zone`: the mission's IANA time zone (`Europe/Kyiv`); reports,
    /// daily cut-offs and day filters follow it. Without it they are in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Version 2, feature `time_zone`: the local time at which the reporting day ends
    /// (`19:30`), the default daily cut-off of reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting_day_ends: Option<String>,
    /// Version 2, feature `limits`: attachment and bundle limits (see [`ProfileLimits`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ProfileLimits>,
    /// Version 2, feature `purge`: when devices remove confirmed records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge: Option<PurgePolicy>,
    /// Version 2, feature `enrolment`: whether devices must be enrolled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment: Option<EnrolmentPolicy>,
    /// Version 2, feature `handover`: the successor of this profile's signer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover: Option<Handover>,
    /// Version 2, feature `handover_chain`: the hand-over profiles that lead from an earlier
    /// signer of the mission to this profile's signer, oldest first, each the base64 of its
    /// signed file ([`chain_link`]), so a device that missed a hand-over can still follow it.
    /// A link may carry a chain of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handover_chain: Vec<String>,
    /// Version 2, feature `revocations`: the devices the coordinators cut off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revocations: Vec<Revocation>,
    /// Version 2, feature `coordinators`: the coordinators, their keys and roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coordinators: Vec<Coordinator>,
    /// The coordinators' age recipients (`age1...`); bundles are encrypted to all of them.
    pub recipients: Vec<String>,
    /// Kinds and categories.
    pub taxonomy: Taxonomy,
    /// Parties to the conflict (codes for `initiator` and `target`).
    #[serde(default)]
    pub parties: Vec<Code>,
    /// Areas of operations.
    #[serde(default)]
    pub areas: Vec<Area>,
    /// The severity ladder, 1 to 5.
    #[serde(default)]
    pub severity_ladder: Vec<Code>,
    /// Escalation alert rules.
    #[serde(default)]
    pub alert_rules: Vec<AlertRule>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    format: String,
    #[serde(borrow)]
    profile: &'a RawValue,
    signer_key: String,
    signature: String,
}

/// A profile whose signature verified.
#[derive(Debug, Clone)]
pub struct SignedProfile {
    /// The profile.
    pub profile: MissionProfile,
    /// The coordinator key that signed it.
    pub signer_key: VerifyingKey,
    /// The file's text, to store and pass on as is.
    pub text: String,
}

/// Why a profile was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Not a signed Truce profile.
    #[error("not a Truce mission profile: {0}")]
    Format(String),
    /// The signature does not verify.
    #[error(
        "the profile's signature is invalid: it was altered, or not signed by the key it names"
    )]
    Signature,
    /// The content breaks a rule.
    #[error("the profile is invalid: {0}")]
    Invalid(String),
    /// An update signed by another coordinator.
    #[error("this profile is signed by another coordinator key, one that neither signed the installed profile nor was named its successor by a hand-over; only those keys can update it")]
    OtherSigner,
    /// A profile of a format version this build does not read: Truce needs updating.
    #[error("this mission profile is format version {found}, and this Truce reads up to version {known}: update Truce to install it")]
    TooNew {
        /// The version the file declares.
        found: u32,
        /// The newest version this build reads.
        known: u32,
    },
    /// A version-2 profile that uses a feature this build does not implement.
    #[error("this mission profile uses “{0}”, which this Truce does not know: update Truce to install it")]
    UnknownFeature(String),
    /// An update for another mission (version 2 compares mission ids).
    #[error("this profile is for mission “{new}” ({new_id}), and the installed one for “{current}” ({current_id}); a device serves one mission: wipe it or use another data folder for the other mission")]
    OtherMission {
        /// The installed mission's name.
        current: String,
        /// Its id.
        current_id: String,
        /// The refused profile's mission name.
        new: String,
        /// Its id.
        new_id: String,
    },
    /// A hand-over in the profile's chain does not hold: forged, altered, or not reached
    /// from the installed profile.
    #[error("this profile's chain of hand-overs is broken ({0}); only the signer of the installed profile, or a successor it leads to through signed hand-overs, can update it")]
    BrokenChain(String),
    /// An update older than the installed profile.
    #[error("this profile ({new}) is not newer than the installed one ({current}); ask the coordinator for the latest")]
    Older {
        /// The installed profile's number and issue time.
        current: String,
        /// The refused one's.
        new: String,
    },
}

impl MissionProfile {
    /// A version-2 profile with the built-in taxonomy and a five-step severity ladder, the
    /// first of the mission `mission_id` (sequence 1) and without a time zone.
    pub fn new(
        mission: &str,
        mission_id: uuid::Uuid,
        issued_at: DateTime<FixedOffset>,
        recipients: Vec<String>,
    ) -> Self {
        let ladder = ["Minor", "Notable", "Serious", "Grave", "Critical"];
        MissionProfile {
            format: FORMAT.into(),
            version: VERSION,
            features: Vec::new(),
            mission: mission.trim().to_owned(),
            mission_id: Some(mission_id),
            sequence: Some(1),
            issued_at,
            time_zone: None,
            reporting_day_ends: None,
            limits: None,
            purge: None,
            enrolment: None,
            handover: None,
            handover_chain: Vec::new(),
            revocations: Vec::new(),
            coordinators: Vec::new(),
            recipients,
            taxonomy: Taxonomy::builtin(),
            parties: Vec::new(),
            areas: Vec::new(),
            severity_ladder: ladder
                .iter()
                .enumerate()
                .map(|(i, l)| Code {
                    code: (i + 1).to_string(),
                    label: (*l).into(),
                })
                .collect(),
            alert_rules: Vec::new(),
        }
    }

    /// Sets the mission's time zone and the end of its reporting day (`None`: neither), and
    /// the feature that says so.
    pub fn set_time_zone(&mut self, zone: Option<(String, Option<String>)>) {
        self.features.retain(|f| f != FEATURE_TIME_ZONE);
        self.time_zone = None;
        self.reporting_day_ends = None;
        if let Some((zone, day_ends)) = zone {
            self.features.push(FEATURE_TIME_ZONE.into());
            self.time_zone = Some(zone);
            self.reporting_day_ends = day_ends;
        }
    }

    /// Sets the mission's limits (`None`: Truce's defaults) and the feature that says so.
    pub fn set_limits(&mut self, limits: Option<ProfileLimits>) {
        self.features.retain(|f| f != FEATURE_LIMITS);
        self.limits = limits;
        if self.limits.is_some() {
            self.features.push(FEATURE_LIMITS.into());
        }
    }

    /// Sets the mission's purge policy (`None`: off) and the feature that says so.
    pub fn set_purge(&mut self, purge: Option<PurgePolicy>) {
        self.features.retain(|f| f != FEATURE_PURGE);
        self.purge = purge;
        if self.purge.is_some() {
            self.features.push(FEATURE_PURGE.into());
        }
    }

    /// Sets the enrolment policy (`None`: none) and the feature that says so.
    pub fn set_enrolment(&mut self, enrolment: Option<EnrolmentPolicy>) {
        self.features.retain(|f| f != FEATURE_ENROLMENT);
        self.enrolment = enrolment;
        if self.enrolment.is_some() {
            self.features.push(FEATURE_ENROLMENT.into());
        }
    }

    /// Whether the mission requires devices to be enrolled.
    pub fn enrolment_required(&self) -> bool {
        self.enrolment.is_some_and(|e| e.required)
    }

    /// Names the signer's successor (`None`: no hand-over) and the feature that says so; the
    /// successor's recipients join `recipients`.
    pub fn set_handover(&mut self, handover: Option<Handover>) {
        self.features.retain(|f| f != FEATURE_HANDOVER);
        if let Some(h) = &handover {
            for r in &h.to_recipients {
                if !self.recipients.contains(r) {
                    self.recipients.push(r.clone());
                }
            }
            self.features.push(FEATURE_HANDOVER.into());
        }
        self.handover = handover;
    }

    /// Carries the hand-overs that lead to this profile's signer (none: the feature goes too).
    pub fn set_handover_chain(&mut self, chain: Vec<String>) {
        self.features.retain(|f| f != FEATURE_HANDOVER_CHAIN);
        if !chain.is_empty() {
            self.features.push(FEATURE_HANDOVER_CHAIN.into());
        }
        self.handover_chain = chain;
    }

    /// The successor a hand-over in this profile names, parsed.
    pub fn successor(&self) -> Option<VerifyingKey> {
        self.handover
            .as_ref()
            .and_then(|h| parse_device_key(&h.to_signing_key))
    }

    /// Lists the devices revoked (none: the feature goes too).
    pub fn set_revocations(&mut self, revocations: Vec<Revocation>) {
        self.features.retain(|f| f != FEATURE_REVOCATIONS);
        self.revocations = revocations;
        if !self.revocations.is_empty() {
            self.features.push(FEATURE_REVOCATIONS.into());
        }
    }

    /// Lists the mission's coordinators (none: the feature goes too). Each one's age
    /// recipient joins `recipients`, which stays the union bundles are encrypted to.
    pub fn set_coordinators(&mut self, coordinators: Vec<Coordinator>) {
        self.features.retain(|f| f != FEATURE_COORDINATORS);
        for c in &coordinators {
            if !self.recipients.contains(&c.age_recipient) {
                self.recipients.push(c.age_recipient.clone());
            }
        }
        self.coordinators = coordinators;
        if !self.coordinators.is_empty() {
            self.features.push(FEATURE_COORDINATORS.into());
        }
    }

    /// Whether the profile lists its coordinators: then they read receipts-era bundles
    /// (version 2 with the device's recipient), and devices take receipts from them.
    pub fn lists_coordinators(&self) -> bool {
        !self.coordinators.is_empty()
    }

    /// The coordinator whose signing key is `key`, if the profile lists it.
    pub fn coordinator_with_key(&self, key: &VerifyingKey) -> Option<&Coordinator> {
        let hex_key = hex::encode(key.as_bytes());
        self.coordinators.iter().find(|c| c.signing_key == hex_key)
    }

    /// The mission's limits, Truce's defaults for what the profile does not set.
    pub fn effective_limits(&self) -> ProfileLimits {
        self.limits.clone().unwrap_or_default()
    }

    /// The mission's time zone, when the profile names one (validated on open).
    pub fn zone(&self) -> Option<chrono_tz::Tz> {
        self.time_zone.as_deref().and_then(|z| z.parse().ok())
    }

    /// The coordinators' recipients, parsed.
    pub fn age_recipients(&self) -> Result<Vec<age::x25519::Recipient>, ProfileError> {
        self.recipients
            .iter()
            .map(|r| {
                r.parse::<age::x25519::Recipient>().map_err(|e| {
                    ProfileError::Invalid(format!(
                        "recipient `{r}` is not an age X25519 recipient: {e}"
                    ))
                })
            })
            .collect()
    }

    /// Checks the rules a profile must follow.
    pub fn validate(&self) -> Result<(), ProfileError> {
        self.validate_structure()?;
        self.check_names()
    }

    /// The checks of [`MissionProfile::validate`] but those of names: what a profile a device
    /// installed before must still pass to be read (one installed by a build that allowed
    /// control characters in names keeps opening; nothing prints them raw).
    fn validate_structure(&self) -> Result<(), ProfileError> {
        let bad = |s: String| Err(ProfileError::Invalid(s));
        if self.format != FORMAT || !(1..=VERSION).contains(&self.version) {
            return bad(format!(
                "format `{}` version {} is not supported",
                self.format, self.version
            ));
        }
        self.validate_version_fields()?;
        if self.mission.trim().is_empty() || self.mission.chars().count() > 200 {
            return bad("the mission name must be 1 to 200 characters".into());
        }
        if self.recipients.is_empty() {
            return bad("it lists no coordinator recipients".into());
        }
        self.age_recipients()?;
        if self.taxonomy.kinds.is_empty() || self.taxonomy.categories.is_empty() {
            return bad("its taxonomy has no kinds or no categories".into());
        }
        for rule in &self.alert_rules {
            if rule.threshold == 0 || rule.window_hours == 0 {
                return bad(format!(
                    "alert rule `{}` needs a threshold and a window above 0",
                    rule.name
                ));
            }
        }
        Ok(())
    }

    /// Version 1 has none of version 2's fields; version 2 has a mission id and a sequence,
    /// lists only features this build knows, and has a time zone exactly when it lists that
    /// feature.
    fn validate_version_fields(&self) -> Result<(), ProfileError> {
        let bad = |s: String| Err(ProfileError::Invalid(s));
        if self.version == 1 {
            let v2_only = [
                ("features", !self.features.is_empty()),
                ("mission_id", self.mission_id.is_some()),
                ("sequence", self.sequence.is_some()),
                ("time_zone", self.time_zone.is_some()),
                ("reporting_day_ends", self.reporting_day_ends.is_some()),
                ("limits", self.limits.is_some()),
                ("coordinators", !self.coordinators.is_empty()),
                ("purge", self.purge.is_some()),
                ("revocations", !self.revocations.is_empty()),
                ("handover", self.handover.is_some()),
                ("handover_chain", !self.handover_chain.is_empty()),
                ("enrolment", self.enrolment.is_some()),
            ];
            if let Some((field, _)) = v2_only.iter().find(|(_, present)| *present) {
                return bad(format!(
                    "`{field}` needs profile version 2, and this profile says version 1"
                ));
            }
            return Ok(());
        }
        if let Some(unknown) = self
            .features
            .iter()
            .find(|f| !KNOWN_FEATURES.contains(&f.as_str()))
        {
            return Err(ProfileError::UnknownFeature(unknown.clone()));
        }
        if self.mission_id.is_none() {
            return bad("a version-2 profile needs a `mission_id`".into());
        }
        match self.sequence {
            Some(n) if (1..=crate::log::MAX_SEQ).contains(&n) => {}
            _ => {
                return bad(format!(
                    "a version-2 profile needs a `sequence` from 1 to {}",
                    crate::log::MAX_SEQ
                ))
            }
        }
        let listed = self.features.iter().any(|f| f == FEATURE_TIME_ZONE);
        if listed != self.time_zone.is_some() {
            return bad(
                "`time_zone` and the feature \"time_zone\" go together: list the feature exactly when the profile names a zone".into(),
            );
        }
        let limits_listed = self.features.iter().any(|f| f == FEATURE_LIMITS);
        if limits_listed != self.limits.is_some() {
            return bad(
                "`limits` and the feature \"limits\" go together: list the feature exactly when the profile sets limits".into(),
            );
        }
        if let Some(limits) = &self.limits {
            limits.validate().map_err(ProfileError::Invalid)?;
        }
        self.validate_coordinators()?;
        let enrolment_listed = self.features.iter().any(|f| f == FEATURE_ENROLMENT);
        if enrolment_listed != self.enrolment.is_some() {
            return bad("`enrolment` and the feature \"enrolment\" go together".into());
        }
        let chain_listed = self.features.iter().any(|f| f == FEATURE_HANDOVER_CHAIN);
        if chain_listed == self.handover_chain.is_empty() {
            return bad("`handover_chain` and the feature \"handover_chain\" go together".into());
        }
        if self.handover_chain.len() > MAX_HANDOVER_CHAIN
            || self
                .handover_chain
                .iter()
                .any(|l| l.len() > MAX_CHAIN_LINK_BYTES)
        {
            return bad(format!(
                "`handover_chain` holds at most {MAX_HANDOVER_CHAIN} profiles of at most {MAX_CHAIN_LINK_BYTES} bytes each"
            ));
        }
        let handover_listed = self.features.iter().any(|f| f == FEATURE_HANDOVER);
        if handover_listed != self.handover.is_some() {
            return bad("`handover` and the feature \"handover\" go together".into());
        }
        if let Some(h) = &self.handover {
            if parse_device_key(&h.to_signing_key).is_none() {
                return bad("the hand-over's `to_signing_key` is not an Ed25519 key in hex".into());
            }
            if h.to_recipients.is_empty()
                || h.to_recipients.iter().any(|r| {
                    r.parse::<age::x25519::Recipient>().is_err() || !self.recipients.contains(r)
                })
            {
                return bad(
                    "the hand-over's `to_recipients` must be age recipients, each also in `recipients`".into(),
                );
            }
            if Some(h.effective_sequence) <= self.sequence {
                return bad(
                    "the hand-over's `effective_sequence` must come after this profile's `sequence`".into(),
                );
            }
        }
        let revocations_listed = self.features.iter().any(|f| f == FEATURE_REVOCATIONS);
        if revocations_listed == self.revocations.is_empty() {
            return bad("`revocations` and the feature \"revocations\" go together".into());
        }
        if self.revocations.len() > MAX_REVOCATIONS {
            return bad(format!("it lists more than {MAX_REVOCATIONS} revocations"));
        }
        for r in &self.revocations {
            check_revocation(r).map_err(ProfileError::Invalid)?;
        }
        let purge_listed = self.features.iter().any(|f| f == FEATURE_PURGE);
        if purge_listed != self.purge.is_some() {
            return bad(
                "`purge` and the feature \"purge\" go together: list the feature exactly when the profile sets a purge policy".into(),
            );
        }
        if let Some(p) = self.purge {
            if p.after_receipt_days > MAX_PURGE_DAYS {
                return bad(format!(
                    "`purge.after_receipt_days` is {}; it must be from 0 to {MAX_PURGE_DAYS}",
                    p.after_receipt_days
                ));
            }
        }
        if self.reporting_day_ends.is_some() && self.time_zone.is_none() {
            return bad("`reporting_day_ends` needs a `time_zone`".into());
        }
        if let Some(zone) = &self.time_zone {
            if zone.parse::<chrono_tz::Tz>().is_err() {
                return bad(format!(
                    "`time_zone` “{zone}” is not an IANA time zone: write it as Region/City, e.g. Europe/Kyiv or Asia/Beirut"
                ));
            }
        }
        if let Some(ends) = &self.reporting_day_ends {
            if !is_time_of_day(ends) {
                return bad(format!(
                    "`reporting_day_ends` “{ends}” is not a time of day: write it as HH:MM, e.g. 19:30"
                ));
            }
        }
        Ok(())
    }

    /// The feature goes with the list; each coordinator has a unique id and key, a valid key
    /// and recipient (one of `recipients`), serves areas the profile defines; one is HQ.
    fn validate_coordinators(&self) -> Result<(), ProfileError> {
        let bad = |s: String| Err(ProfileError::Invalid(s));
        let listed = self.features.iter().any(|f| f == FEATURE_COORDINATORS);
        if listed == self.coordinators.is_empty() {
            return bad(
                "`coordinators` and the feature \"coordinators\" go together: list the feature exactly when the profile lists coordinators".into(),
            );
        }
        if self.coordinators.len() > MAX_COORDINATORS {
            return bad(format!(
                "it lists {} coordinators; at most {MAX_COORDINATORS}",
                self.coordinators.len()
            ));
        }
        if !self.coordinators.is_empty()
            && !self
                .coordinators
                .iter()
                .any(|c| c.role == CoordinatorRole::Hq)
        {
            return bad("its coordinators include no HQ (`\"role\": \"hq\"`)".into());
        }
        for (i, c) in self.coordinators.iter().enumerate() {
            let earlier = &self.coordinators[..i];
            if c.id.is_empty() || c.id.len() > 64 || earlier.iter().any(|e| e.id == c.id) {
                return bad(format!(
                    "coordinator id {:?} is empty, too long or used twice",
                    c.id
                ));
            }
            if parse_device_key(&c.signing_key).is_none()
                || earlier.iter().any(|e| e.signing_key == c.signing_key)
            {
                return bad(format!(
                    "coordinator `{}` has a signing key that is not 64 hex digits of an Ed25519 key, or that another coordinator has",
                    c.id
                ));
            }
            if c.age_recipient.parse::<age::x25519::Recipient>().is_err()
                || !self.recipients.contains(&c.age_recipient)
            {
                return bad(format!(
                    "coordinator `{}` has an age recipient that is not an age X25519 recipient listed in `recipients`",
                    c.id
                ));
            }
            if let Some(area) = c
                .serves
                .iter()
                .find(|a| !self.areas.iter().any(|d| &d.code == *a))
            {
                return bad(format!(
                    "coordinator `{}` serves area `{area}`, which the profile does not define",
                    c.id
                ));
            }
        }
        Ok(())
    }

    /// Every name and code the profile gives (mission, taxonomy, parties, areas, ladder, alert
    /// rules) is one line of text without control characters (see [`crate::text`]): devices
    /// and coordinators print them.
    fn check_names(&self) -> Result<(), ProfileError> {
        let mut texts: Vec<(&str, &str)> = vec![("the mission name", &self.mission)];
        for (what, codes) in [
            ("a kind of its taxonomy", &self.taxonomy.kinds),
            ("a category of its taxonomy", &self.taxonomy.categories),
            ("a party", &self.parties),
            ("a step of its severity ladder", &self.severity_ladder),
        ] {
            for c in codes {
                texts.push((what, &c.code));
                texts.push((what, &c.label));
            }
        }
        for c in &self.coordinators {
            texts.push(("a coordinator", &c.id));
            texts.push(("a coordinator", &c.name));
        }
        for area in &self.areas {
            texts.push(("an area", &area.code));
            texts.push(("an area", &area.label));
        }
        for rule in &self.alert_rules {
            texts.push(("an alert rule", &rule.name));
            let named = rule.kinds.iter().chain(&rule.categories).chain(&rule.area);
            texts.extend(named.map(|t| ("an alert rule", t.as_str())));
        }
        for (what, text) in texts {
            if let Some(c) = crate::text::line_control(text) {
                return Err(ProfileError::Invalid(format!(
                    "{what} {}",
                    crate::text::line_control_message(c)
                )));
            }
        }
        Ok(())
    }

    /// Signs the profile with the coordinator's key; returns the file's text.
    pub fn sign(&self, key: &DeviceSigningKey) -> Result<String, ProfileError> {
        self.validate()?;
        let body =
            serde_json::to_string_pretty(self).map_err(|e| ProfileError::Format(e.to_string()))?;
        let raw = RawValue::from_string(body).map_err(|e| ProfileError::Format(e.to_string()))?;
        let signature = key.sign_raw(&message(raw.get()));
        let envelope = Envelope {
            format: SIGNED_FORMAT.into(),
            profile: &raw,
            signer_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        };
        serde_json::to_string_pretty(&envelope).map_err(|e| ProfileError::Format(e.to_string()))
    }
}

/// `HH:MM`, 00:00 to 23:59.
fn is_time_of_day(text: &str) -> bool {
    chrono::NaiveTime::parse_from_str(text, "%H:%M").is_ok() && text.len() == 5
}

/// How an update names a profile: its sequence (version 2) and issue time.
fn describe_issue(p: &MissionProfile) -> String {
    match p.sequence {
        Some(n) => format!("number {n}, issued {}", p.issued_at.to_rfc3339()),
        None => format!("issued {}", p.issued_at.to_rfc3339()),
    }
}

fn message(body: &str) -> Vec<u8> {
    let mut msg = SIGNATURE_CONTEXT.to_vec();
    msg.extend_from_slice(body.as_bytes());
    msg
}

impl SignedProfile {
    /// Parses a profile file and verifies its signature and content.
    pub fn open(text: &str) -> Result<SignedProfile, ProfileError> {
        let opened = SignedProfile::open_installed(text)?;
        opened.profile.check_names()?;
        Ok(opened)
    }

    /// [`SignedProfile::open`] for the profile a journal has installed already: every check
    /// but the one on names, which builds before it did not make, so that a journal whose
    /// profile was accepted then still opens.
    pub fn open_installed(text: &str) -> Result<SignedProfile, ProfileError> {
        if text.len() > MAX_PROFILE_BYTES {
            return Err(ProfileError::Format("larger than 1 MiB".into()));
        }
        let envelope: Envelope<'_> =
            serde_json::from_str(text).map_err(|e| ProfileError::Format(e.to_string()))?;
        if envelope.format != SIGNED_FORMAT {
            return Err(ProfileError::Format(format!(
                "format `{}`",
                envelope.format
            )));
        }
        let signer_key = parse_device_key(&envelope.signer_key).ok_or(ProfileError::Signature)?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&envelope.signature, &mut sig).map_err(|_| ProfileError::Signature)?;
        signer_key
            .verify_strict(
                &message(envelope.profile.get()),
                &Signature::from_bytes(&sig),
            )
            .map_err(|_| ProfileError::Signature)?;
        // The version first, read leniently: a newer profile has fields this build does not
        // know, and must be reported as needing a newer Truce, not as an unknown field.
        let probe: crate::FormatProbe = serde_json::from_str(envelope.profile.get())
            .map_err(|e| ProfileError::Invalid(e.to_string()))?;
        if probe.format == FORMAT && probe.version > VERSION {
            return Err(ProfileError::TooNew {
                found: probe.version,
                known: VERSION,
            });
        }
        // A feature this build does not implement comes with sections it does not know: name
        // the feature, not the first unknown field.
        if let Some(unknown) = probe
            .features
            .iter()
            .find(|f| !KNOWN_FEATURES.contains(&f.as_str()))
        {
            return Err(ProfileError::UnknownFeature(unknown.clone()));
        }
        let profile: MissionProfile = serde_json::from_str(envelope.profile.get())
            .map_err(|e| ProfileError::Invalid(e.to_string()))?;
        profile.validate_structure()?;
        Ok(SignedProfile {
            profile,
            signer_key,
            text: text.to_owned(),
        })
    }

    /// Whether this profile may replace `current`: the same signer, or the successor a
    /// hand-over in `current` names; and newer. Version 2 after
    /// version 2: the same mission id and a higher sequence. Version 2 after version 1: issued
    /// later (the first version-2 profile of a mission is signed by its version-1 signer).
    /// Never version 1 after version 2.
    ///
    /// A profile signed by a key the installed one does not name may still replace it through
    /// its `handover_chain`: each hand-over in it must itself replace the last one trusted
    /// (links the device already passed are skipped), and the profile must replace the last.
    pub fn may_replace(&self, current: &SignedProfile) -> Result<(), ProfileError> {
        self.may_replace_within(current, &mut 0)
    }

    /// [`Self::may_replace`], counting in `walked` the hand-overs opened so far, so a chain
    /// (and the chains inside its links) is walked at most [`MAX_HANDOVER_CHAIN`] links deep.
    fn may_replace_within(
        &self,
        current: &SignedProfile,
        walked: &mut usize,
    ) -> Result<(), ProfileError> {
        match self.may_replace_directly(current) {
            Err(ProfileError::OtherSigner) if !self.profile.handover_chain.is_empty() => {
                self.may_replace_through_chain(current, walked)
            }
            other => other,
        }
    }

    /// [`Self::may_replace`] through the hand-overs this profile carries: each must replace
    /// the last one trusted (directly, or through the chain it carries itself); those the
    /// device already went past are skipped.
    fn may_replace_through_chain(
        &self,
        current: &SignedProfile,
        walked: &mut usize,
    ) -> Result<(), ProfileError> {
        let mut trusted = current.clone();
        for (n, encoded) in self.profile.handover_chain.iter().enumerate() {
            *walked += 1;
            if *walked > MAX_HANDOVER_CHAIN {
                return Err(ProfileError::BrokenChain(format!(
                    "it is longer than {MAX_HANDOVER_CHAIN} hand-overs"
                )));
            }
            let link = open_link(encoded)
                .map_err(|e| ProfileError::BrokenChain(format!("hand-over {}: {e}", n + 1)))?;
            if link.profile.handover.is_none() {
                return Err(ProfileError::BrokenChain(format!(
                    "hand-over {} names no successor",
                    n + 1
                )));
            }
            if link.profile.mission_id == trusted.profile.mission_id
                && link.profile.sequence <= trusted.profile.sequence
            {
                // A hand-over this device already went past.
                continue;
            }
            link.may_replace_within(&trusted, walked)
                .map_err(|e| match e {
                    ProfileError::BrokenChain(_) => e,
                    other => ProfileError::BrokenChain(format!(
                        "hand-over {} does not follow from the installed profile: {other}",
                        n + 1
                    )),
                })?;
            trusted = link;
        }
        self.may_replace_directly(&trusted).map_err(|e| match e {
            ProfileError::OtherSigner => ProfileError::BrokenChain(
                "its last hand-over does not name this profile's signer".into(),
            ),
            other => other,
        })
    }

    /// Whether this profile replaces `current` by `current`'s own word: the same signer or
    /// the successor it names, and newer.
    fn may_replace_directly(&self, current: &SignedProfile) -> Result<(), ProfileError> {
        // The installed profile's signer, or the successor its hand-over names, from the
        // sequence the hand-over says.
        let by_successor = current.profile.successor() == Some(self.signer_key)
            && current
                .profile
                .handover
                .as_ref()
                .is_some_and(|h| self.profile.sequence >= Some(h.effective_sequence));
        if self.signer_key != current.signer_key && !by_successor {
            return Err(ProfileError::OtherSigner);
        }
        let (new, old) = (&self.profile, &current.profile);
        let older = || ProfileError::Older {
            current: describe_issue(old),
            new: describe_issue(new),
        };
        match (old.mission_id, new.mission_id) {
            (Some(old_id), Some(new_id)) => {
                if old_id != new_id {
                    return Err(ProfileError::OtherMission {
                        current: old.mission.clone(),
                        current_id: old_id.to_string(),
                        new: new.mission.clone(),
                        new_id: new_id.to_string(),
                    });
                }
                if new.sequence <= old.sequence {
                    return Err(older());
                }
            }
            (Some(_), None) => return Err(older()),
            (None, _) => {
                if new.issued_at <= old.issued_at {
                    return Err(older());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(at: &str) -> MissionProfile {
        let id = age::x25519::Identity::generate();
        MissionProfile::new(
            "Mission East",
            uuid::Uuid::from_u128(0x0193_a0c4),
            DateTime::parse_from_rfc3339(at).expect("time"),
            vec![id.to_public().to_string()],
        )
    }

    #[test]
    fn signed_profile_round_trips_and_detects_tampering() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let text = profile("2026-11-24T10:00:00Z").sign(&key).expect("signs");
        let opened = SignedProfile::open(&text).expect("opens");
        assert_eq!(opened.profile.mission, "Mission East");
        assert_eq!(opened.signer_key, key.verifying_key());
        let tampered = text.replace("Mission East", "Mission West");
        assert_eq!(
            SignedProfile::open(&tampered).err(),
            Some(ProfileError::Signature)
        );
        assert!(matches!(
            SignedProfile::open("{}"),
            Err(ProfileError::Format(_))
        ));
    }

    /// `value` signed as it is, with none of the checks `sign` makes: what another build, or a
    /// newer one, could have written.
    fn signed_as_is(value: &serde_json::Value, key: &DeviceSigningKey) -> String {
        let body = RawValue::from_string(value.to_string()).expect("raw");
        let signature = key.sign_raw(&message(body.get()));
        serde_json::to_string(&Envelope {
            format: SIGNED_FORMAT.into(),
            profile: &body,
            signer_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        })
        .expect("envelope")
    }

    /// A profile installed by a build that allowed control characters in names keeps opening
    /// as the installed one, while a new install of it is refused.
    #[test]
    fn an_installed_profile_with_old_names_still_opens() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let mut value = serde_json::to_value(profile("2026-11-24T10:00:00Z")).expect("json");
        value["mission"] = serde_json::json!("Mission\u{7}East");
        let text = signed_as_is(&value, &key);
        assert!(matches!(
            SignedProfile::open(&text),
            Err(ProfileError::Invalid(_))
        ));
        let installed = SignedProfile::open_installed(&text).expect("still opens");
        assert_eq!(installed.profile.mission, "Mission\u{7}East");
    }

    /// A profile of a newer version, with sections this build does not know, asks for a newer
    /// Truce instead of naming an unknown field; so does a version-2 profile that uses a
    /// feature this build does not implement.
    #[test]
    fn a_newer_profile_asks_for_a_newer_truce() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let mut value = serde_json::to_value(profile("2026-11-24T10:00:00Z")).expect("json");
        value["version"] = serde_json::json!(3);
        value["succession"] = serde_json::json!({"to": "someone"});
        let text = signed_as_is(&value, &key);
        let refused = SignedProfile::open(&text).expect_err("refused");
        assert_eq!(refused, ProfileError::TooNew { found: 3, known: 2 });
        assert!(refused.to_string().contains("update Truce"), "{refused}");

        let mut value = serde_json::to_value(profile("2026-11-24T10:00:00Z")).expect("json");
        value["features"] = serde_json::json!(["quorum"]);
        value["quorum"] = serde_json::json!({"signatures": 2});
        let refused = SignedProfile::open(&signed_as_is(&value, &key)).expect_err("refused");
        assert_eq!(refused, ProfileError::UnknownFeature("quorum".into()));
        assert!(refused.to_string().contains("update Truce"), "{refused}");
    }

    /// A hand-over lets the successor it names sign from its effective number on, and no one
    /// else: not before that number, not a key the chain does not reach.
    #[test]
    fn a_hand_over_admits_the_named_successor_only() {
        let old = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let next = DeviceSigningKey::from_bytes(&[6u8; 32]);
        let stranger = DeviceSigningKey::from_bytes(&[7u8; 32]);
        let successor_recipient = age::x25519::Identity::generate().to_public().to_string();
        let mut p = profile("2026-11-24T10:00:00Z");
        p.sequence = Some(2);
        p.set_handover(Some(Handover {
            to_signing_key: hex::encode(next.verifying_key().as_bytes()),
            to_recipients: vec![successor_recipient.clone()],
            effective_sequence: 3,
        }));
        assert!(p.recipients.contains(&successor_recipient));
        let installed = SignedProfile::open(&p.sign(&old).expect("signs")).expect("opens");
        let update = |seq: u64, key: &DeviceSigningKey| {
            let mut q = p.clone();
            q.set_handover(None);
            q.sequence = Some(seq);
            SignedProfile::open(&q.sign(key).expect("signs")).expect("opens")
        };
        assert_eq!(update(3, &next).may_replace(&installed), Ok(()));
        assert_eq!(update(3, &old).may_replace(&installed), Ok(()));
        assert_eq!(
            update(3, &stranger).may_replace(&installed),
            Err(ProfileError::OtherSigner)
        );
        let mut early = p.clone();
        early.set_handover(None);
        early.sequence = Some(2);
        let early = SignedProfile::open(&early.sign(&next).expect("signs")).expect("opens");
        assert!(early.may_replace(&installed).is_err(), "before its number");
        // A hand-over whose number is not after its own profile's is invalid.
        let mut bad = p.clone();
        if let Some(h) = bad.handover.as_mut() {
            h.effective_sequence = 2;
        }
        assert!(matches!(bad.validate(), Err(ProfileError::Invalid(_))));
    }

    /// A device that missed hand-overs follows them through the chain the newest profile
    /// carries: A hands over to B at 2, B to C at 4; a device still on A's first profile takes
    /// C's sixth. A forged or altered link, or a chain that does not start where the device
    /// stands, is refused.
    #[test]
    fn a_device_that_missed_hand_overs_follows_the_chain() {
        let keys: Vec<DeviceSigningKey> = (10u8..14)
            .map(|b| DeviceSigningKey::from_bytes(&[b; 32]))
            .collect();
        let (a, b, c, mallory) = (&keys[0], &keys[1], &keys[2], &keys[3]);
        let recipient = || age::x25519::Identity::generate().to_public().to_string();
        let base = profile("2026-11-24T10:00:00Z");
        let numbered = |seq: u64, chain: &[String]| {
            let mut q = base.clone();
            q.sequence = Some(seq);
            q.set_handover_chain(chain.iter().map(|t| chain_link(t)).collect());
            q
        };
        let hand_over = |seq: u64, to: &DeviceSigningKey, chain: &[String]| {
            let mut q = numbered(seq, chain);
            q.set_handover(Some(Handover {
                to_signing_key: hex::encode(to.verifying_key().as_bytes()),
                to_recipients: vec![recipient()],
                effective_sequence: seq + 1,
            }));
            q
        };
        let open = |p: &MissionProfile, key: &DeviceSigningKey| {
            SignedProfile::open(&p.sign(key).expect("signs")).expect("opens")
        };
        let installed = open(&numbered(1, &[]), a);
        let a_to_b = hand_over(2, b, &[]).sign(a).expect("signs");
        let b_to_c = hand_over(4, c, std::slice::from_ref(&a_to_b))
            .sign(b)
            .expect("signs");
        let chain = vec![a_to_b.clone(), b_to_c.clone()];
        let newest = open(&numbered(6, &chain), c);
        assert_eq!(newest.may_replace(&installed), Ok(()));
        // A device that took A's hand-over skips that link.
        let at_b = SignedProfile::open(&a_to_b).expect("opens");
        assert_eq!(newest.may_replace(&at_b), Ok(()));
        // As Truce writes it, C's profile carries only the hand-over that named C, which
        // carries the one before it: the device walks both.
        let nested = open(&numbered(6, std::slice::from_ref(&b_to_c)), c);
        assert_eq!(nested.may_replace(&installed), Ok(()));
        // Without the chain, C is a stranger.
        assert_eq!(
            open(&numbered(6, &[]), c).may_replace(&installed),
            Err(ProfileError::OtherSigner)
        );
        // Mallory signs her own "hand-over" from B: B never signed it.
        let forged = hand_over(4, mallory, std::slice::from_ref(&a_to_b))
            .sign(mallory)
            .expect("signs");
        let refused = open(&numbered(6, &[a_to_b.clone(), forged]), mallory)
            .may_replace(&installed)
            .expect_err("forged");
        assert!(matches!(refused, ProfileError::BrokenChain(_)), "{refused}");
        // An altered link no longer verifies.
        let altered = b_to_c.replacen("\"sequence\": 4", "\"sequence\": 5", 1);
        assert!(altered != b_to_c, "the link was altered");
        let refused = open(&numbered(6, &[a_to_b.clone(), altered]), c)
            .may_replace(&installed)
            .expect_err("altered");
        assert!(matches!(refused, ProfileError::BrokenChain(_)), "{refused}");
        // A chain that skips B's hand-over does not reach C.
        let refused = open(&numbered(6, &[a_to_b]), c)
            .may_replace(&installed)
            .expect_err("gap");
        assert!(matches!(refused, ProfileError::BrokenChain(_)), "{refused}");
        assert!(refused.to_string().contains("update it"), "{refused}");
        // A link that is not base64 of a profile is refused, not trusted.
        let mut garbage = numbered(6, &[]);
        garbage.set_handover_chain(vec!["not base64!".into()]);
        let refused = open(&garbage, c)
            .may_replace(&installed)
            .expect_err("garbage");
        assert!(matches!(refused, ProfileError::BrokenChain(_)), "{refused}");
    }

    /// What version 1 wrote keeps opening, and may not carry version 2's fields.
    #[test]
    fn version_1_profiles_still_open() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let mut value = serde_json::to_value(profile("2026-11-24T10:00:00Z")).expect("json");
        value["version"] = serde_json::json!(1);
        for field in ["mission_id", "sequence"] {
            value.as_object_mut().expect("object").remove(field);
        }
        let opened = SignedProfile::open(&signed_as_is(&value, &key)).expect("v1 opens");
        assert_eq!(opened.profile.version, 1);
        assert_eq!(opened.profile.zone(), None);

        value["time_zone"] = serde_json::json!("Europe/Kyiv");
        let refused = SignedProfile::open(&signed_as_is(&value, &key)).expect_err("refused");
        assert!(
            refused
                .to_string()
                .contains("`time_zone` needs profile version 2"),
            "{refused}"
        );
    }

    #[test]
    fn the_time_zone_is_an_iana_name_listed_as_a_feature() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let mut p = profile("2026-11-24T10:00:00Z");
        p.set_time_zone(Some(("Europe/Kyiv".into(), Some("19:30".into()))));
        let opened = SignedProfile::open(&p.sign(&key).expect("signs")).expect("opens");
        assert_eq!(opened.profile.zone(), Some(chrono_tz::Europe::Kyiv));
        assert_eq!(opened.profile.features, vec![FEATURE_TIME_ZONE.to_string()]);
        assert_eq!(opened.profile.reporting_day_ends.as_deref(), Some("19:30"));

        let mut bad = p.clone();
        bad.time_zone = Some("Kyiv".into());
        let err = bad.sign(&key).expect_err("refused").to_string();
        assert!(err.contains("“Kyiv” is not an IANA time zone"), "{err}");
        let mut bad = p.clone();
        bad.reporting_day_ends = Some("7:30pm".into());
        let err = bad.sign(&key).expect_err("refused").to_string();
        assert!(err.contains("HH:MM"), "{err}");
        let mut bad = p.clone();
        bad.features.clear();
        let err = bad.sign(&key).expect_err("refused").to_string();
        assert!(err.contains("go together"), "{err}");
        let mut bad = p;
        bad.set_time_zone(None);
        bad.reporting_day_ends = Some("19:30".into());
        let err = bad.sign(&key).expect_err("refused").to_string();
        assert!(err.contains("needs a `time_zone`"), "{err}");
    }

    /// The mission's limits travel as the feature `limits`; each one is bounded, and what a
    /// profile leaves out keeps Truce's default.
    #[test]
    fn limits_are_a_feature_with_bounded_values_and_defaults() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let mut p = profile("2026-11-24T10:00:00Z");
        assert_eq!(
            p.effective_limits().bundle_max_bytes(),
            DEFAULT_BUNDLE_MAX_BYTES
        );
        p.set_limits(Some(ProfileLimits {
            attachment_max_bytes: Some(50 * 1024 * 1024),
            attachment_media_types: Some(vec!["image/jpeg".into(), "audio/ogg".into()]),
            bundle_max_bytes: Some(600 * 1024 * 1024),
            ..ProfileLimits::default()
        }));
        let opened = SignedProfile::open(&p.sign(&key).expect("signs")).expect("opens");
        let limits = opened.profile.effective_limits();
        assert_eq!(opened.profile.features, vec![FEATURE_LIMITS.to_string()]);
        assert_eq!(limits.attachment_max_bytes(), 50 * 1024 * 1024);
        assert_eq!(limits.bundle_max_bytes(), 600 * 1024 * 1024);
        assert_eq!(
            limits.attachments_per_observation(),
            crate::attachment::MAX_ATTACHMENTS
        );
        assert!(limits.allows("audio/ogg") && !limits.allows("video/mp4"));

        for (change, says) in [
            (
                ProfileLimits {
                    bundle_max_bytes: Some(5 * 1024 * 1024 * 1024),
                    ..Default::default()
                },
                "FAT32",
            ),
            (
                ProfileLimits {
                    attachment_max_bytes: Some(0),
                    ..Default::default()
                },
                "attachment_max_bytes",
            ),
            (
                ProfileLimits {
                    attachment_media_types: Some(vec!["text/html".into()]),
                    ..Default::default()
                },
                "text/html",
            ),
        ] {
            let mut bad = p.clone();
            bad.set_limits(Some(change));
            let err = bad.sign(&key).expect_err("refused").to_string();
            assert!(err.contains(says), "{err}");
        }
        let mut bad = p;
        bad.features.clear();
        let err = bad.sign(&key).expect_err("refused").to_string();
        assert!(err.contains("go together"), "{err}");
    }

    /// Version 2 orders profiles by sequence, not by the signer's clock, and keeps to one
    /// mission; a version-1 profile is replaced by a later version 2, never the other way.
    #[test]
    fn version_2_updates_need_a_higher_sequence_of_the_same_mission() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let open = |p: &MissionProfile| SignedProfile::open(&p.sign(&key).expect("s")).expect("o");
        let first = profile("2026-11-24T10:00:00Z");
        let mut second = profile("2026-11-20T10:00:00Z");
        second.sequence = Some(2);
        assert!(
            open(&second).may_replace(&open(&first)).is_ok(),
            "an earlier clock is no bar"
        );
        let err = open(&first).may_replace(&open(&second)).expect_err("older");
        assert!(err.to_string().contains("number 1"), "{err}");
        let mut other = second.clone();
        other.mission_id = Some(uuid::Uuid::from_u128(7));
        other.sequence = Some(3);
        assert!(matches!(
            open(&other).may_replace(&open(&second)),
            Err(ProfileError::OtherMission { .. })
        ));

        let mut v1 = serde_json::to_value(profile("2026-11-23T10:00:00Z")).expect("json");
        v1["version"] = serde_json::json!(1);
        v1.as_object_mut().expect("object").remove("mission_id");
        v1.as_object_mut().expect("object").remove("sequence");
        let v1 = SignedProfile::open(&signed_as_is(&v1, &key)).expect("v1");
        assert!(open(&first).may_replace(&v1).is_ok());
        assert!(matches!(
            v1.may_replace(&open(&first)),
            Err(ProfileError::Older { .. })
        ));
    }

    #[test]
    fn updates_need_same_signer_and_newer_date() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let other = DeviceSigningKey::from_bytes(&[6u8; 32]);
        let numbered = |at: &str, n: u64| {
            let mut p = profile(at);
            p.sequence = Some(n);
            p
        };
        let v1 = SignedProfile::open(&numbered("2026-11-24T10:00:00Z", 1).sign(&key).expect("s"))
            .expect("o");
        let v2 = SignedProfile::open(&numbered("2026-11-25T10:00:00Z", 2).sign(&key).expect("s"))
            .expect("o");
        let forged =
            SignedProfile::open(&numbered("2026-11-26T10:00:00Z", 3).sign(&other).expect("s"))
                .expect("o");
        assert!(v2.may_replace(&v1).is_ok());
        assert!(matches!(
            v1.may_replace(&v2),
            Err(ProfileError::Older { .. })
        ));
        assert_eq!(
            forged.may_replace(&v1).err(),
            Some(ProfileError::OtherSigner)
        );
    }

    #[test]
    fn names_with_control_characters_are_refused() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let fresh = || profile("2026-11-24T10:00:00Z");
        let mut cases = Vec::new();
        let mut p = fresh();
        p.mission = "Mission\u{1b}[2K East".into();
        cases.push(p);
        let mut p = fresh();
        p.areas.push(Area {
            code: "north".into(),
            label: "North\u{9b}1A".into(),
            bbox: None,
        });
        cases.push(p);
        let mut p = fresh();
        p.parties.push(Code {
            code: "a\nb".into(),
            label: "A".into(),
        });
        cases.push(p);
        let mut p = fresh();
        p.taxonomy.categories[0].label = "Shelling\u{7}".into();
        cases.push(p);
        for p in cases {
            let err = p.sign(&key).expect_err("refused");
            assert!(
                matches!(&err, ProfileError::Invalid(r) if r.contains("control character U+")),
                "{err}"
            );
        }
        // Arabic and Persian names keep their marks.
        let mut p = fresh();
        p.mission = "بعثة\u{200f} شرق\u{200c}ی".into();
        p.sign(&key)
            .expect("RLM and ZWNJ are not control characters");
    }

    #[test]
    fn invalid_recipients_are_refused() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let mut p = profile("2026-11-24T10:00:00Z");
        p.recipients = vec!["age1notakey".into()];
        assert!(matches!(p.sign(&key), Err(ProfileError::Invalid(_))));
        p.recipients.clear();
        assert!(matches!(p.sign(&key), Err(ProfileError::Invalid(_))));
    }
}
