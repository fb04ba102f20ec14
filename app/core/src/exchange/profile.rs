//! Mission profiles: a coordinator signs one; a device checks, then installs a newer one from
//! the same coordinator. The installed profile is read once per unlock.

use std::path::{Path, PathBuf};

use truce_sync::fingerprint;
use truce_sync::profile::{
    Coordinator, CoordinatorCard, CoordinatorRole, MissionProfile, ProfileError, SignedProfile,
    CARD_FORMAT,
};

use crate::journal::{now, Journal, JournalError};
use crate::model::ProfileCheck;
use crate::period::{parse_cutoff, Cutoff, MissionZone};

impl From<ProfileError> for JournalError {
    fn from(e: ProfileError) -> Self {
        JournalError::Profile(e)
    }
}

impl Journal {
    /// Creates and signs a mission profile naming this coordinator (and `extra_recipients`) as
    /// recipients. `template` may supply taxonomy, parties, areas, ladder and alert rules.
    pub fn create_profile(
        &mut self,
        mission: &str,
        extra_recipients: &[String],
        template: Option<MissionProfile>,
    ) -> Result<String, JournalError> {
        self.create_profile_with(mission, extra_recipients, template, &[])
    }

    /// [`Self::create_profile`], listing this coordinator as HQ and the coordinators of
    /// `cards` with their roles: their signing keys sign receipts, their recipients join
    /// those bundles are encrypted to.
    pub fn create_profile_with(
        &mut self,
        mission: &str,
        extra_recipients: &[String],
        template: Option<MissionProfile>,
        cards: &[(CoordinatorCard, CoordinatorRole)],
    ) -> Result<String, JournalError> {
        let text = self.sign_profile(mission, extra_recipients, template, cards)?;
        // The coordinator uses its own profile too (taxonomy, alert rules).
        self.install_profile(SignedProfile::open(&text)?)?;
        Ok(text)
    }

    /// [`Self::create_profile_with`], with the signed profile written into `dir` first (as
    /// `mission-profile-N.json`, a name no file there has): if it cannot be written, nothing
    /// changes. Returns the file's path.
    pub fn create_profile_into(
        &mut self,
        dir: &Path,
        mission: &str,
        template: Option<MissionProfile>,
        cards: &[(CoordinatorCard, CoordinatorRole)],
    ) -> Result<PathBuf, JournalError> {
        let text = self.sign_profile(mission, &[], template, cards)?;
        self.write_then_install(dir, &text)
    }

    /// Writes a signed profile into `dir` under a name no file there has, then installs it.
    fn write_then_install(&mut self, dir: &Path, text: &str) -> Result<PathBuf, JournalError> {
        let signed = SignedProfile::open(text)?;
        let sequence = signed.profile.sequence.unwrap_or_default();
        let mut path = dir.join(format!("mission-profile-{sequence}.json"));
        let mut n = 2;
        while path.exists() {
            path = dir.join(format!("mission-profile-{sequence}-{n}.json"));
            n += 1;
        }
        crate::fsutil::write_atomic(&path, text.as_bytes())
            .map_err(|e| JournalError::io("write", &path, e))?;
        self.install_profile(signed)?;
        Ok(path)
    }

