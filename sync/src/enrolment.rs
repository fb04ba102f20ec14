//! Enrolment requests: a new device's id, keys, observer and team, signed by the device and
//! sealed to the mission's coordinators, for them to enrol it after comparing its fingerprint
//! with its observer (`docs/bundle-format.md`).

use std::io::{Read, Write};

use chrono::{DateTime, FixedOffset};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bundle::parse_device_key;
use crate::device::DeviceSigningKey;
use crate::sealed::{Kind, Unsealed};

/// The `format` of an enrolment request.
pub const FORMAT: &str = "truce-enrolment";
/// The version this build reads and writes.
pub const VERSION: u32 = 1;
/// Domain separation prefix of the signed message.
pub const SIGNATURE_CONTEXT: &[u8] = b"truce-enrolment-v1\n";
/// Largest decrypted request read.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

const KIND: Kind = Kind {
    format: FORMAT,
    version: VERSION,
    body: "request",
    context: SIGNATURE_CONTEXT,
    max_bytes: MAX_REQUEST_BYTES,
};

/// What a device asks the coordinators to enrol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequest {
    /// The device.
    pub device_id: Uuid,
    /// Its Ed25519 key (64 hex digits): it signs the request and every bundle.
    pub device_key: String,
    /// Its own age recipient: receipts are encrypted to it.
    pub device_recipient: String,
    /// The observer signed in on it.
    pub observer: String,
    /// The observer's team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The mission it asks to join.
    pub mission_id: Uuid,
    /// When it was written (UTC, for people).
    pub created_at: DateTime<FixedOffset>,
}

/// Why a request was refused. Each message names the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnrolmentError {
    /// Not an age file.
    #[error("not a Truce file: it is not an age-encrypted file")]
    NotAge,
    /// Not encrypted to this coordinator.
    #[error("this file is not encrypted to this coordinator's key")]
    WrongRecipient,
    /// Damaged or cut short.
    #[error("the enrolment request is damaged or truncated: {0}")]
    Damaged(String),
    /// Another kind of Truce file.
    #[error("this file is a {0}, not an enrolment request")]
    OtherFormat(String),
    /// A newer format.
    #[error("this enrolment request is format version {0}, and this Truce reads up to version 1: update Truce to read it")]
    TooNew(u32),
    /// The signature does not verify, or is not the device's own key.
    #[error("the enrolment request's signature is invalid: it was altered, or not signed by the device it names")]
    Signature,
    /// The content breaks a rule.
    #[error("the enrolment request is invalid: {0}")]
    Invalid(String),
    /// Writing failed.
    #[error("writing the enrolment request failed: {0}")]
    Io(#[from] std::io::Error),
}

impl EnrolmentRequest {
    /// The request's rules: keys that parse, names of one line.
    pub fn validate(&self) -> Result<(), EnrolmentError> {
        let bad = |s: &str| Err(EnrolmentError::Invalid(s.into()));
        if parse_device_key(&self.device_key).is_none() {
            return bad("its device key is not an Ed25519 key in hex");
        }
        if self.device_recipient.len() > 100
            || self
                .device_recipient
                .parse::<age::x25519::Recipient>()
                .is_err()
        {
            return bad("its device recipient is not an age X25519 recipient");
        }
        for (what, text) in [
            ("observer", Some(&self.observer)),
            ("team", self.team.as_ref()),
        ] {
            let Some(text) = text else { continue };
            if text.trim().is_empty() || text.chars().count() > 100 {
                return Err(EnrolmentError::Invalid(format!(
                    "its {what} name must be 1 to 100 characters"
                )));
            }
            if let Some(c) = crate::text::line_control(text) {
                return Err(EnrolmentError::Invalid(format!(
                    "its {what} name {}",
                    crate::text::line_control_message(c)
                )));
            }
        }
        Ok(())
    }
}

