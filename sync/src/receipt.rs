//! Receipts: a coordinator's signed word to one device of which of its entries arrived, which
//! are missing, and the profile in force; one age file each, padded, readable only by the
//! device and the coordinators (`docs/bundle-format.md`).

use std::io::{Read, Write};

use chrono::{DateTime, FixedOffset};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bundle::parse_device_key;
use crate::device::DeviceSigningKey;
use crate::log::MAX_SEQ;
use crate::profile::{Revocation, MAX_PROFILE_BYTES};

/// The `format` of a receipt, the first field of its decrypted text.
pub const FORMAT: &str = "truce-receipt";
/// The receipt format version this build reads and writes.
pub const VERSION: u32 = 1;
/// Domain separation prefix of the signed message.
pub const SIGNATURE_CONTEXT: &[u8] = b"truce-receipt-v1\n";
/// Largest decrypted receipt read: the profile it may carry, and room for the rest.
pub const MAX_RECEIPT_BYTES: usize = MAX_PROFILE_BYTES + 1024 * 1024;
/// Most missing ranges a receipt lists (a device's log with more holes than this is named
/// by its first ones; the next receipt names the rest).
pub const MAX_MISSING_RANGES: usize = 10_000;
/// The decrypted text is padded with spaces to a multiple of this, so a receipt's size says
/// little of how many ranges it names.
pub const PADDING: usize = crate::sealed::PADDING;

/// What a coordinator tells one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Random id of this receipt (32 hex digits): one applied twice is recognised.
    pub receipt_id: String,
    /// The mission's name.
    pub mission: String,
    /// The mission's id (profile version 2).
    pub mission_id: Uuid,
    /// The device it answers.
    pub device_id: Uuid,
    /// That device's Ed25519 key (64 hex digits), as its bundles named it.
    pub device_key: String,
    /// When the coordinator wrote it (UTC, for people: receipts are ordered by what they
    /// confirm, never by a clock).
    pub issued_at: DateTime<FixedOffset>,
    /// The coordinator's name, as the profile lists it.
    pub coordinator: String,
    /// The highest entry the coordinator holds: every entry up to it is held but for
    /// `missing`.
    pub held_through: u64,
    /// The ranges below `held_through` that never arrived, as `[first, last]`, in order.
    #[serde(default)]
    pub missing: Vec<[u64; 2]>,
    /// The signed mission profile in force (its file's text), when the device works under an
    /// older one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Revocations that concern the mission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revocations: Vec<Revocation>,
}

/// A receipt whose signature verified and whose content holds to the rules; who signed it is
/// for the caller to check against its profile.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// The key that signed it.
    pub signer_key: VerifyingKey,
}

/// Why a receipt was refused. Each message names the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Not an age file.
    #[error("not a Truce file: it is not an age-encrypted file")]
    NotAge,
    /// Encrypted, but not to this device (a receipt for another device, or a bundle).
    #[error("this file is not addressed to this device (a receipt for another device, or a bundle for the coordinators)")]
    NotForThisDevice,
    /// Damaged or cut short.
    #[error("the receipt is damaged or truncated: {0}")]
    Damaged(String),
    /// Decrypted, but another kind of Truce file.
    #[error("this file is a {0}, not a receipt")]
    OtherFormat(String),
    /// A newer receipt format.
    #[error("this receipt is format version {found}, and this Truce reads up to version {known}: update Truce to read it")]
    TooNew {
        /// The version the file declares.
        found: u32,
        /// The newest version this build reads.
        known: u32,
    },
    /// The signature does not verify.
    #[error(
        "the receipt's signature is invalid: it was altered, or not signed by the key it names"
    )]
    Signature,
    /// The content breaks a rule.
    #[error("the receipt is invalid: {0}")]
    Invalid(String),
    /// Writing failed.
    #[error("writing the receipt failed: {0}")]
    Io(#[from] std::io::Error),
}

