//! Mission profiles: who the coordinators are (age recipients), the taxonomy, parties, areas,
//! severity ladder and alert rules; signed by the coordinator so devices can trust updates.

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
pub const VERSION: u32 = 1;
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
    /// Always 1 for now.
    pub version: u32,
    /// The mission's name.
    pub mission: String,
    /// When this profile was issued; an update must be newer.
    pub issued_at: DateTime<FixedOffset>,
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
    #[error("this profile is signed by another coordinator key than the profile already installed; only the original coordinator can update it")]
    OtherSigner,
    /// A profile of a format version this build does not read: Truce needs updating.
    #[error("this mission profile is format version {found}, and this Truce reads up to version {known}: update Truce to install it")]
    TooNew {
        /// The version the file declares.
        found: u32,
        /// The newest version this build reads.
        known: u32,
    },
    /// An update older than the installed profile.
    #[error("this profile (issued {new}) is not newer than the installed one (issued {current}); ask the coordinator for the latest")]
    Older {
        /// Issued-at of the installed profile.
        current: String,
        /// Issued-at of the refused one.
        new: String,
    },
}

impl MissionProfile {
    /// A profile with the built-in taxonomy and a five-step severity ladder.
    pub fn new(mission: &str, issued_at: DateTime<FixedOffset>, recipients: Vec<String>) -> Self {
        let ladder = ["Minor", "Notable", "Serious", "Grave", "Critical"];
        MissionProfile {
            format: FORMAT.into(),
            version: VERSION,
            mission: mission.trim().to_owned(),
            issued_at,
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
        if self.format != FORMAT || self.version != VERSION {
            return bad(format!(
                "format `{}` version {} is not supported",
                self.format, self.version
            ));
        }
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
        let profile: MissionProfile = serde_json::from_str(envelope.profile.get())
            .map_err(|e| ProfileError::Invalid(e.to_string()))?;
        profile.validate_structure()?;
        Ok(SignedProfile {
            profile,
            signer_key,
            text: text.to_owned(),
        })
    }

    /// Whether this profile may replace `current`: same signer, and newer.
    pub fn may_replace(&self, current: &SignedProfile) -> Result<(), ProfileError> {
        if self.signer_key != current.signer_key {
            return Err(ProfileError::OtherSigner);
        }
        if self.profile.issued_at <= current.profile.issued_at {
            return Err(ProfileError::Older {
                current: current.profile.issued_at.to_rfc3339(),
                new: self.profile.issued_at.to_rfc3339(),
            });
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
    /// Truce instead of naming an unknown field.
    #[test]
    fn a_newer_profile_asks_for_a_newer_truce() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let mut value = serde_json::to_value(profile("2026-11-24T10:00:00Z")).expect("json");
        value["version"] = serde_json::json!(2);
        value["features"] = serde_json::json!(["handover"]);
        let text = signed_as_is(&value, &key);
        let refused = SignedProfile::open(&text).expect_err("refused");
        assert_eq!(refused, ProfileError::TooNew { found: 2, known: 1 });
        assert!(refused.to_string().contains("update Truce"), "{refused}");
    }

    #[test]
    fn updates_need_same_signer_and_newer_date() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let other = DeviceSigningKey::from_bytes(&[6u8; 32]);
        let v1 = SignedProfile::open(&profile("2026-11-24T10:00:00Z").sign(&key).expect("s"))
            .expect("o");
        let v2 = SignedProfile::open(&profile("2026-11-25T10:00:00Z").sign(&key).expect("s"))
            .expect("o");
        let forged = SignedProfile::open(&profile("2026-11-26T10:00:00Z").sign(&other).expect("s"))
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