/// Signs `request` with the device's `key` and writes it to `output`, padded and encrypted to
/// every one of `recipients`.
pub fn write_request<W: Write>(
    output: W,
    request: &EnrolmentRequest,
    key: &DeviceSigningKey,
    recipients: &[age::x25519::Recipient],
) -> Result<W, EnrolmentError> {
    request.validate()?;
    if parse_device_key(&request.device_key) != Some(key.verifying_key()) {
        return Err(EnrolmentError::Signature);
    }
    let body =
        serde_json::to_string(request).map_err(|e| EnrolmentError::Invalid(e.to_string()))?;
    let text = crate::sealed::seal_text(KIND, &body, key).map_err(EnrolmentError::Invalid)?;
    Ok(crate::sealed::encrypt(output, &text, recipients)?)
}

/// Decrypts a request with a coordinator's `identity` and checks it; returns it with the
/// device key that signed it (the one it names).
pub fn open_request<R: Read>(
    input: R,
    identity: &dyn age::Identity,
) -> Result<(EnrolmentRequest, VerifyingKey), EnrolmentError> {
    let text = crate::sealed::decrypt(KIND, input, identity).map_err(refusal)?;
    open_plaintext(&text)
}

/// Checks a decrypted request: format, version, signature by the key it names, rules.
pub fn open_plaintext(text: &[u8]) -> Result<(EnrolmentRequest, VerifyingKey), EnrolmentError> {
    let (body, signer) = crate::sealed::open_text(KIND, text).map_err(refusal)?;
    let request: EnrolmentRequest =
        serde_json::from_str(&body).map_err(|e| EnrolmentError::Invalid(e.to_string()))?;
    request.validate()?;
    if parse_device_key(&request.device_key) != Some(signer) {
        return Err(EnrolmentError::Signature);
    }
    Ok((request, signer))
}

fn refusal(e: Unsealed) -> EnrolmentError {
    match e {
        Unsealed::NotAge => EnrolmentError::NotAge,
        Unsealed::NotForUs => EnrolmentError::WrongRecipient,
        Unsealed::Damaged(s) => EnrolmentError::Damaged(s),
        Unsealed::OtherFormat(s) => EnrolmentError::OtherFormat(s),
        Unsealed::TooNew(v) => EnrolmentError::TooNew(v),
        Unsealed::Invalid(s) => EnrolmentError::Invalid(s),
        Unsealed::Signature => EnrolmentError::Signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_opens_for_the_coordinators_and_names_its_signer() {
        let device = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let coordinator = age::x25519::Identity::generate();
        let request = EnrolmentRequest {
            device_id: Uuid::from_u128(9),
            device_key: hex::encode(device.verifying_key().as_bytes()),
            device_recipient: age::x25519::Identity::generate().to_public().to_string(),
            observer: "Ana".into(),
            team: Some("Team 3".into()),
            mission_id: Uuid::from_u128(7),
            created_at: DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z").expect("time"),
        };
        let file = write_request(Vec::new(), &request, &device, &[coordinator.to_public()])
            .expect("writes");
        let (opened, signer) = open_request(&file[..], &coordinator).expect("opens");
        assert_eq!(opened, request);
        assert_eq!(signer, device.verifying_key());
        let stranger = age::x25519::Identity::generate();
        assert!(matches!(
            open_request(&file[..], &stranger),
            Err(EnrolmentError::WrongRecipient)
        ));
        // Signed by another key than the one it names: refused.
        let other = DeviceSigningKey::from_bytes(&[4u8; 32]);
        assert!(matches!(
            write_request(Vec::new(), &request, &other, &[coordinator.to_public()]),
            Err(EnrolmentError::Signature)
        ));
        // A receipt is not a request.
        let receipt_text = br#"{"format":"truce-receipt","version":1}"#;
        assert!(matches!(
            open_plaintext(receipt_text),
            Err(EnrolmentError::OtherFormat(_))
        ));
    }
}
