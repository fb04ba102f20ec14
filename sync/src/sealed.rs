//! The signed, padded, age-encrypted envelope that receipts and enrolment requests share:
//! `{"format", "version", "<body name>": {…}, "signer_key", "signature"}`, the signature over
//! a context line and the body's exact text, padded with spaces to a multiple of [`PADDING`].

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::value::RawValue;

use crate::bundle::parse_device_key;
use crate::device::DeviceSigningKey;

/// The decrypted text is padded with spaces to a multiple of this, so a file's size says
/// little of what it holds.
pub const PADDING: usize = 4096;

/// What one kind of sealed file is called and how it is signed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kind {
    /// Its `format`.
    pub format: &'static str,
    /// The version this build reads and writes.
    pub version: u32,
    /// The name of the signed body's field.
    pub body: &'static str,
    /// The signature's context line.
    pub context: &'static [u8],
    /// The largest decrypted text read.
    pub max_bytes: usize,
}

/// Why a sealed file was refused, before its body's own rules.
#[derive(Debug)]
pub(crate) enum Unsealed {
    NotAge,
    NotForUs,
    Damaged(String),
    OtherFormat(String),
    TooNew(u32),
    Invalid(String),
    Signature,
}

/// The signed, padded text of `body` (its JSON, exactly as signed).
pub(crate) fn seal_text(kind: Kind, body: &str, key: &DeviceSigningKey) -> Result<String, String> {
    let raw = RawValue::from_string(body.to_owned()).map_err(|e| e.to_string())?;
    let signature = key.sign_raw(&message(kind, raw.get()));
    let mut fields: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    fields.insert(
        "signer_key",
        hex::encode(key.verifying_key().as_bytes()).into(),
    );
    fields.insert("signature", hex::encode(signature.to_bytes()).into());
    // `format` and `version` first, so a reader can tell the kind from the first bytes.
    let mut text = format!(
        "{{\"format\":{},\"version\":{},\"{}\":{}",
        serde_json::to_string(kind.format).map_err(|e| e.to_string())?,
        kind.version,
        kind.body,
        raw.get()
    );
    for (name, value) in fields {
        text.push_str(&format!(",\"{name}\":{value}"));
    }
    text.push_str("}\n");
    let padded = text.len().div_ceil(PADDING) * PADDING;
    text.extend(std::iter::repeat_n(' ', padded - text.len()));
    Ok(text)
}

/// Writes `text` to `output` encrypted to every one of `recipients`.
pub(crate) fn encrypt<W: Write>(
    output: W,
    text: &str,
    recipients: &[age::x25519::Recipient],
) -> std::io::Result<W> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(std::io::Error::other)?;
    let mut sealed = encryptor.wrap_output(output)?;
    sealed.write_all(text.as_bytes())?;
    sealed.finish()
}

/// Decrypts with `identity`, reading at most the kind's `max_bytes` of plaintext.
pub(crate) fn decrypt<R: Read>(
    kind: Kind,
    input: R,
    identity: &dyn age::Identity,
) -> Result<Vec<u8>, Unsealed> {
    let max_bytes = kind.max_bytes;
    let mut input = std::io::BufReader::new(input);
    let is_age = input
        .fill_buf()
        .map_err(|e| Unsealed::Damaged(e.to_string()))?
        .starts_with(b"age-encryption.org/");
    if !is_age {
        return Err(Unsealed::NotAge);
    }
    let decryptor = age::Decryptor::new(input)
        .map_err(|e| Unsealed::Damaged(format!("its age header is unreadable: {e}")))?;
    let plain = decryptor
        .decrypt(std::iter::once(identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => Unsealed::NotForUs,
            other => Unsealed::Damaged(other.to_string()),
        })?;
    // A bundle (a coordinator opens those too) is told by its first bytes, before anything
    // more of it is decrypted: the text of a sealed file starts with `{`.
    let mut plain = std::io::BufReader::new(plain);
    let head = plain
        .fill_buf()
        .map_err(|e| Unsealed::Damaged(e.to_string()))?;
    if head.first().is_some_and(|b| *b != b'{') {
        let bundle =
            head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) || head.get(257..262) == Some(b"ustar");
        return Err(Unsealed::OtherFormat(
            if bundle {
                "bundle"
            } else {
                "file of another kind"
            }
            .into(),
        ));
    }
    let mut text = Vec::new();
    plain
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut text)
        .map_err(|e| Unsealed::Damaged(e.to_string()))?;
    if text.len() > max_bytes {
        return Err(Unsealed::Invalid(format!(
            "it is larger than {max_bytes} bytes"
        )));
    }
    Ok(text)
}

/// Checks a decrypted envelope of `kind`: its format (another Truce file is named), version,
/// fields and signature. Returns the body's exact text and the key that signed it.
pub(crate) fn open_text(kind: Kind, text: &[u8]) -> Result<(String, VerifyingKey), Unsealed> {
    if text.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) || text.get(257..262) == Some(b"ustar") {
        return Err(Unsealed::OtherFormat("bundle".into()));
    }
    let text =
        std::str::from_utf8(text).map_err(|_| Unsealed::Damaged("it is not UTF-8 text".into()))?;
    let probe: crate::FormatProbe = serde_json::from_str(text)
        .map_err(|e| Unsealed::Damaged(format!("it is not a Truce file's JSON: {e}")))?;
    if probe.format != kind.format {
        return Err(Unsealed::OtherFormat(if probe.format.is_empty() {
            "file of another kind".into()
        } else {
            format!("`{}`", probe.format.chars().take(40).collect::<String>())
        }));
    }
    if probe.version > kind.version {
        return Err(Unsealed::TooNew(probe.version));
    }
    let fields: BTreeMap<String, &RawValue> =
        serde_json::from_str(text).map_err(|e| Unsealed::Invalid(e.to_string()))?;
    let expected = ["format", "version", kind.body, "signer_key", "signature"];
    if let Some(extra) = fields.keys().find(|k| !expected.contains(&k.as_str())) {
        return Err(Unsealed::Invalid(format!("unknown field `{extra}`")));
    }
    let field = |name: &str| {
        fields
            .get(name)
            .copied()
            .ok_or_else(|| Unsealed::Invalid(format!("missing field `{name}`")))
    };
    let version: u32 = serde_json::from_str(field("version")?.get())
        .map_err(|e| Unsealed::Invalid(e.to_string()))?;
    if version != kind.version {
        return Err(Unsealed::Invalid(format!(
            "version {version} is not supported"
        )));
    }
    let body = field(kind.body)?;
    let signer: String =
        serde_json::from_str(field("signer_key")?.get()).map_err(|_| Unsealed::Signature)?;
    let signature: String =
        serde_json::from_str(field("signature")?.get()).map_err(|_| Unsealed::Signature)?;
    let signer_key = parse_device_key(&signer).ok_or(Unsealed::Signature)?;
    let mut sig = [0u8; 64];
    hex::decode_to_slice(&signature, &mut sig).map_err(|_| Unsealed::Signature)?;
    signer_key
        .verify_strict(&message(kind, body.get()), &Signature::from_bytes(&sig))
        .map_err(|_| Unsealed::Signature)?;
    Ok((body.get().to_owned(), signer_key))
}

fn message(kind: Kind, body: &str) -> Vec<u8> {
    let mut msg = kind.context.to_vec();
    msg.extend_from_slice(body.as_bytes());
    msg
}