impl Receipt {
    /// Checks the rules a receipt holds to: ids, ranges in order and below `held_through`.
    pub fn validate(&self) -> Result<(), ReceiptError> {
        let bad = |s: String| Err(ReceiptError::Invalid(s));
        if self.receipt_id.len() != 32 || !self.receipt_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return bad("its receipt id is not 32 hex digits".into());
        }
        if parse_device_key(&self.device_key).is_none() {
            return bad("its device key is not an Ed25519 key in hex".into());
        }
        if self.held_through > MAX_SEQ {
            return bad(format!("`held_through` is beyond {MAX_SEQ}"));
        }
        if self.missing.len() > MAX_MISSING_RANGES {
            return bad(format!(
                "it lists {} missing ranges; at most {MAX_MISSING_RANGES}",
                self.missing.len()
            ));
        }
        let mut after = 0u64;
        for &[first, last] in &self.missing {
            if first <= after || last < first || last >= self.held_through {
                return bad(format!(
                    "missing range {first}-{last} is out of order or not below `held_through` ({})",
                    self.held_through
                ));
            }
            after = last;
        }
        if self.revocations.len() > crate::profile::MAX_REVOCATIONS {
            return bad("it lists too many revocations".into());
        }
        for r in &self.revocations {
            crate::profile::check_revocation(r).map_err(ReceiptError::Invalid)?;
        }
        for (what, text) in [
            ("mission", &self.mission),
            ("coordinator", &self.coordinator),
        ] {
            if text.chars().count() > 200 {
                return bad(format!("its {what} name is too long"));
            }
            if let Some(c) = crate::text::line_control(text) {
                return bad(format!(
                    "its {what} name {}",
                    crate::text::line_control_message(c)
                ));
            }
        }
        if self
            .profile
            .as_ref()
            .is_some_and(|p| p.len() > MAX_PROFILE_BYTES)
        {
            return bad("the profile it carries is larger than 1 MiB".into());
        }
        Ok(())
    }

    /// The entries this receipt says the coordinator holds: `1..=held_through` but for
    /// `missing`, as ranges in order.
    pub fn held_ranges(&self) -> Vec<(u64, u64)> {
        let mut held = Vec::new();
        let mut next = 1u64;
        for &[first, last] in &self.missing {
            if first > next {
                held.push((next, first - 1));
            }
            next = last + 1;
        }
        if self.held_through >= next {
            held.push((next, self.held_through));
        }
        held
    }
}

/// How receipts are sealed.
const KIND: crate::sealed::Kind = crate::sealed::Kind {
    format: FORMAT,
    version: VERSION,
    body: "receipt",
    context: SIGNATURE_CONTEXT,
    max_bytes: MAX_RECEIPT_BYTES,
};

/// Signs `receipt` with `key`, pads it, and writes it to `output` encrypted to every one of
/// `recipients` (the device's and the coordinators'). Returns `output`.
pub fn write_receipt<W: Write>(
    output: W,
    receipt: &Receipt,
    key: &DeviceSigningKey,
    recipients: &[age::x25519::Recipient],
) -> Result<W, ReceiptError> {
    let text = seal_text(receipt, key)?;
    Ok(crate::sealed::encrypt(output, &text, recipients)?)
}

/// The signed, padded text of a receipt: what the age file holds.
pub fn seal_text(receipt: &Receipt, key: &DeviceSigningKey) -> Result<String, ReceiptError> {
    receipt.validate()?;
    let body = serde_json::to_string(receipt).map_err(|e| ReceiptError::Invalid(e.to_string()))?;
    crate::sealed::seal_text(KIND, &body, key).map_err(ReceiptError::Invalid)
}

/// Decrypts a receipt with `identity` and checks it: its format, signature and rules.
pub fn open_receipt<R: Read>(
    input: R,
    identity: &dyn age::Identity,
) -> Result<OpenedReceipt, ReceiptError> {
    let text = crate::sealed::decrypt(KIND, input, identity).map_err(refusal)?;
    open_plaintext(&text)
}

/// Checks a decrypted receipt: its format (another Truce file is named), its version, its
/// signature and its rules. The entry point for fuzzing.
pub fn open_plaintext(text: &[u8]) -> Result<OpenedReceipt, ReceiptError> {
    let (body, signer_key) = crate::sealed::open_text(KIND, text).map_err(refusal)?;
    let receipt: Receipt =
        serde_json::from_str(&body).map_err(|e| ReceiptError::Invalid(e.to_string()))?;
    receipt.validate()?;
    Ok(OpenedReceipt {
        receipt,
        signer_key,
    })
}