    /// The signed text of a new profile ([`Self::create_profile_with`]), not installed yet.
    fn sign_profile(
        &self,
        mission: &str,
        extra_recipients: &[String],
        template: Option<MissionProfile>,
        cards: &[(CoordinatorCard, CoordinatorRole)],
    ) -> Result<String, JournalError> {
        let own = self
            .coordinator_identity()?
            .identity
            .to_public()
            .to_string();
        let mut recipients = vec![own];
        for r in extra_recipients {
            if !recipients.contains(r) {
                recipients.push(r.clone());
            }
        }
        // An update of this coordinator's version-2 profile keeps its mission id and takes
        // the next number; otherwise a new mission begins.
        // So does the successor a hand-over named, from the profile that named it.
        let own_key = self.device.signing_key.verifying_key();
        let continued = self
            .profile
            .as_ref()
            .filter(|p| p.signer_key == own_key || p.profile.successor() == Some(own_key));
        let installed = continued.and_then(|p| Some((p.profile.mission_id?, p.profile.sequence?)));
        // The hand-over that named this coordinator travels on in its profiles (it carries the
        // hand-overs before it), so a device that missed one follows it.
        let chain = match continued {
            Some(p) if p.signer_key != own_key => vec![truce_sync::profile::chain_link(&p.text)],
            Some(p) => p.profile.handover_chain.clone(),
            None => Vec::new(),
        };
        let (mission_id, sequence) = match installed {
            Some((id, n)) => (id, n + 1),
            None => (uuid::Uuid::now_v7(), 1),
        };
        let mut profile = MissionProfile::new(mission, mission_id, now(), recipients);
        profile.sequence = Some(sequence);
        if let Some(t) = template {
            profile.taxonomy = t.taxonomy;
            profile.parties = t.parties;
            profile.areas = t.areas;
            profile.severity_ladder = t.severity_ladder;
            profile.alert_rules = t.alert_rules;
            profile.set_time_zone(t.time_zone.map(|z| (z, t.reporting_day_ends)));
            profile.set_limits(t.limits);
            profile.set_purge(t.purge);
            profile.set_enrolment(t.enrolment);
        }
        let own_key = hex::encode(self.device.signing_key.verifying_key().as_bytes());
        let mut coordinators = vec![Coordinator {
            id: "hq".into(),
            name: self.device.observer.clone(),
            role: CoordinatorRole::Hq,
            signing_key: own_key,
            age_recipient: profile.recipients[0].clone(),
            serves: Vec::new(),
        }];
        for (card, role) in cards {
            if coordinators
                .iter()
                .any(|c| c.signing_key == card.signing_key)
            {
                return Err(JournalError::Refused(format!(
                    "the card of “{}” is listed twice, or is this coordinator's own",
                    card.name
                )));
            }
            coordinators.push(Coordinator {
                id: coordinator_id(&card.name, &coordinators),
                name: card.name.clone(),
                role: *role,
                signing_key: card.signing_key.clone(),
                age_recipient: card.age_recipient.clone(),
                serves: Vec::new(),
            });
        }
        profile.set_coordinators(coordinators);
        profile.set_handover_chain(chain);
        // The devices revoked so far travel with every profile from now on.
        profile.set_revocations(self.store.revocations()?);
        Ok(profile.sign(&self.device.signing_key)?)
    }

    /// Keeps `signed` as the mission profile: in the journal, and as the one this unlocked
    /// journal works with (taxonomy, areas, alert rules).
    fn install_profile(&mut self, signed: SignedProfile) -> Result<(), JournalError> {
        self.store.set_profile(&signed.text, &now().to_rfc3339())?;
        // A coordinator keeps the revocations HQ's profile lists, and applies them to imports.
        if self.device.role == truce_sync::Role::Coordinator {
            for r in &signed.profile.revocations {
                self.store.revoke_device(r)?;
            }
        }
        self.taxonomy = signed.profile.taxonomy.clone();
        self.profile = Some(signed);
        Ok(())
    }

    /// The installed mission profile.
    pub fn profile(&self) -> Result<Option<SignedProfile>, JournalError> {
        Ok(self.profile.clone())
    }

    /// The mission's limits on attachments and bundles: the installed profile's, Truce's
    /// defaults for what it does not set.
    pub fn mission_limits(&self) -> truce_sync::profile::ProfileLimits {
        self.profile
            .as_ref()
            .map(|p| p.profile.effective_limits())
            .unwrap_or_default()
    }

    /// The time zone of the mission's days, cut-offs and reports: the installed profile's,
    /// UTC without one.
    pub fn mission_zone(&self) -> MissionZone {
        MissionZone::of(self.profile.as_ref().map(|p| &p.profile))
    }

    /// When the mission's reporting day ends, in its zone: the profile's
    /// `reporting_day_ends`, else midnight.
    pub fn reporting_day_end(&self) -> Cutoff {
        let zone = self.mission_zone();
        self.profile
            .as_ref()
            .and_then(|p| p.profile.reporting_day_ends.as_deref())
            .and_then(|t| parse_cutoff(t, zone).ok())
            .unwrap_or_else(|| Cutoff::default().in_zone(zone))
    }

    /// What installing a mission profile from its signed text would do, without installing
    /// it: the same checks as [`Journal::import_profile`]. A first install trusts whoever
    /// signed it, so the signer's fingerprint is for the user to check with the coordinator.
    pub fn inspect_profile(&self, text: &str) -> Result<ProfileCheck, JournalError> {
        let new = SignedProfile::open(text)?;
        let current = self.profile()?;
        if let Some(current) = &current {
            new.may_replace(current)?;
        }
        Ok(ProfileCheck {
            signer_fingerprint: fingerprint(&new.signer_key),
            first_install: current.is_none(),
            profile: new.profile,
        })
    }

    /// Installs a mission profile from its signed text. An update must be signed by the same
    /// coordinator and be newer. The first one is trusted on its signer's word: callers show
    /// [`ProfileCheck::signer_fingerprint`] (the GUI asks for confirmation first).
    pub fn import_profile(&mut self, text: &str) -> Result<MissionProfile, JournalError> {
        let new = SignedProfile::open(text)?;
        if let Some(current) = &self.profile {
            new.may_replace(current)?;
        }
        let profile = new.profile.clone();
        self.install_profile(new)?;
        Ok(profile)
    }
}

