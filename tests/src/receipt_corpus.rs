//! The hostile-receipt corpus: a device journal (`tests/testdata/receipts/device`) that
//! exported four entries under a mission profile, and receipts made for it by hand (valid,
//! replayed, older, forged, altered, cut short, random, for another device), each with the
//! outcome the device must report when it imports them one by one, in order.

use std::io::Write;
use std::path::Path;

use age::secrecy::SecretString;
use anyhow::{Context, Result};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use truce_core::model::ExportRange;
use truce_core::{Journal, KdfCost, Profile};
use truce_sync::bundle::{BundleReader, Limits};
use truce_sync::device::DeviceSigningKey;
use truce_sync::profile::{Coordinator, CoordinatorRole, MissionProfile};
use truce_sync::receipt::{seal_text, Receipt};
use truce_sync::Role;

/// The corpus device's passphrase (the CLI tests' own).
pub const PASSPHRASE: &str = "correct horse battery staple";
/// The mission every valid case is for.
pub const MISSION_ID: &str = "0193a0c4-0000-7000-8000-00000000c0de";
const MISSION: &str = "Corpus mission";
const COORDINATOR: &str = "Corpus HQ";
/// How many entries the device exported before any receipt.
pub const ENTRIES: u64 = 4;

/// The coordinator that signs the corpus's profiles and valid receipts. TEST ONLY.
fn coordinator_key() -> DeviceSigningKey {
    DeviceSigningKey::from_bytes(&[0xC0; 32])
}

/// A key no profile lists. TEST ONLY.
fn stranger_key() -> DeviceSigningKey {
    DeviceSigningKey::from_bytes(&[0x5E; 32])
}

/// What importing a case alone must do on the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Expect {
    /// Applied: `newly_confirmed` entries confirmed, and the profile number it installed.
    Applied {
        /// Entries it confirmed that no receipt had.
        newly_confirmed: u64,
        /// The profile it installed, if any.
        profile_installed: Option<u64>,
    },
    /// Recognised as applied before: nothing changes.
    AppliedBefore,
    /// Refused, with a reason that contains `reason` (case-insensitive); nothing changes.
    Refused {
        /// Part of the reason.
        reason: String,
    },
}

/// One case: a file name, its bytes, and what importing it must do.
pub struct Case {
    /// File name, e.g. `05-truncated.age`.
    pub name: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// The outcome.
    pub expect: Expect,
}

/// What the corpus needs to know of the device it writes receipts for.
pub struct Device {
    device_id: uuid::Uuid,
    device_key: String,
    recipient: age::x25519::Recipient,
    coordinator_recipient: age::x25519::Recipient,
    /// The device's own bundle, which a device passes over.
    bundle: Vec<u8>,
}

/// The names of the cases, in order: what `expected.json` must list.
pub const CASE_NAMES: &[&str] = &[
    "00-confirms-the-first-two.age",
    "01-confirms-all-and-brings-profile-2.age",
    "02-replayed.age",
    "03-older-never-undoes.age",
    "04-for-another-device.age",
    "05-names-another-device.age",
    "06-signed-by-a-stranger.age",
    "07-altered-after-signing.age",
    "08-truncated.age",
    "09-random-bytes.age",
    "10-random-bytes-sealed-to-the-device.age",
    "11-beyond-the-log.age",
    "12-another-mission.age",
    "13-newer-format.age",
    "14-profile-from-a-stranger.age",
    "15-a-bundle-not-a-receipt.age",
];

/// The mission profile number `sequence`, signed by the corpus coordinator.
fn profile_text(
    sequence: u64,
    coordinator_recipient: &str,
    signer: &DeviceSigningKey,
) -> Result<String> {
    let issued = DateTime::parse_from_rfc3339("2026-11-24T08:00:00Z")?;
    let mut profile = MissionProfile::new(
        MISSION,
        MISSION_ID.parse()?,
        issued + chrono::Duration::hours(sequence as i64),
        vec![coordinator_recipient.to_owned()],
    );
    profile.sequence = Some(sequence);
    profile.set_coordinators(vec![Coordinator {
        id: "hq".into(),
        name: COORDINATOR.into(),
        role: CoordinatorRole::Hq,
        signing_key: hex::encode(coordinator_key().verifying_key().as_bytes()),
        age_recipient: coordinator_recipient.to_owned(),
        serves: Vec::new(),
    }]);
    Ok(profile.sign(signer)?)
}