fn refusal(e: crate::sealed::Unsealed) -> ReceiptError {
    use crate::sealed::Unsealed;
    match e {
        Unsealed::NotAge => ReceiptError::NotAge,
        Unsealed::NotForUs => ReceiptError::NotForThisDevice,
        Unsealed::Damaged(s) => ReceiptError::Damaged(s),
        Unsealed::OtherFormat(s) => ReceiptError::OtherFormat(s),
        Unsealed::TooNew(found) => ReceiptError::TooNew {
            found,
            known: VERSION,
        },
        Unsealed::Invalid(s) => ReceiptError::Invalid(s),
        Unsealed::Signature => ReceiptError::Signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(held_through: u64, missing: Vec<[u64; 2]>) -> Receipt {
        let device = DeviceSigningKey::from_bytes(&[9u8; 32]);
        Receipt {
            receipt_id: "0123456789abcdef0123456789abcdef".into(),
            mission: "Mission East".into(),
            mission_id: Uuid::from_u128(7),
            device_id: Uuid::from_u128(42),
            device_key: hex::encode(device.verifying_key().as_bytes()),
            issued_at: DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z").expect("time"),
            coordinator: "HQ".into(),
            held_through,
            missing,
            profile: None,
            revocations: Vec::new(),
        }
    }

    #[test]
    fn a_receipt_round_trips_to_its_device_and_to_no_one_else() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let device = age::x25519::Identity::generate();
        let coordinator = age::x25519::Identity::generate();
        let stranger = age::x25519::Identity::generate();
        let r = receipt(57, vec![[41, 44], [50, 50]]);
        let file = write_receipt(
            Vec::new(),
            &r,
            &key,
            &[device.to_public(), coordinator.to_public()],
        )
        .expect("writes");
        let opened = open_receipt(&file[..], &device).expect("opens");
        assert_eq!(opened.receipt, r);
        assert_eq!(opened.signer_key, key.verifying_key());
        assert!(open_receipt(&file[..], &coordinator).is_ok());
        assert!(matches!(
            open_receipt(&file[..], &stranger),
            Err(ReceiptError::NotForThisDevice)
        ));
        assert_eq!(
            opened.receipt.held_ranges(),
            vec![(1, 40), (45, 49), (51, 57)]
        );
        // Cut short: damaged, never half-read.
        assert!(matches!(
            open_receipt(&file[..file.len() - 20], &device),
            Err(ReceiptError::Damaged(_))
        ));
        assert!(matches!(
            open_receipt(&b"random bytes"[..], &device),
            Err(ReceiptError::NotAge)
        ));
    }

    proptest::proptest! {
        /// Whatever bytes a stick holds, the reader refuses them without panicking; a real
        /// receipt with one byte changed never verifies as another receipt.
        #[test]
        fn hostile_receipt_text_is_refused_not_panicked_on(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
            at in 0usize..4096,
            flip in 1u8..=255,
        ) {
            let _ = open_plaintext(&bytes);
            let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
            let text = seal_text(&receipt(57, vec![[3, 4]]), &key).expect("seals");
            let mut altered = text.into_bytes();
            let at = at % altered.len();
            altered[at] ^= flip;
            if let Ok(opened) = open_plaintext(&altered) {
                // Only a change in the padding or in insignificant JSON leaves it valid, and
                // then it says exactly what was signed.
                proptest::prop_assert_eq!(opened.receipt, receipt(57, vec![[3, 4]]));
            }
        }
    }

    #[test]
    fn padding_hides_how_many_ranges_a_receipt_names() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let short = seal_text(&receipt(5, vec![]), &key).expect("seals");
        let long = seal_text(&receipt(500, vec![[2, 3], [10, 20], [30, 31]]), &key).expect("seals");
        assert_eq!(short.len(), PADDING);
        assert_eq!(short.len(), long.len());
    }

    #[test]
    fn altered_or_disordered_receipts_are_refused() {
        let key = DeviceSigningKey::from_bytes(&[5u8; 32]);
        let text = seal_text(&receipt(57, vec![]), &key).expect("seals");
        let altered = text.replace("\"held_through\":57", "\"held_through\":99");
        assert!(matches!(
            open_plaintext(altered.as_bytes()),
            Err(ReceiptError::Signature)
        ));
        for missing in [vec![[5, 4]], vec![[3, 4], [2, 2]], vec![[50, 57]]] {
            let text = seal_text(&receipt(57, vec![]), &key).expect("seals");
            let bad = receipt(57, missing.clone());
            assert!(bad.validate().is_err(), "{missing:?}");
            assert!(open_plaintext(text.as_bytes()).is_ok());
        }
        let newer = text.replace("\"version\":1", "\"version\":2");
        let refused = open_plaintext(newer.as_bytes()).expect_err("refused");
        assert!(refused.to_string().contains("update Truce"), "{refused}");
        let bundle = b"{\"format\":\"truce-bundle\",\"version\":1}";
        assert!(matches!(
            open_plaintext(bundle),
            Err(ReceiptError::OtherFormat(f)) if f.contains("truce-bundle")
        ));
    }
}