/// A short id for a listed coordinator from its name: lowercase letters, digits and dashes,
/// made unique among `taken`.
fn coordinator_id(name: &str, taken: &[Coordinator]) -> String {
    let mut slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    slug.truncate(32);
    if slug.is_empty() {
        slug = "coordinator".into();
    }
    let mut id = slug.clone();
    let mut n = 2;
    while taken.iter().any(|c| c.id == id) {
        id = format!("{slug}-{n}");
        n += 1;
    }
    id
}

impl Journal {
    /// Hands the mission over to the coordinator of `card`: the installed profile again, one
    /// number higher, naming that coordinator's key as the successor that signs from the next
    /// number on, with its recipient among those bundles are encrypted to and its key among
    /// the coordinators. Devices that install it accept the successor's profiles and receipts
    /// from then on. Only the profile's signer can hand it over. Returns the signed text.
    pub fn hand_over(&mut self, card: &CoordinatorCard) -> Result<String, JournalError> {
        let text = self.sign_hand_over(card)?;
        self.install_profile(SignedProfile::open(&text)?)?;
        Ok(text)
    }

    /// [`Self::hand_over`], with the signed profile written into `dir` first (as
    /// `mission-profile-N.json`, a name no file there has): if it cannot be written, nothing
    /// is handed over. Returns the file's path.
    pub fn hand_over_into(
        &mut self,
        card: &CoordinatorCard,
        dir: &Path,
    ) -> Result<PathBuf, JournalError> {
        let text = self.sign_hand_over(card)?;
        self.write_then_install(dir, &text)
    }

    /// The signed text of the hand-over to `card`, not installed yet.
    fn sign_hand_over(&self, card: &CoordinatorCard) -> Result<String, JournalError> {
        self.require_coordinator("handing the mission over")?;
        let own_key = self.device.signing_key.verifying_key();
        let current = self
            .profile
            .clone()
            .filter(|p| p.signer_key == own_key && p.profile.mission_id.is_some())
            .ok_or_else(|| {
                JournalError::Refused(
                    "only the coordinator that signed the installed version-2 profile can hand the mission over".into(),
                )
            })?;
        if card.signing_key == hex::encode(own_key.as_bytes()) {
            return Err(JournalError::Refused(
                "that card is this coordinator's own: hand over to another coordinator's card"
                    .into(),
            ));
        }
        let mut profile = current.profile.clone();
        let sequence = profile.sequence.unwrap_or(0) + 1;
        profile.sequence = Some(sequence);
        profile.issued_at = now();
        let mut coordinators = profile.coordinators.clone();
        if !coordinators
            .iter()
            .any(|c| c.signing_key == card.signing_key)
        {
            coordinators.push(Coordinator {
                id: coordinator_id(&card.name, &coordinators),
                name: card.name.clone(),
                role: CoordinatorRole::Hq,
                signing_key: card.signing_key.clone(),
                age_recipient: card.age_recipient.clone(),
                serves: Vec::new(),
            });
        }
        profile.set_coordinators(coordinators);
        profile.set_revocations(self.store.revocations()?);
        profile.set_handover(Some(truce_sync::profile::Handover {
            to_signing_key: card.signing_key.clone(),
            to_recipients: vec![card.age_recipient.clone()],
            effective_sequence: sequence + 1,
        }));
        Ok(profile.sign(&self.device.signing_key)?)
    }

    /// Whether this coordinator can hand the mission over: it signed the installed version-2
    /// profile, and that profile names no successor yet.
    pub fn can_hand_over(&self) -> bool {
        let own_key = self.device.signing_key.verifying_key();
        self.device.role == truce_sync::Role::Coordinator
            && self.profile.as_ref().is_some_and(|p| {
                p.signer_key == own_key
                    && p.profile.mission_id.is_some()
                    && p.profile.handover.is_none()
            })
    }

    /// This coordinator's card: its name and public keys, for HQ to list it in the profile.
    pub fn coordinator_card(&self) -> Result<String, JournalError> {
        let recipient = self
            .coordinator_identity()?
            .identity
            .to_public()
            .to_string();
        let card = CoordinatorCard {
            format: CARD_FORMAT.into(),
            version: 1,
            name: self.device.observer.clone(),
            signing_key: hex::encode(self.device.signing_key.verifying_key().as_bytes()),
            age_recipient: recipient,
        };
        let mut text = serde_json::to_string_pretty(&card).map_err(|e| JournalError::Internal {
            what: "write the coordinator card",
            source: e.into(),
        })?;
        text.push('\n');
        Ok(text)
    }
}