/// Creates the corpus device's journal in `dir` (which must not exist): a monitor with the
/// corpus mission's first profile that recorded and exported [`ENTRIES`] entries.
pub fn make_device(dir: &Path) -> Result<Device> {
    let coordinator = age::x25519::Identity::generate();
    let coordinator_recipient = coordinator.to_public();
    let mut journal = Journal::init(
        dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Corpus observer".into(),
            team: None,
            role: Role::Monitor,
        },
        KdfCost::WorkFactor(10),
    )?;
    journal.import_profile(&profile_text(
        1,
        &coordinator_recipient.to_string(),
        &coordinator_key(),
    )?)?;
    for n in 0..ENTRIES {
        let record: Map<String, Value> = serde_json::from_value(json!({
            "kind": "violation", "category": "shelling", "method": "heard",
            "observed_at": format!("2026-11-24T0{n}:30:00+02:00"),
        }))?;
        journal.record(record)?;
    }
    let out = tempfile::tempdir()?;
    let report = journal
        .export(out.path(), ExportRange::Pending)?
        .context("the device has entries to export")?;
    let bundle = std::fs::read(&report.path)?;
    let recipient = {
        let reader = BundleReader::open(&bundle[..], &coordinator, Limits::default())?;
        reader
            .manifest()
            .return_path
            .as_ref()
            .context("the bundle names where receipts go")?
            .device_recipient
            .parse()
            .map_err(|e| anyhow::anyhow!("the device's recipient: {e}"))?
    };
    let device = journal.device();
    let device_key = journal.keys()?.device_key;
    drop(journal);
    Ok(Device {
        device_id: device.device_id,
        device_key,
        recipient,
        coordinator_recipient,
        bundle,
    })
}

/// `text` encrypted with stock age to `recipients`.
fn encrypt(text: &[u8], recipients: &[&age::x25519::Recipient]) -> Result<Vec<u8>> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| *r as &dyn age::Recipient))?;
    let mut out = encryptor.wrap_output(Vec::new())?;
    out.write_all(text)?;
    Ok(out.finish()?)
}

/// Deterministic bytes (xorshift), so regenerating the corpus changes only what changed.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The corpus's cases for `device`, in the order they are imported.
pub fn cases(device: &Device) -> Result<Vec<Case>> {
    let coordinator_recipient = device.coordinator_recipient.to_string();
    let receipt = |id: u8, held_through: u64, missing: Vec<[u64; 2]>| -> Result<Receipt> {
        Ok(Receipt {
            receipt_id: format!("{id:02x}").repeat(16),
            mission: MISSION.into(),
            mission_id: MISSION_ID.parse()?,
            device_id: device.device_id,
            device_key: device.device_key.clone(),
            issued_at: DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z")?
                + chrono::Duration::minutes(id.into()),
            coordinator: COORDINATOR.into(),
            held_through,
            missing,
            profile: None,
            revocations: Vec::new(),
        })
    };
    let to_device = [&device.recipient, &device.coordinator_recipient];
    let sealed = |r: &Receipt, key: &DeviceSigningKey| -> Result<Vec<u8>> {
        encrypt(seal_text(r, key)?.as_bytes(), &to_device)
    };
    let refused = |reason: &str| Expect::Refused {
        reason: reason.into(),
    };
    let mut cases = Vec::new();
    let mut push = |name: &str, bytes: Vec<u8>, expect: Expect| {
        cases.push(Case {
            name: name.into(),
            bytes,
            expect,
        })
    };

    // Valid: entries 1-2 held, then all four with the mission's second profile.
    let first = sealed(&receipt(1, 2, Vec::new())?, &coordinator_key())?;
    push(
        CASE_NAMES[0],
        first.clone(),
        Expect::Applied {
            newly_confirmed: 2,
            profile_installed: None,
        },
    );
    let mut all = receipt(2, ENTRIES, Vec::new())?;
    all.profile = Some(profile_text(2, &coordinator_recipient, &coordinator_key())?);
    push(
        CASE_NAMES[1],
        sealed(&all, &coordinator_key())?,
        Expect::Applied {
            newly_confirmed: 2,
            profile_installed: Some(2),
        },
    );
    // The first receipt again, byte for byte.
    push(CASE_NAMES[2], first, Expect::AppliedBefore);
    // An older receipt never seen: entry 2 missing. It takes nothing back.
    push(
        CASE_NAMES[3],
        sealed(&receipt(3, 3, vec![[2, 2]])?, &coordinator_key())?,
        Expect::Applied {
            newly_confirmed: 0,
            profile_installed: None,
        },
    );
    // For another device: sealed to a recipient this device does not hold.
    let other = age::x25519::Identity::generate().to_public();
    push(
        CASE_NAMES[4],
        encrypt(
            seal_text(&receipt(4, 1, Vec::new())?, &coordinator_key())?.as_bytes(),
            &[&other, &device.coordinator_recipient],
        )?,
        refused("not addressed to this device"),
    );
    // Sealed to this device, but naming another.
    let mut named = receipt(5, 1, Vec::new())?;
    named.device_id = uuid::Uuid::from_bytes([0x0D; 16]);
    push(
        CASE_NAMES[5],
        sealed(&named, &coordinator_key())?,
        refused("it answers device 0d0d0d0d"),
    );
    push(
        CASE_NAMES[6],
        sealed(&receipt(6, ENTRIES, Vec::new())?, &stranger_key())?,
        refused("a key the mission profile does not list"),
    );
    // Signed for entries 1-2, then changed to say 1-4: same length, the signature fails.
    let text = seal_text(&receipt(7, 2, Vec::new())?, &coordinator_key())?;
    let altered = text.replacen("\"held_through\":2", "\"held_through\":4", 1);
    anyhow::ensure!(altered != text, "the altered case changes the text");
    push(
        CASE_NAMES[7],
        encrypt(altered.as_bytes(), &to_device)?,
        refused("signature is invalid"),
    );
    let whole = sealed(&receipt(8, ENTRIES, Vec::new())?, &coordinator_key())?;
    push(
        CASE_NAMES[8],
        whole[..whole.len() / 2].to_vec(),
        refused("damaged or truncated"),
    );
    push(
        CASE_NAMES[9],
        noise(4096, 9),
        refused("not an age-encrypted file"),
    );
    push(
        CASE_NAMES[10],
        encrypt(&noise(4096, 10), &to_device)?,
        refused("not a receipt"),
    );
    push(
        CASE_NAMES[11],
        sealed(&receipt(11, 99, Vec::new())?, &coordinator_key())?,
        refused("this device's log ends at 4"),
    );
    let mut elsewhere = receipt(12, 1, Vec::new())?;
    elsewhere.mission_id = uuid::Uuid::from_bytes([0x0E; 16]);
    push(
        CASE_NAMES[12],
        sealed(&elsewhere, &coordinator_key())?,
        refused("not this device's"),
    );
    let text = seal_text(&receipt(13, 1, Vec::new())?, &coordinator_key())?;
    let newer = text.replacen("\"version\":1", "\"version\":2", 1);
    anyhow::ensure!(newer != text, "the newer case changes the text");
    push(
        CASE_NAMES[13],
        encrypt(newer.as_bytes(), &to_device)?,
        refused("update Truce"),
    );
    // Signed by the mission's coordinator, but carrying a profile a stranger signed.
    let mut carrying = receipt(14, ENTRIES, Vec::new())?;
    carrying.profile = Some(profile_text(3, &coordinator_recipient, &stranger_key())?);
    push(
        CASE_NAMES[14],
        sealed(&carrying, &coordinator_key())?,
        refused("its profile"),
    );
    push(
        CASE_NAMES[15],
        device.bundle.clone(),
        refused("not addressed to this device"),
    );
    anyhow::ensure!(
        cases
            .iter()
            .map(|c| c.name.as_str())
            .eq(CASE_NAMES.iter().copied()),
        "the cases follow CASE_NAMES"
    );
    Ok(cases)
}
