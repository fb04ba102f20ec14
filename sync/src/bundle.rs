//! Bundles: a contiguous range of one device's log, signed by the device and encrypted with age
//! to the mission's coordinators. Written and read as streams, with hard limits.
//!
//! Layers, outside in (see docs/bundle-format.md): an age file (X25519 recipients) whose
//! plaintext is, in version 1, a zstd frame whose content is JSON Lines: one manifest line, one
//! line per entry, one signature line; in version 2 (a bundle that carries attachments), a tar
//! archive of those JSON Lines without the signature line, zstd-compressed and cut into
//! numbered members, then each attachment's original bytes, then the signature (see
//! [`crate::archive`]). Everything, including the device id, is inside the encryption.

use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use chrono::{DateTime, FixedOffset};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::archive::{Archive, Member, MemberStream, Members};
use crate::device::DeviceSigningKey;
use crate::log::{entry_hash_of_bytes, EntryHash, LogEntry, StoredEntry, MAX_SEQ};

/// The `format` value of a bundle manifest.
pub const FORMAT: &str = "truce-bundle";
/// The newest bundle format version this code writes and reads. It writes version 1 unless
/// the bundle carries attachments.
pub const VERSION: u32 = 2;
/// Domain separation prefix of the signed message, version 1.
pub const SIGNATURE_CONTEXT: &[u8] = b"truce-bundle-v1\n";
/// Domain separation prefix of the signed message, version 2.
pub const SIGNATURE_CONTEXT_V2: &[u8] = b"truce-bundle-v2\n";
/// The feature of a version-2 bundle that carries attachments.
pub const FEATURE_ATTACHMENTS: &str = "attachments";
/// The version-2 feature of a text-first bundle: attachments its records name are left for a
/// later bundle (`pending_attachments` in the manifest).
pub const FEATURE_PENDING_ATTACHMENTS: &str = "pending_attachments";
/// The `features` of a version-2 bundle this build implements.
pub const KNOWN_FEATURES: &[&str] = &[
    FEATURE_ATTACHMENTS,
    FEATURE_PENDING_ATTACHMENTS,
    FEATURE_RECEIPTS,
];
/// The version-2 feature of a bundle that says where receipts go back to (`return_path`: the
/// device's age recipient, its team, the mission id and the profile it works under).
pub const FEATURE_RECEIPTS: &str = "receipts";
/// The first bytes of a zstd frame: a version-1 body.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// zstd level of bundles: against level 9, export runs 1.6 times faster for 88 instead of 79
/// bytes per typical observation, well under the 150 targeted (docs/performance.md).
const COMPRESSION_LEVEL: i32 = 3;

/// Hard limits on what a bundle may contain; anything larger is refused before it costs much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most plaintext bytes after decompression.
    pub max_plain_bytes: u64,
    /// Longest line (manifest, entry or signature), in bytes.
    pub max_line_bytes: usize,
    /// Most entries in one bundle.
    pub max_entries: u64,
    /// log2 of the largest zstd window accepted (bounds decoder memory).
    pub max_window_log: u32,
    /// Largest attachment, in bytes.
    pub max_attachment_bytes: u64,
    /// Most attachment bytes in one bundle.
    pub max_attachments_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_plain_bytes: 2 * 1024 * 1024 * 1024,
            max_line_bytes: 256 * 1024,
            max_entries: 5_000_000,
            max_window_log: 23,
            max_attachment_bytes: crate::attachment::MAX_ATTACHMENT_BYTES,
            max_attachments_total: 4 * 1024 * 1024 * 1024,
        }
    }
}

/// The first line of a bundle: who sent it and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `truce-bundle`.
    pub format: String,
    /// 1, or 2 when the bundle carries attachments.
    pub version: u32,
    /// Version 2: what a reader must understand (`attachments`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Random id of this bundle (also in its file name).
    pub bundle_id: String,
    /// The device whose log this is.
    pub device_id: Uuid,
    /// The device's Ed25519 public key, 64 hex digits.
    pub device_key: String,
    /// The observer signed in on the device.
    pub observer: String,
    /// The mission, from the profile.
    pub mission: String,
    /// When the bundle was written.
    pub created_at: DateTime<FixedOffset>,
    /// First sequence number in the bundle.
    pub first_seq: u64,
    /// Last sequence number in the bundle.
    pub last_seq: u64,
    /// Number of entries (last_seq - first_seq + 1).
    pub entry_count: u64,
    /// Version 2: how many attachment members follow the entries, and their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<AttachmentsSummary>,
    /// Version 2 with `pending_attachments` (a text-first export): the SHA-256 (hex) of the
    /// attachments records of this bundle name that it leaves for a later bundle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_attachments: Vec<String>,
    /// Version 2 with `receipts`: where the coordinators' receipts go back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_path: Option<ReturnPath>,
}

/// Version 2, feature `receipts`: what a coordinator needs to answer the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnPath {
    /// The device's own age recipient (`age1...`): receipts are encrypted to it.
    pub device_recipient: String,
    /// The observer's team, if the device names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The mission's id, from the device's profile.
    pub mission_id: uuid::Uuid,
    /// The sequence of the profile the device works under: a coordinator sends a newer one
    /// back with its receipt.
    pub profile_sequence: u64,
}

/// What a version-2 bundle announces of its attachments, checked before any is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsSummary {
    /// Attachment members.
    pub count: u64,
    /// Their bytes together.
    pub bytes: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureLine {
    signature: String,
}

/// Why a bundle was refused. Each message names the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not an age file at all.
    #[error("not a Truce bundle: it is not an age-encrypted file ({0})")]
    NotABundle(String),
    /// Decrypted, but another kind of Truce file (a receipt, an enrolment request).
    #[error("this file is a {0}, not a bundle")]
    OtherFile(String),
    /// Encrypted, but not to this coordinator.
    #[error("this bundle is not encrypted to this coordinator's key (wrong recipient)")]
    WrongRecipient,
    /// The encrypted stream failed its authentication or ended early.
    #[error("the bundle is damaged or truncated: {0}")]
    Damaged(String),
    /// The compressed content is invalid or needs too much memory.
    #[error("the bundle's compressed content is invalid: {0}")]
    Decompress(String),
    /// Over one of the limits.
    #[error("the bundle is too large: {0}")]
    TooLarge(String),
    /// The manifest line is missing or malformed.
    #[error("the bundle's manifest is invalid: {0}")]
    Manifest(String),
    /// An entry line is malformed, out of order or altered. Named by the sequence number the
    /// device log gives it (what `truce devices` and the gaps speak of), not its position.
    #[error("the bundle's entry {seq} (entry {index} of this bundle) is invalid: {reason}")]
    Entry {
        /// Position in the bundle, from 1.
        index: u64,
        /// The sequence number that line holds, or should hold, in the device's log.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// A bundle of a format version this build does not read: Truce needs updating.
    #[error("this bundle is format version {found}, and this Truce reads up to version {known}: update Truce to import it (nothing was imported; the file is kept)")]
    TooNew {
        /// The version the manifest declares.
        found: u32,
        /// The newest version this build reads.
        known: u32,
    },
    /// The signature line is missing or does not verify.
    #[error("the bundle's signature is {0}")]
    Signature(&'static str),
    /// A version-2 bundle that uses a feature this build does not implement.
    #[error("this bundle uses “{0}”, which this Truce does not know: update Truce to import it (nothing was imported; the file is kept)")]
    UnknownFeature(String),
    /// The archive of a version-2 bundle, or one of its attachments, breaks the format.
    #[error("the bundle's archive is invalid: {0}")]
    Archive(String),
    /// Writing or reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

fn hex_key(key: &VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}

/// Parses a device public key from 64 hex digits.
pub fn parse_device_key(text: &str) -> Option<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// A writer that hashes every byte that goes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What the sealing thread writes through: every byte of the plaintext stream is hashed (for the
/// signature), compressed and encrypted there.
type Sealing<W> = Hashing<zstd::Encoder<'static, Body<W>>>;

/// Where the compressed JSON Lines go: straight into age (version 1), or cut into the members
/// of a tar archive inside age (version 2).
enum Body<W: Write> {
    Plain(age::stream::StreamWriter<W>),
    Tar(Members<age::stream::StreamWriter<W>>),
}

impl<W: Write> Write for Body<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Body::Plain(w) => w.write(buf),
            Body::Tar(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Body::Plain(w) => w.flush(),
            Body::Tar(w) => w.flush(),
        }
    }
}

/// A version-2 bundle after its entries: the archive, the SHA-256 of the JSON Lines, and the
/// attachments written so far.
struct Closed<W: Write> {
    digest: [u8; 32],
    archive: Archive<age::stream::StreamWriter<W>>,
    hashes: Vec<[u8; 32]>,
    bytes: u64,
}

/// Bytes of entry lines handed to the sealing thread at a time.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks the caller may be ahead of the sealing thread by (bounds the memory an export holds).
const CHUNKS_AHEAD: usize = 4;

/// An entry whose hash the sealing thread checks: its record is `record` of the chunk it came in.
struct HashCheck {
    index: u64,
    seq: u64,
    prev: EntryHash,
    hash: EntryHash,
    record: std::ops::Range<usize>,
}

/// What the caller's thread hands over: entry lines, and the entries among them to check.
type Chunk = (Vec<u8>, Vec<HashCheck>);

/// Streams a bundle out: call [`BundleWriter::entry`] for each entry in order, then
/// [`BundleWriter::finish`].
///
/// Two threads share the work: the caller's reads the journal, checks each entry's place in the
/// chain and serializes it; a sealing thread checks each entry's hash against the record bytes
/// as serialized, hashes the stream, compresses it and encrypts it into the output.
pub struct BundleWriter<W: Write + Send + 'static> {
    manifest: Manifest,
    next_seq: u64,
    prev: Option<EntryHash>,
    /// Entry lines not yet handed over, serialized here first so the hash and the compressor
    /// see large writes instead of one per JSON token.
    chunk: Vec<u8>,
    checks: Vec<HashCheck>,
    to_sealer: Option<SyncSender<Chunk>>,
    sealer: Option<JoinHandle<Result<Sealing<W>, BundleError>>>,
    /// Version 2, once the entries are closed.
    closed: Option<Closed<W>>,
}

impl<W: Write + Send + 'static> BundleWriter<W> {
    /// Starts a bundle for `manifest`, encrypted to every recipient.
    pub fn new(
        output: W,
        recipients: &[age::x25519::Recipient],
        manifest: Manifest,
    ) -> Result<Self, BundleError> {
        if recipients.is_empty() {
            return Err(BundleError::Manifest(
                "the mission profile lists no coordinator recipients".into(),
            ));
        }
        check_version_fields(&manifest)?;
        if manifest.entry_count == 0
            || manifest.first_seq == 0
            || manifest.last_seq < manifest.first_seq
            || manifest.last_seq > MAX_SEQ
            || manifest.last_seq + 1 - manifest.first_seq != manifest.entry_count
        {
            return Err(BundleError::Manifest(
                "the range of entries is empty or inconsistent".into(),
            ));
        }
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| BundleError::Manifest(e.to_string()))?;
        let sealed = encryptor.wrap_output(output)?;
        let body = if manifest.version >= 2 {
            Body::Tar(Members::new(sealed))
        } else {
            Body::Plain(sealed)
        };
        let mut encoder = zstd::Encoder::new(body, COMPRESSION_LEVEL)?;
        encoder.window_log(20)?;
        let mut out = Hashing {
            inner: encoder,
            hasher: Sha256::new(),
        };
        serde_json::to_writer(&mut out, &manifest).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        let (to_sealer, chunks) = sync_channel::<Chunk>(CHUNKS_AHEAD);
        let sealer = std::thread::Builder::new()
            .name("bundle-sealer".into())
            .spawn(move || {
                for (chunk, checks) in chunks {
                    for check in checks {
                        let record = chunk.get(check.record).unwrap_or_default();
                        if entry_hash_of_bytes(check.seq, &check.prev, record) != check.hash {
                            return Err(BundleError::Entry {
                                index: check.index,
                                seq: check.seq,
                                reason: "the device log's chain is broken".into(),
                            });
                        }
                    }
                    out.write_all(&chunk)?;
                }
                Ok(out)
            })?;
        Ok(BundleWriter {
            next_seq: manifest.first_seq,
            manifest,
            prev: None,
            chunk: Vec::with_capacity(CHUNK_BYTES + 64 * 1024),
            checks: Vec::new(),
            to_sealer: Some(to_sealer),
            sealer: Some(sealer),
            closed: None,
        })
    }

    /// Version 2: appends an attachment after the entries (every entry written first): `size`
    /// bytes read from `data`, which must hash to `sha256_hex`, the hash a record of the bundle
    /// names.
    pub fn attachment(
        &mut self,
        sha256_hex: &str,
        size: u64,
        data: &mut dyn Read,
    ) -> Result<(), BundleError> {
        if self.manifest.version < 2 {
            return Err(BundleError::Manifest(
                "a version-1 bundle carries no attachments".into(),
            ));
        }
        self.close_entries()?;
        let closed = self
            .closed
            .as_mut()
            .ok_or_else(|| io::Error::other("the bundle's entries are not closed"))?;
        let got = closed.archive.attachment(sha256_hex, size, data)?;
        if hex::encode(got) != sha256_hex {
            return Err(BundleError::Archive(format!(
                "attachment {sha256_hex}: its bytes do not match its hash"
            )));
        }
        closed.hashes.push(got);
        closed.bytes += size;
        Ok(())
    }

    /// Version 2: ends the compressed entries (their last member) and keeps the archive for
    /// the attachments and the signature.
    fn close_entries(&mut self) -> Result<(), BundleError> {
        if self.closed.is_some() {
            return Ok(());
        }
        if self.next_seq != self.manifest.last_seq + 1 {
            return Err(BundleError::Manifest(
                "fewer entries were written than the manifest announces".into(),
            ));
        }
        self.hand_over()?;
        let mut out = self.join_sealer()?;
        let digest: [u8; 32] = std::mem::take(&mut out.hasher).finalize().into();
        let archive = match out.inner.finish()? {
            Body::Tar(members) => members.archive()?,
            Body::Plain(_) => {
                return Err(BundleError::Manifest(
                    "a version-1 bundle has no archive".into(),
                ))
            }
        };
        self.closed = Some(Closed {
            digest,
            archive,
            hashes: Vec::new(),
            bytes: 0,
        });
        Ok(())
    }

    /// Appends the next entry; entries must be contiguous and chained.
    pub fn entry(&mut self, entry: &LogEntry) -> Result<(), BundleError> {
        self.stored_entry(StoredEntry::from(entry))
    }

    /// Appends the next entry as a journal holds it; entries must be contiguous and chained.
    /// Its record is not parsed here: the sealing thread checks its hash against the bytes
    /// written, and refuses the bundle if they differ.
    pub fn stored_entry(&mut self, entry: StoredEntry<'_>) -> Result<(), BundleError> {
        let index = entry.seq.wrapping_sub(self.manifest.first_seq) + 1;
        let seq = entry.seq;
        let bad = |reason: &str| BundleError::Entry {
            index,
            seq,
            reason: reason.into(),
        };
        if entry.seq != self.next_seq || entry.seq > self.manifest.last_seq {
            return Err(bad("out of sequence"));
        }
        if self.prev.is_some_and(|p| p != entry.prev_hash) {
            return Err(bad("the device log's chain is broken"));
        }
        let record = entry_line(&mut self.chunk, &entry);
        self.checks.push(HashCheck {
            index,
            seq: entry.seq,
            prev: entry.prev_hash,
            hash: entry.hash,
            record,
        });
        self.prev = Some(entry.hash);
        self.next_seq += 1;
        if self.chunk.len() >= CHUNK_BYTES {
            self.hand_over()?;
        }
        Ok(())
    }

    /// Sends the lines serialized so far to the sealing thread.
    fn hand_over(&mut self) -> Result<(), BundleError> {
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_BYTES + 64 * 1024));
        let checks = std::mem::take(&mut self.checks);
        let sent = self.to_sealer.as_ref().map(|to| to.send((chunk, checks)));
        match sent {
            Some(Ok(())) => Ok(()),
            // The sealing thread stopped: its error says why.
            _ => Err(self.join_sealer().err().unwrap_or_else(|| {
                io::Error::other("the bundle's sealing thread stopped early").into()
            })),
        }
    }

    /// Waits for the sealing thread to write everything handed over, and takes its writer back.
    fn join_sealer(&mut self) -> Result<Sealing<W>, BundleError> {
        self.to_sealer = None;
        let sealer = self
            .sealer
            .take()
            .ok_or_else(|| io::Error::other("the bundle's sealing thread already stopped"))?;
        match sealer.join() {
            Ok(written) => written,
            Err(_) => Err(io::Error::other("the bundle's sealing thread panicked").into()),
        }
    }

    /// Signs everything written so far with the device key and closes the layers.
    pub fn finish(mut self, key: &DeviceSigningKey) -> Result<W, BundleError> {
        if self.next_seq != self.manifest.last_seq + 1 {
            return Err(BundleError::Manifest(
                "fewer entries were written than the manifest announces".into(),
            ));
        }
        if hex_key(&key.verifying_key()) != self.manifest.device_key {
            return Err(BundleError::Manifest(
                "the signing key is not the manifest's device key".into(),
            ));
        }
        if self.manifest.version >= 2 {
            return self.finish_archive(key);
        }
        self.hand_over()?;
        let mut out = self.join_sealer()?;
        let digest = std::mem::take(&mut out.hasher).finalize();
        let signature = key.sign_raw(&signed_message(&digest));
        let line = SignatureLine {
            signature: hex::encode(signature.to_bytes()),
        };
        serde_json::to_writer(&mut out.inner, &line).map_err(io::Error::other)?;
        out.inner.write_all(b"\n")?;
        match out.inner.finish()? {
            Body::Plain(sealed) => Ok(sealed.finish()?),
            Body::Tar(_) => Err(BundleError::Manifest(
                "a version-2 bundle ends with its archive".into(),
            )),
        }
    }

    /// Version 2: checks the attachments against the manifest, signs, and closes the archive
    /// and the encryption.
    fn finish_archive(mut self, key: &DeviceSigningKey) -> Result<W, BundleError> {
        self.close_entries()?;
        let closed = self
            .closed
            .take()
            .ok_or_else(|| io::Error::other("the bundle's entries are not closed"))?;
        let announced = self
            .manifest
            .attachments
            .unwrap_or(AttachmentsSummary { count: 0, bytes: 0 });
        if announced.count != closed.hashes.len() as u64 || announced.bytes != closed.bytes {
            return Err(BundleError::Manifest(format!(
                "the manifest announces {} attachments of {} bytes, and {} of {} were written",
                announced.count,
                announced.bytes,
                closed.hashes.len(),
                closed.bytes
            )));
        }
        let signature = key.sign_raw(&signed_message_v2(&closed.digest, &closed.hashes));
        let line = serde_json::to_vec(&SignatureLine {
            signature: hex::encode(signature.to_bytes()),
        })
        .map_err(io::Error::other)?;
        let sealed = closed.archive.finish(&line)?;
        Ok(sealed.finish()?)
    }
}

impl<W: Write + Send + 'static> Drop for BundleWriter<W> {
    /// A bundle abandoned half-way: the sealing thread is stopped and waited for, so its output
    /// (a temporary file, say) is released before the caller goes on.
    fn drop(&mut self) {
        if self.sealer.is_some() {
            let _ = self.join_sealer();
        }
    }
}

fn signed_message(digest: &[u8]) -> Vec<u8> {
    let mut msg = SIGNATURE_CONTEXT.to_vec();
    msg.extend_from_slice(digest);
    msg
}

/// What a version-2 bundle's signature covers: the context, the SHA-256 of the JSON Lines
/// (manifest and entries), then the SHA-256 of each attachment in the order of the archive.
pub fn signed_message_v2(lines_digest: &[u8; 32], attachments: &[[u8; 32]]) -> Vec<u8> {
    let mut msg = SIGNATURE_CONTEXT_V2.to_vec();
    msg.extend_from_slice(lines_digest);
    for hash in attachments {
        msg.extend_from_slice(hash);
    }
    msg
}

/// Version 1 has no `features` or `attachments`; version 2 lists only known features, and
/// announces its attachments exactly when it lists the feature.
fn check_version_fields(m: &Manifest) -> Result<(), BundleError> {
    match m.version {
        1 => {
            if !m.features.is_empty()
                || m.attachments.is_some()
                || !m.pending_attachments.is_empty()
                || m.return_path.is_some()
            {
                return Err(BundleError::Manifest(
                    "a version-1 manifest has no `features`, `attachments`, `pending_attachments` or `return_path`"
                        .into(),
                ));
            }
        }
        2 => {
            if let Some(unknown) = m
                .features
                .iter()
                .find(|f| !KNOWN_FEATURES.contains(&f.as_str()))
            {
                return Err(BundleError::UnknownFeature(unknown.clone()));
            }
            let listed = m.features.iter().any(|f| f == FEATURE_ATTACHMENTS);
            if listed != m.attachments.is_some() {
                return Err(BundleError::Manifest(
                    "`attachments` and the feature \"attachments\" go together".into(),
                ));
            }
            check_return_path(m)?;
            let pending = m.features.iter().any(|f| f == FEATURE_PENDING_ATTACHMENTS);
            let has_pending = !m.pending_attachments.is_empty();
            if pending != has_pending || (pending && !listed) {
                return Err(BundleError::Manifest(
                    "`pending_attachments` goes with the features \"attachments\" and \"pending_attachments\"".into(),
                ));
            }
            let max = (crate::attachment::MAX_ATTACHMENTS as u64).saturating_mul(m.entry_count);
            if m.pending_attachments.len() as u64 > max {
                return Err(BundleError::TooLarge(format!(
                    "{} pending attachments for {} entries",
                    m.pending_attachments.len(),
                    m.entry_count
                )));
            }
            if let Some(bad) = m.pending_attachments.iter().find(|h| {
                h.len() != 64
                    || !h
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            }) {
                return Err(BundleError::Manifest(format!(
                    "pending attachment {:?} is not a SHA-256 in lowercase hex",
                    bad.chars().take(80).collect::<String>()
                )));
            }
        }
        other => {
            return Err(BundleError::Manifest(format!(
                "format version {other} is not supported"
            )))
        }
    }
    Ok(())
}

/// The feature `receipts` goes with `return_path`, whose recipient is an age recipient, whose
/// team a name and whose numbers are in range.
fn check_return_path(m: &Manifest) -> Result<(), BundleError> {
    let listed = m.features.iter().any(|f| f == FEATURE_RECEIPTS);
    if listed != m.return_path.is_some() {
        return Err(BundleError::Manifest(
            "`return_path` and the feature \"receipts\" go together".into(),
        ));
    }
    let Some(path) = &m.return_path else {
        return Ok(());
    };
    if path.device_recipient.len() > 100
        || path
            .device_recipient
            .parse::<age::x25519::Recipient>()
            .is_err()
    {
        return Err(BundleError::Manifest(
            "its `return_path.device_recipient` is not an age X25519 recipient".into(),
        ));
    }
    if !(1..=MAX_SEQ).contains(&path.profile_sequence) {
        return Err(BundleError::Manifest(format!(
            "its `return_path.profile_sequence` must be from 1 to {MAX_SEQ}"
        )));
    }
    if let Some(team) = &path.team {
        if team.chars().count() > 100 {
            return Err(BundleError::Manifest("its team name is too long".into()));
        }
        if let Some(c) = crate::text::line_control(team) {
            return Err(BundleError::Manifest(format!(
                "its team name {}",
                crate::text::line_control_message(c)
            )));
        }
    }
    Ok(())
}

/// What the decrypted text of a file that is not a bundle says it is, from its first bytes.
fn other_file_kind(head: &[u8]) -> String {
    let prefix = b"{\"format\":\"";
    let name: Vec<u8> = head
        .strip_prefix(&prefix[..])
        .map(|rest| {
            rest.iter()
                .take(40)
                .take_while(|b| **b != b'"')
                .copied()
                .collect()
        })
        .unwrap_or_default();
    match name.as_slice() {
        b"truce-receipt" => "Truce receipt".into(),
        b"truce-enrolment" => "Truce enrolment request".into(),
        _ => "JSON file of another kind".into(),
    }
}

/// What a bundle's signature was verified over: all an auditor needs, with the signed lines,
/// to check it again (`docs/bundle-format.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The bundle's format version (the signature's context: `truce-bundle-v1` or `-v2`).
    pub version: u32,
    /// SHA-256 of the signed JSON Lines (manifest and entries, each with its newline).
    pub lines_digest: [u8; 32],
    /// Version 2: the SHA-256 of each attachment, in the order the bundle carried them.
    pub attachments: Vec<[u8; 32]>,
    /// The device's Ed25519 signature.
    pub signature: [u8; 64],
}

impl Verified {
    /// The exact message the device signed.
    pub fn signed_message(&self) -> Vec<u8> {
        if self.version >= 2 {
            signed_message_v2(&self.lines_digest, &self.attachments)
        } else {
            signed_message(&self.lines_digest)
        }
    }
}

/// A version-2 bundle's archive, shared by the entries' decoder and the reader.
type SharedMembers<'a> = Rc<RefCell<MemberStream<Box<dyn Read + 'a>>>>;

/// Reads a bundle as a stream: [`BundleReader::manifest`], then [`BundleReader::next_entry`]
/// until it returns `None`, which it does only after the signature has been verified. A caller
/// must treat any entry as provisional until then.
pub struct BundleReader<'a> {
    /// Version 2: the archive the entries came from, read on for the attachments.
    members: Option<SharedMembers<'a>>,
    /// Version 2: the SHA-256 of the JSON Lines, once they ended.
    lines_digest: Option<[u8; 32]>,
    /// Version 2: the attachments read so far, in order, and their bytes.
    attachments: Vec<[u8; 32]>,
    attachment_bytes: u64,
    /// Version 2: the attachment being read: its hash, the hash of what was read, bytes left,
    /// its size.
    current: Option<([u8; 32], Sha256, u64, u64)>,
    lines: BufReader<io::Take<Box<dyn Read + 'a>>>,
    limits: Limits,
    hasher: Sha256,
    /// The manifest line, as signed (for [`BundleReader::keep_signed_lines`]).
    manifest_line: Vec<u8>,
    /// Where the signed lines are copied as they are read, if anywhere.
    signed_copy: Option<&'a mut dyn Write>,
    /// The verified signature, once verified.
    signature: Option<[u8; 64]>,
    manifest: Manifest,
    device_key: VerifyingKey,
    read: u64,
    prev: Option<EntryHash>,
    done: bool,
    buf: Vec<u8>,
}

impl<'a> BundleReader<'a> {
    /// Decrypts with `identity` (one key, or a set that tries each) and reads the manifest.
    pub fn open<R: Read + 'a>(
        input: R,
        identity: &dyn age::Identity,
        limits: Limits,
    ) -> Result<Self, BundleError> {
        let mut input = BufReader::new(input);
        let is_age = input
            .fill_buf()
            .map_err(read_error)?
            .starts_with(b"age-encryption.org/");
        if !is_age {
            return Err(BundleError::NotABundle(
                "it does not start with an age header".into(),
            ));
        }
        let decryptor = age::Decryptor::new(input)
            .map_err(|e| BundleError::Damaged(format!("its age header is unreadable: {e}")))?;
        let plain = decryptor
            .decrypt(std::iter::once(identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => BundleError::WrongRecipient,
                age::DecryptError::Io(io) => BundleError::Damaged(io.to_string()),
                other => BundleError::Damaged(other.to_string()),
            })?;
        let mut plain = BufReader::new(plain);
        // A receipt or an enrolment request is JSON text inside the same age layer: named,
        // not read as a damaged bundle.
        let head = plain.fill_buf().map_err(read_error)?;
        if head.first() == Some(&b'{') {
            return Err(BundleError::OtherFile(other_file_kind(head)));
        }
        let is_zstd = plain
            .fill_buf()
            .map_err(read_error)?
            .starts_with(&ZSTD_MAGIC);
        if is_zstd {
            let reader = BundleReader::from_plaintext(zstd_decoder(plain, &limits)?, limits)?;
            if reader.manifest.version != 1 {
                return Err(BundleError::Manifest(
                    "a version-2 manifest in a version-1 body (a version-2 bundle is a tar archive)".into(),
                ));
            }
            return Ok(reader);
        }
        BundleReader::from_archive(plain, limits)
    }

    /// Reads a version-2 bundle's inner layer (the tar archive, already decrypted): its
    /// manifest now, its entries, attachments and signature as the caller asks. The entry
    /// point for fuzzing the version-2 reader.
    pub fn from_archive<P: Read + 'a>(plain: P, limits: Limits) -> Result<Self, BundleError> {
        let boxed: Box<dyn Read + 'a> = Box::new(plain);
        let members = Rc::new(RefCell::new(MemberStream::new(boxed)));
        let first = members
            .borrow_mut()
            .next_member(crate::archive::ENTRIES_CHUNK as u64)
            .map_err(BundleError::Archive)?;
        if !matches!(first, Some((Member::Entries(0), _))) {
            return Err(BundleError::Archive(
                "it does not begin with the compressed entries (entries.jsonl.zst.00000)".into(),
            ));
        }
        let entries = EntriesReader {
            members: members.clone(),
            next: 1,
            max_member: (crate::archive::ENTRIES_CHUNK as u64)
                .max(limits.max_attachment_bytes)
                .max(crate::archive::signature_limit()),
        };
        let mut reader = BundleReader::from_plaintext(zstd_decoder(entries, &limits)?, limits)?;
        if reader.manifest.version < 2 {
            return Err(BundleError::Manifest(
                "a version-1 manifest in a version-2 archive".into(),
            ));
        }
        reader.members = Some(members);
        Ok(reader)
    }

    /// Reads the inner layer (JSON Lines, already decrypted and decompressed) and its manifest.
    /// Every check but decryption still applies, the signature included; this is the entry point
    /// for fuzzing and for tools that decrypted a bundle with stock `age` and `zstd`.
    pub fn from_plaintext<P: Read + 'a>(plain: P, limits: Limits) -> Result<Self, BundleError> {
        let boxed: Box<dyn Read + 'a> = Box::new(plain);
        let lines = BufReader::new(boxed.take(limits.max_plain_bytes + 1));
        let mut reader = BundleReader {
            members: None,
            lines_digest: None,
            attachments: Vec::new(),
            attachment_bytes: 0,
            current: None,
            lines,
            limits,
            hasher: Sha256::new(),
            manifest_line: Vec::new(),
            signed_copy: None,
            signature: None,
            manifest: Manifest {
                format: String::new(),
                version: 0,
                bundle_id: String::new(),
                device_id: Uuid::nil(),
                device_key: String::new(),
                observer: String::new(),
                mission: String::new(),
                created_at: DateTime::UNIX_EPOCH.fixed_offset(),
                first_seq: 0,
                last_seq: 0,
                entry_count: 0,
                features: Vec::new(),
                attachments: None,
                pending_attachments: Vec::new(),
                return_path: None,
            },
            device_key: VerifyingKey::default(),
            read: 0,
            prev: None,
            done: false,
            buf: Vec::new(),
        };
        let line = reader
            .line()?
            .ok_or_else(|| BundleError::Manifest("the bundle is empty".into()))?;
        // The version first, read leniently: a newer manifest has fields this build does not
        // know, and must be reported as needing a newer Truce, not as an unknown field.
        if let Ok(probe) = serde_json::from_slice::<crate::FormatProbe>(&line) {
            if probe.format == FORMAT && probe.version > VERSION {
                return Err(BundleError::TooNew {
                    found: probe.version,
                    known: VERSION,
                });
            }
            // A feature this build lacks comes with fields it does not know: name the feature.
            if let Some(unknown) = probe
                .features
                .iter()
                .find(|f| !KNOWN_FEATURES.contains(&f.as_str()))
            {
                if probe.format == FORMAT {
                    return Err(BundleError::UnknownFeature(unknown.clone()));
                }
            }
        }
        let manifest: Manifest =
            serde_json::from_slice(&line).map_err(|e| BundleError::Manifest(e.to_string()))?;
        check_manifest(&manifest, &limits)?;
        reader.device_key = parse_device_key(&manifest.device_key).ok_or_else(|| {
            BundleError::Manifest("the device key is not a valid Ed25519 public key".into())
        })?;
        reader.hasher.update(&line);
        reader.manifest_line = line;
        reader.manifest = manifest;
        Ok(reader)
    }

    /// Copies the lines the signature covers (the manifest line and every entry line, each
    /// with its newline, exactly as read) to `copy` as they are read: a coordinator keeps them
    /// so that an evidence package can show the signed text. Call before the first entry.
    pub fn keep_signed_lines(&mut self, copy: &'a mut dyn Write) -> io::Result<()> {
        if self.read > 0 {
            return Err(io::Error::other(
                "the signed lines are kept from the start: ask before reading entries",
            ));
        }
        copy.write_all(&self.manifest_line)?;
        self.signed_copy = Some(copy);
        Ok(())
    }

    /// Hashes a line the signature covers, and copies it where asked.
    fn signed_line(&mut self, line: &[u8]) -> Result<(), BundleError> {
        self.hasher.update(line);
        if let Some(copy) = self.signed_copy.as_mut() {
            copy.write_all(line)?;
        }
        Ok(())
    }

    /// The manifest (not yet authenticated until the signature is verified).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The device's public key from the manifest.
    pub fn device_key(&self) -> &VerifyingKey {
        &self.device_key
    }

    /// The next entry, checked for order, chain and hash; `None` once the signature verified.
    pub fn next_entry(&mut self) -> Result<Option<LogEntry>, BundleError> {
        if self.done {
            return Ok(None);
        }
        let index = self.read + 1;
        if self.members.is_some() && self.read == self.manifest.entry_count {
            // Version 2: the JSON Lines end with the last entry; the signature comes last.
            if self.line()?.is_some() {
                return Err(BundleError::Manifest(
                    "there is data after the last entry".into(),
                ));
            }
            self.lines_digest = Some(std::mem::take(&mut self.hasher).finalize().into());
            self.done = true;
            return Ok(None);
        }
        let line = self
            .line()?
            .ok_or(BundleError::Signature("missing: the bundle ends early"))?;
        if self.read == self.manifest.entry_count {
            self.verify_signature(&line)?;
            self.done = true;
            return Ok(None);
        }
        let seq = self.manifest.first_seq.saturating_add(self.read);
        let bad = |reason: String| BundleError::Entry { index, seq, reason };
        let text = std::str::from_utf8(&line).map_err(|_| bad("it is not valid UTF-8".into()))?;
        let entry: LogEntry = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let expected = self.manifest.first_seq + self.read;
        if entry.seq != expected {
            return Err(bad(format!(
                "sequence {} where {expected} was expected (out of order or missing)",
                entry.seq
            )));
        }
        if let Some(prev) = self.prev {
            if entry.prev_hash != prev {
                return Err(bad(
                    "it does not follow the entry before it (chain broken)".into()
                ));
            }
        }
        if !entry.hash_is_valid() {
            return Err(bad("its hash does not match its content (altered)".into()));
        }
        self.signed_line(&line)?;
        self.prev = Some(entry.hash);
        self.read += 1;
        Ok(Some(entry))
    }

    /// Version 2, once [`BundleReader::next_entry`] returned `None`: the next attachment's
    /// SHA-256 and size, or `None` when the attachments end. Read its bytes with
    /// [`BundleReader::attachment_data`]; they are checked against the hash as they are read
    /// (what the caller does not read is read and checked here). Version 1 has none.
    pub fn next_attachment(&mut self) -> Result<Option<([u8; 32], u64)>, BundleError> {
        let Some(members) = self.members.clone() else {
            return Ok(None);
        };
        if self.lines_digest.is_none() {
            return Err(BundleError::Manifest(
                "the attachments were asked for before the entries were read".into(),
            ));
        }
        self.finish_attachment()?;
        let announced = self
            .manifest
            .attachments
            .unwrap_or(AttachmentsSummary { count: 0, bytes: 0 });
        let next = members
            .borrow_mut()
            .next_member(
                self.limits
                    .max_attachment_bytes
                    .max(crate::archive::signature_limit()),
            )
            .map_err(BundleError::Archive)?;
        match next {
            Some((Member::Attachment(hash), size)) => {
                let name = hex::encode(hash);
                if self.attachments.contains(&hash) {
                    return Err(BundleError::Archive(format!(
                        "attachment {name} is in the bundle twice"
                    )));
                }
                if size > self.limits.max_attachment_bytes {
                    return Err(BundleError::TooLarge(format!(
                        "attachment {name} is {size} bytes; at most {}",
                        self.limits.max_attachment_bytes
                    )));
                }
                if self.attachments.len() as u64 >= announced.count
                    || self.attachment_bytes + size > announced.bytes
                {
                    return Err(BundleError::Archive(format!(
                        "attachment {name} is more than the manifest announces ({} attachments, {} bytes)",
                        announced.count, announced.bytes
                    )));
                }
                self.current = Some((hash, Sha256::new(), size, size));
                Ok(Some((hash, size)))
            }
            Some((Member::Signature, size)) => {
                members.borrow_mut().put_back((Member::Signature, size));
                Ok(None)
            }
            Some((Member::Entries(_), _)) => Err(BundleError::Archive(
                "compressed entries out of place, after the entries ended".into(),
            )),
            None => Err(BundleError::Signature("missing: the bundle ends early")),
        }
    }

    /// Reads the current attachment's bytes (see [`BundleReader::next_attachment`]).
    pub fn attachment_data(&mut self) -> AttachmentData<'_, 'a> {
        AttachmentData { reader: self }
    }

    fn read_attachment(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (Some(members), Some((hash, hasher, left, _))) = (&self.members, &mut self.current)
        else {
            return Ok(0);
        };
        if *left == 0 {
            return Ok(0);
        }
        let n = members.borrow_mut().read_member(buf)?;
        hasher.update(&buf[..n]);
        *left -= n as u64;
        if *left == 0 {
            let got: [u8; 32] = std::mem::take(hasher).finalize().into();
            if got != *hash {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "attachment {} does not match its hash (altered or damaged)",
                        hex::encode(*hash)
                    ),
                ));
            }
        }
        Ok(n)
    }

    /// Reads and checks what the caller left of the current attachment, and counts it.
    fn finish_attachment(&mut self) -> Result<(), BundleError> {
        let Some((hash, size)) = self.current.as_ref().map(|c| (c.0, c.3)) else {
            return Ok(());
        };
        let mut sink = [0u8; 64 * 1024];
        loop {
            match self.read_attachment(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(BundleError::Archive(e.to_string()))
                }
                Err(e) => return Err(read_error(e)),
            }
        }
        self.current = None;
        self.attachments.push(hash);
        self.attachment_bytes += size;
        Ok(())
    }

    /// Ends the bundle: version 1 has verified its signature when the entries ended; version 2
    /// reads the signature after the attachments (the caller must have read them all, with
    /// [`BundleReader::next_attachment`] returning `None`), checks them against the manifest,
    /// verifies the signature over the entries and the attachments' hashes, and checks that
    /// nothing follows. Only then may a caller keep what it read.
    pub fn finish(mut self) -> Result<Verified, BundleError> {
        if !self.done {
            return Err(BundleError::Manifest(
                "the bundle was not read to its end".into(),
            ));
        }
        let Some(members) = self.members.clone() else {
            return match (self.lines_digest, self.signature) {
                (Some(lines_digest), Some(signature)) => Ok(Verified {
                    version: self.manifest.version,
                    lines_digest,
                    attachments: Vec::new(),
                    signature,
                }),
                _ => Err(BundleError::Signature("missing: the bundle ends early")),
            };
        };
        let digest = self.lines_digest.ok_or(BundleError::Signature(
            "missing: the entries were not read to their end",
        ))?;
        self.finish_attachment()?;
        let announced = self
            .manifest
            .attachments
            .unwrap_or(AttachmentsSummary { count: 0, bytes: 0 });
        let next = members
            .borrow_mut()
            .next_member(crate::archive::signature_limit())
            .map_err(BundleError::Archive)?;
        match next {
            Some((Member::Signature, _)) => {}
            Some((Member::Attachment(hash), _)) => {
                return Err(BundleError::Archive(format!(
                    "attachment {} was not read before the end",
                    hex::encode(hash)
                )))
            }
            Some((Member::Entries(_), _)) => {
                return Err(BundleError::Archive(
                    "compressed entries out of place, after the entries ended".into(),
                ))
            }
            None => return Err(BundleError::Signature("missing: the bundle ends early")),
        }
        if announced.count != self.attachments.len() as u64
            || announced.bytes != self.attachment_bytes
        {
            return Err(BundleError::Archive(format!(
                "the manifest announces {} attachments of {} bytes, and the bundle holds {} of {}",
                announced.count,
                announced.bytes,
                self.attachments.len(),
                self.attachment_bytes
            )));
        }
        let line = members
            .borrow_mut()
            .member_bytes(crate::archive::signature_limit())
            .map_err(BundleError::Archive)?;
        let sig: SignatureLine = serde_json::from_slice(&line)
            .map_err(|_| BundleError::Signature("missing or malformed"))?;
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(&sig.signature, &mut bytes)
            .map_err(|_| BundleError::Signature("malformed"))?;
        self.device_key
            .verify_strict(
                &signed_message_v2(&digest, &self.attachments),
                &Signature::from_bytes(&bytes),
            )
            .map_err(|_| {
                BundleError::Signature(
                    "invalid: the bundle was altered or not signed by the device it names",
                )
            })?;
        // The end of the archive, and nothing after it.
        let after = members
            .borrow_mut()
            .next_member(0)
            .map_err(BundleError::Archive)?;
        match after {
            None => Ok(Verified {
                version: self.manifest.version,
                lines_digest: digest,
                attachments: std::mem::take(&mut self.attachments),
                signature: bytes,
            }),
            Some(_) => Err(BundleError::Archive(
                "there is a member after the signature".into(),
            )),
        }
    }

    fn verify_signature(&mut self, line: &[u8]) -> Result<(), BundleError> {
        let sig: SignatureLine = serde_json::from_slice(line)
            .map_err(|_| BundleError::Signature("missing or malformed"))?;
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(&sig.signature, &mut bytes)
            .map_err(|_| BundleError::Signature("malformed"))?;
        let digest: [u8; 32] = std::mem::take(&mut self.hasher).finalize().into();
        self.device_key
            .verify_strict(&signed_message(&digest), &Signature::from_bytes(&bytes))
            .map_err(|_| {
                BundleError::Signature(
                    "invalid: the bundle was altered or not signed by the device it names",
                )
            })?;
        self.lines_digest = Some(digest);
        self.signature = Some(bytes);
        // Nothing may follow the signature, and the encrypted stream must end cleanly.
        let mut rest = [0u8; 1];
        match self.lines.read(&mut rest) {
            Ok(0) => Ok(()),
            Ok(_) => Err(BundleError::Manifest(
                "there is data after the signature".into(),
            )),
            Err(e) => Err(read_error(e)),
        }
    }

    /// One line without its newline (hashed by the caller with the newline).
    fn line(&mut self) -> Result<Option<Vec<u8>>, BundleError> {
        self.buf.clear();
        let max = self.limits.max_line_bytes;
        loop {
            let available = self.lines.fill_buf().map_err(read_error)?;
            if available.is_empty() {
                if self.lines.get_ref().limit() == 0 {
                    return Err(BundleError::TooLarge(format!(
                        "more than {} bytes once decompressed",
                        self.limits.max_plain_bytes
                    )));
                }
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(BundleError::Damaged("the last line has no end".into()));
            }
            let (chunk, found) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..=i], true),
                None => (available, false),
            };
            if self.buf.len() + chunk.len() > max + 1 {
                return Err(BundleError::TooLarge(format!(
                    "a line is longer than {max} bytes"
                )));
            }
            self.buf.extend_from_slice(chunk);
            let n = chunk.len();
            self.lines.consume(n);
            if found {
                let line = std::mem::take(&mut self.buf);
                return Ok(Some(line));
            }
        }
    }
}

/// The current attachment's bytes (see [`BundleReader::next_attachment`]); a read error of
/// kind `InvalidData` says they do not match the hash.
pub struct AttachmentData<'r, 'a> {
    reader: &'r mut BundleReader<'a>,
}

impl Read for AttachmentData<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read_attachment(buf)
    }
}

/// The compressed entries of a version-2 bundle as one stream: its numbered members in order,
/// ending where the next member is not the next of them (that one is put back).
struct EntriesReader<R: Read> {
    members: Rc<RefCell<MemberStream<R>>>,
    next: usize,
    /// The largest member that may follow the entries (an attachment): the one after the
    /// last entries member is read here and handed back to the reader.
    max_member: u64,
}

impl<R: Read> Read for EntriesReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut members = self.members.borrow_mut();
            let n = members.read_member(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match members
                .next_member(self.max_member)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                Some((Member::Entries(_), size)) if size > crate::archive::ENTRIES_CHUNK as u64 => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "a member of the compressed entries is {size} bytes, over the limit of {}",
                            crate::archive::ENTRIES_CHUNK
                        ),
                    ))
                }
                Some((Member::Entries(i), _)) if i == self.next => self.next += 1,
                Some((Member::Entries(_), _)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the compressed entries' members are out of order",
                    ))
                }
                Some(other) => {
                    members.put_back(other);
                    return Ok(0);
                }
                None => return Ok(0),
            }
        }
    }
}

/// A zstd decoder of `input` with the window bounded by `limits`.
fn zstd_decoder<'z, R: Read + 'z>(
    input: R,
    limits: &Limits,
) -> Result<zstd::Decoder<'z, BufReader<R>>, BundleError> {
    let mut decoder =
        zstd::Decoder::new(input).map_err(|e| BundleError::Decompress(e.to_string()))?;
    decoder
        .window_log_max(limits.max_window_log)
        .map_err(|e| BundleError::Decompress(e.to_string()))?;
    Ok(decoder)
}

fn read_error(e: io::Error) -> BundleError {
    let text = e.to_string();
    if text.contains("Frame requires too much memory") || text.contains("window") {
        BundleError::Decompress(text)
    } else if e.kind() == io::ErrorKind::UnexpectedEof || e.kind() == io::ErrorKind::InvalidData {
        BundleError::Damaged(text)
    } else {
        BundleError::Decompress(text)
    }
}

fn check_manifest(m: &Manifest, limits: &Limits) -> Result<(), BundleError> {
    let bad = |s: &str| Err(BundleError::Manifest(s.into()));
    if m.format != FORMAT {
        return bad("it is not a truce-bundle");
    }
    check_version_fields(m)?;
    if let Some(a) = m.attachments {
        if a.count > crate::attachment::MAX_ATTACHMENTS as u64 * m.entry_count {
            return Err(BundleError::TooLarge(format!(
                "{} attachments for {} entries; at most {} per entry",
                a.count,
                m.entry_count,
                crate::attachment::MAX_ATTACHMENTS
            )));
        }
        if a.bytes > limits.max_attachments_total {
            return Err(BundleError::TooLarge(format!(
                "{} bytes of attachments; at most {}",
                a.bytes, limits.max_attachments_total
            )));
        }
    }
    if m.first_seq == 0 || m.last_seq < m.first_seq || m.last_seq - m.first_seq + 1 != m.entry_count
    {
        return bad("its range of entries is inconsistent");
    }
    if m.last_seq > MAX_SEQ {
        return Err(BundleError::Manifest(format!(
            "its last sequence number {} is beyond the largest a device log can reach ({MAX_SEQ})",
            m.last_seq
        )));
    }
    if m.entry_count > limits.max_entries {
        return Err(BundleError::TooLarge(format!(
            "{} entries; at most {}",
            m.entry_count, limits.max_entries
        )));
    }
    if m.bundle_id.is_empty()
        || m.bundle_id.len() > 64
        || !m.bundle_id.chars().all(|c| c.is_ascii_hexdigit())
    {
        return bad("its bundle id is not hex");
    }
    if m.observer.chars().count() > 100 || m.mission.chars().count() > 200 {
        return bad("its observer or mission name is too long");
    }
    check_manifest_text(m)?;
    Ok(())
}

/// The manifest's names hold no control character (see [`crate::text`]); its other text
/// fields are hex, a UUID or a time, which their own checks and types hold to.
fn check_manifest_text(m: &Manifest) -> Result<(), BundleError> {
    for (field, text) in [("observer", &m.observer), ("mission", &m.mission)] {
        if let Some(c) = crate::text::line_control(text) {
            return Err(BundleError::Manifest(format!(
                "its {field} name {}",
                crate::text::line_control_message(c)
            )));
        }
    }
    Ok(())
}

impl DeviceSigningKey {
    /// Signs `message` with the device key (Ed25519).
    pub(crate) fn sign_raw(&self, message: &[u8]) -> Signature {
        self.signing_key().sign(message)
    }
}

/// Writes `entry` as one bundle line, newline included, the bytes `serde_json` writes for a
/// [`LogEntry`] (a test holds them equal); returns where its record sits in `out`.
fn entry_line(out: &mut Vec<u8>, entry: &StoredEntry<'_>) -> std::ops::Range<usize> {
    let mut digits = [0u8; 64];
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(entry.seq.to_string().as_bytes());
    for (name, hash) in [
        (&b",\"prev_hash\":\""[..], &entry.prev_hash),
        (b"\",\"hash\":\"", &entry.hash),
    ] {
        out.extend_from_slice(name);
        // 32 bytes always make 64 digits: the error cannot happen.
        if hex::encode_to_slice(hash.0, &mut digits).is_ok() {
            out.extend_from_slice(&digits);
        }
    }
    out.extend_from_slice(b"\",\"record\":");
    let start = out.len();
    out.extend_from_slice(entry.record.as_bytes());
    let end = out.len();
    out.extend_from_slice(b"}\n");
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogEntry;

    fn manifest(key: &DeviceSigningKey, first: u64, last: u64) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: 1,
            bundle_id: "00ff".into(),
            device_id: Uuid::nil(),
            device_key: hex_key(&key.verifying_key()),
            observer: "Ana".into(),
            mission: "Test".into(),
            created_at: DateTime::UNIX_EPOCH.fixed_offset(),
            first_seq: first,
            last_seq: last,
            entry_count: last - first + 1,
            features: Vec::new(),
            attachments: None,
            pending_attachments: Vec::new(),
            return_path: None,
        }
    }

    /// A text-first bundle: version 2 with no attachment carried and two pending; it reads
    /// whole, and says which are pending. A pending list without its feature is refused, and a
    /// reader meeting a feature it lacks (with the fields that come with it) names the feature.
    #[test]
    fn a_text_first_bundle_names_its_pending_attachments() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let entries = chain(2);
        let pending = vec!["ab".repeat(32), "cd".repeat(32)];
        let m = Manifest {
            version: 2,
            features: vec![
                FEATURE_ATTACHMENTS.into(),
                FEATURE_PENDING_ATTACHMENTS.into(),
            ],
            attachments: Some(AttachmentsSummary { count: 0, bytes: 0 }),
            pending_attachments: pending.clone(),
            ..manifest(&key, 1, 2)
        };
        let mut w = BundleWriter::new(Vec::new(), &[id.to_public()], m.clone()).expect("writer");
        for e in &entries {
            w.entry(e).expect("entry");
        }
        let bytes = w.finish(&key).expect("finish");
        let r = BundleReader::open(&bytes[..], &id, Limits::default()).expect("opens");
        assert_eq!(r.manifest().pending_attachments, pending);
        assert_eq!(drain(r).expect("verifies"), 2);

        let without_feature = Manifest {
            features: vec![FEATURE_ATTACHMENTS.into()],
            ..m.clone()
        };
        assert!(matches!(
            check_manifest(&without_feature, &Limits::default()),
            Err(BundleError::Manifest(_))
        ));
        let mut line = serde_json::to_value(&m).expect("json");
        line["features"] = serde_json::json!(["attachments", "receipts_inline"]);
        line["receipts_inline"] = serde_json::json!({"x": 1});
        let text = format!("{line}\n");
        assert!(matches!(
            BundleReader::from_plaintext(text.as_bytes(), Limits::default()),
            Err(BundleError::UnknownFeature(f)) if f == "receipts_inline"
        ));
    }

    /// A version-2 manifest announcing `files`.
    fn manifest_v2(key: &DeviceSigningKey, first: u64, last: u64, files: &[Vec<u8>]) -> Manifest {
        Manifest {
            version: 2,
            features: vec![FEATURE_ATTACHMENTS.into()],
            attachments: Some(AttachmentsSummary {
                count: files.len() as u64,
                bytes: files.iter().map(|f| f.len() as u64).sum(),
            }),
            ..manifest(key, first, last)
        }
    }

    /// A version-2 bundle of `entries` with `files` attached.
    fn write_v2(
        key: &DeviceSigningKey,
        to: &age::x25519::Recipient,
        entries: &[LogEntry],
        files: &[Vec<u8>],
    ) -> Vec<u8> {
        let m = manifest_v2(key, entries[0].seq, entries[entries.len() - 1].seq, files);
        let mut w = BundleWriter::new(Vec::new(), std::slice::from_ref(to), m).expect("writer");
        for e in entries {
            w.entry(e).expect("entry");
        }
        for f in files {
            let hash = hex::encode(Sha256::digest(f));
            w.attachment(&hash, f.len() as u64, &mut &f[..])
                .expect("attachment");
        }
        w.finish(key).expect("finish")
    }

    /// Every entry and attachment of a bundle, read and checked to the end.
    fn read_v2(
        bytes: &[u8],
        id: &age::x25519::Identity,
    ) -> Result<(Vec<LogEntry>, Vec<Vec<u8>>), BundleError> {
        let mut r = BundleReader::open(bytes, id, Limits::default())?;
        let mut entries = Vec::new();
        while let Some(e) = r.next_entry()? {
            entries.push(e);
        }
        let mut files = Vec::new();
        while let Some((_, size)) = r.next_attachment()? {
            let mut data = Vec::with_capacity(size as usize);
            r.attachment_data()
                .read_to_end(&mut data)
                .map_err(|e| BundleError::Archive(e.to_string()))?;
            files.push(data);
        }
        r.finish()?;
        Ok((entries, files))
    }

    #[test]
    fn version_2_carries_attachments_and_refuses_every_alteration() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let entries = chain(3);
        let files = vec![b"first photo".to_vec(), vec![0xAB; 70_000]];
        let bytes = write_v2(&key, &id.to_public(), &entries, &files);
        let (back, got) = read_v2(&bytes, &id).expect("reads");
        let seqs = |v: &[LogEntry]| v.iter().map(|e| (e.seq, e.hash)).collect::<Vec<_>>();
        assert_eq!(seqs(&back), seqs(&entries));
        assert_eq!(got, files);

        // Stock tools see a tar archive inside the age layer.
        let plain = {
            let d = age::Decryptor::new(&bytes[..]).expect("age");
            let mut r = d
                .decrypt(std::iter::once(&id as &dyn age::Identity))
                .expect("decrypt");
            let mut v = Vec::new();
            r.read_to_end(&mut v).expect("read");
            v
        };
        assert_eq!(&plain[257..262], b"ustar");
        // Every flipped byte of the archive is refused (age authenticates it; the tests of
        // the plaintext layer below check what the archive's own checks find).
        for at in (0..plain.len()).step_by(97) {
            let mut bad = plain.clone();
            bad[at] ^= 0x40;
            let outcome = (|| -> Result<(), BundleError> {
                let mut r = BundleReader::from_archive(&bad[..], Limits::default())?;
                while r.next_entry()?.is_some() {}
                while r.next_attachment()?.is_some() {
                    io::copy(&mut r.attachment_data(), &mut io::sink())
                        .map_err(|e| BundleError::Archive(e.to_string()))?;
                }
                r.finish().map(drop)
            })();
            // Padding and the tar header fields Truce does not read may change freely.
            if outcome.is_ok() {
                assert!(
                    plain[at] == 0 || (at % 512) >= 100,
                    "flipping byte {at} ({:#x}) went unnoticed",
                    plain[at]
                );
            }
        }
    }

    #[test]
    fn version_2_refuses_a_swapped_attachment_and_a_missing_one() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let entries = chain(2);
        let files = vec![b"photo".to_vec()];
        // Announced one, wrote none.
        let m = manifest_v2(&key, 1, 2, &files);
        let mut w = BundleWriter::new(Vec::new(), &[id.to_public()], m).expect("writer");
        for e in &entries {
            w.entry(e).expect("entry");
        }
        assert!(matches!(w.finish(&key), Err(BundleError::Manifest(_))));
        // Bytes that do not hash to the name given.
        let m = manifest_v2(&key, 1, 2, &files);
        let mut w = BundleWriter::new(Vec::new(), &[id.to_public()], m).expect("writer");
        for e in &entries {
            w.entry(e).expect("entry");
        }
        let wrong = hex::encode(Sha256::digest(b"another"));
        assert!(w.attachment(&wrong, 5, &mut &b"photo"[..]).is_err());
        // A version-1 bundle carries none.
        let mut w =
            BundleWriter::new(Vec::new(), &[id.to_public()], manifest(&key, 1, 2)).expect("w");
        for e in &entries {
            w.entry(e).expect("entry");
        }
        assert!(w.attachment(&wrong, 5, &mut &b"photo"[..]).is_err());
    }

    #[test]
    fn a_version_2_manifest_in_a_version_1_body_is_refused() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let entries = chain(1);
        // A version-1 body (zstd JSON Lines) whose manifest says version 2.
        let m = Manifest {
            version: 2,
            ..manifest(&key, 1, 1)
        };
        let mut lines = serde_json::to_vec(&m).expect("manifest");
        lines.push(b'\n');
        let sealed = {
            let zipped = zstd::encode_all(&lines[..], 3).expect("zstd");
            let e = age::Encryptor::with_recipients(std::iter::once(
                &id.to_public() as &dyn age::Recipient
            ))
            .expect("age");
            let mut out = Vec::new();
            let mut w = e.wrap_output(&mut out).expect("wrap");
            w.write_all(&zipped).expect("write");
            w.finish().expect("finish");
            out
        };
        let err = read_all(&sealed, &id).expect_err("refused");
        assert!(
            err.to_string()
                .contains("version-2 manifest in a version-1 body"),
            "{err}"
        );
        let _ = entries;
    }

    fn chain(n: u64) -> Vec<LogEntry> {
        let mut prev = EntryHash::GENESIS;
        (1..=n)
            .map(|seq| {
                let e = LogEntry::new(seq, prev, format!("{{\"n\":{seq}}}")).expect("json");
                prev = e.hash;
                e
            })
            .collect()
    }

    #[test]
    fn an_entry_line_is_what_serde_writes_for_the_entry() {
        for entry in chain(3).iter().chain(&[LogEntry::new(
            u64::MAX,
            EntryHash([0xab; 32]),
            r#"{"kind":"violation","narrative":"two \"quoted\" words, é"}"#.into(),
        )
        .expect("json")])
        {
            let mut out = b"before".to_vec();
            let record = entry_line(&mut out, &StoredEntry::from(entry));
            let mut expected = b"before".to_vec();
            expected.extend(serde_json::to_vec(entry).expect("serialized"));
            expected.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected)
            );
            assert_eq!(&out[record], entry.record.get().as_bytes());
        }
    }

    fn write(key: &DeviceSigningKey, to: &age::x25519::Recipient, entries: &[LogEntry]) -> Vec<u8> {
        let m = manifest(key, entries[0].seq, entries[entries.len() - 1].seq);
        let mut w = BundleWriter::new(Vec::new(), std::slice::from_ref(to), m).expect("writer");
        for e in entries {
            w.entry(e).expect("entry");
        }
        w.finish(key).expect("finish")
    }

    fn read_all(bytes: &[u8], id: &age::x25519::Identity) -> Result<Vec<LogEntry>, BundleError> {
        let mut r = BundleReader::open(bytes, id, Limits::default())?;
        let mut out = Vec::new();
        while let Some(e) = r.next_entry()? {
            out.push(e);
        }
        while r.next_attachment()?.is_some() {}
        r.finish()?;
        Ok(out)
    }

    #[test]
    fn manifest_names_with_control_characters_are_refused() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let limits = Limits::default();
        check_manifest(&manifest(&key, 1, 1), &limits).expect("a plain manifest passes");
        for (observer, mission) in [("Ana\u{1b}]0;x\u{7}", "Test"), ("Ana", "Test\u{9b}2K")] {
            let mut m = manifest(&key, 1, 1);
            m.observer = observer.into();
            m.mission = mission.into();
            let err = check_manifest(&m, &limits).expect_err("refused");
            assert!(
                matches!(&err, BundleError::Manifest(r) if r.contains("control character U+")),
                "{err}"
            );
            assert!(!err.to_string().chars().any(char::is_control), "{err}");
        }
    }

    #[test]
    fn round_trip_and_wrong_recipient() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let entries = chain(50);
        let bytes = write(&key, &id.to_public(), &entries);
        let back = read_all(&bytes, &id).expect("reads");
        assert_eq!(back.len(), 50);
        assert_eq!(back[49].hash, entries[49].hash);
        let other = age::x25519::Identity::generate();
        assert!(matches!(
            read_all(&bytes, &other),
            Err(BundleError::WrongRecipient)
        ));
        assert!(matches!(
            read_all(b"hello", &id),
            Err(BundleError::NotABundle(_))
        ));
    }

    #[test]
    fn every_flipped_bit_and_truncation_is_refused() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let bytes = write(&key, &id.to_public(), &chain(20));
        for at in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(read_all(&bad, &id).is_err(), "flip at {at} accepted");
        }
        for len in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                read_all(&bytes[..len], &id).is_err(),
                "truncated to {len} accepted"
            );
        }
    }

    #[test]
    fn writer_refuses_broken_chains() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let entries = chain(3);
        let mut w =
            BundleWriter::new(Vec::new(), &[id.to_public()], manifest(&key, 1, 3)).expect("writer");
        w.entry(&entries[0]).expect("first");
        assert!(w.entry(&entries[2]).is_err());

        // A record altered after it was hashed: found where it is serialized, with its place.
        let mut altered = chain(3);
        altered[1].record =
            serde_json::value::RawValue::from_string("{\"n\":20}".into()).expect("json");
        let mut w =
            BundleWriter::new(Vec::new(), &[id.to_public()], manifest(&key, 1, 3)).expect("writer");
        let mut outcome = Ok(());
        for e in &altered {
            outcome = outcome.and_then(|()| w.entry(e));
        }
        let err = outcome
            .and_then(|()| w.finish(&key).map(|_| ()))
            .expect_err("the altered record is refused");
        assert!(
            matches!(&err, BundleError::Entry { index: 2, reason, .. } if reason.contains("chain is broken")),
            "{err:?}"
        );
    }

    /// An output that takes `room` bytes, then fails as a full disk does, and says when it is
    /// dropped.
    struct FillingUp {
        room: usize,
        dropped: std::sync::Arc<std::sync::atomic::AtomicBool>,
    }

    impl Write for FillingUp {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Drop for FillingUp {
        fn drop(&mut self) {
            self.dropped
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_full_output_is_an_error_and_an_abandoned_bundle_releases_its_output() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        // Random-looking records, so the compressed stream outgrows the room quickly.
        let mut prev = EntryHash::GENESIS;
        let entries: Vec<LogEntry> = (1..=20_000u64)
            .map(|seq| {
                let noise = hex::encode(Sha256::digest(seq.to_le_bytes()));
                let e = LogEntry::new(seq, prev, format!("{{\"n\":\"{noise}\"}}")).expect("json");
                prev = e.hash;
                e
            })
            .collect();
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let out = FillingUp {
            room: 64 * 1024,
            dropped: dropped.clone(),
        };
        let mut w =
            BundleWriter::new(out, &[id.to_public()], manifest(&key, 1, 20_000)).expect("writer");
        let mut failed = None;
        for e in &entries {
            if let Err(err) = w.entry(e) {
                failed = Some(err);
                break;
            }
        }
        let err = match failed {
            Some(err) => err,
            None => w.finish(&key).err().expect("the output filled up"),
        };
        assert!(
            matches!(&err, BundleError::Io(e) if e.kind() == io::ErrorKind::StorageFull),
            "{err:?}"
        );
        assert!(
            dropped.load(std::sync::atomic::Ordering::SeqCst),
            "the output is released"
        );

        // Abandoned half-way without an error: dropping the writer waits for the sealing
        // thread, so the output is released by the time the drop returns.
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let out = FillingUp {
            room: usize::MAX,
            dropped: dropped.clone(),
        };
        let mut w =
            BundleWriter::new(out, &[id.to_public()], manifest(&key, 1, 20_000)).expect("writer");
        for e in &entries[..10_000] {
            w.entry(e).expect("entry");
        }
        drop(w);
        assert!(
            dropped.load(std::sync::atomic::Ordering::SeqCst),
            "the output is released"
        );
    }

    /// An attachment larger than an entries member (1 MiB) follows the entries: the reader
    /// looks at it after the last entries member and hands it on, whole (a regression: it was
    /// refused as an oversized entries member).
    #[test]
    fn an_attachment_larger_than_an_entries_member_reads_whole() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let files = vec![vec![0x5Au8; 3 * 1024 * 1024 + 17]];
        let bytes = write_v2(&key, &id.to_public(), &chain(2), &files);
        let (entries, got) = read_v2(&bytes, &id).expect("reads");
        assert_eq!(entries.len(), 2);
        assert_eq!(got, files);
    }

    /// The kept copy of the signed lines is what the signature covers: with the verified
    /// signature and the device key, anyone can check it again, in both versions.
    #[test]
    fn the_signed_lines_kept_verify_again_on_their_own() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let entries = chain(4);
        let v1 = write(&key, &id.to_public(), &entries);
        let files = vec![b"photo".to_vec(), vec![7u8; 3000]];
        let v2 = write_v2(&key, &id.to_public(), &entries, &files);
        for (bytes, version) in [(v1, 1), (v2, 2)] {
            let mut kept = Vec::new();
            let mut r = BundleReader::open(&bytes[..], &id, Limits::default()).expect("opens");
            r.keep_signed_lines(&mut kept).expect("copy");
            let device_key = *r.device_key();
            let verified = {
                let mut n = 0;
                while r.next_entry().expect("entry").is_some() {
                    n += 1;
                }
                assert_eq!(n, 4);
                while r.next_attachment().expect("attachment").is_some() {
                    io::copy(&mut r.attachment_data(), &mut io::sink()).expect("data");
                }
                r.finish().expect("verifies")
            };
            assert_eq!(verified.version, version);
            let digest: [u8; 32] = Sha256::digest(&kept).into();
            assert_eq!(verified.lines_digest, digest, "version {version}");
            assert_eq!(
                kept.iter().filter(|b| **b == b'\n').count(),
                5,
                "manifest and entries"
            );
            let expected: Vec<[u8; 32]> = files.iter().map(|f| Sha256::digest(f).into()).collect();
            assert_eq!(
                verified.attachments,
                if version == 2 { expected } else { vec![] }
            );
            let signature = Signature::from_bytes(&verified.signature);
            assert!(device_key
                .verify_strict(&verified.signed_message(), &signature)
                .is_ok());
            let mut altered = kept.clone();
            altered[10] ^= 1;
            let altered_digest: [u8; 32] = Sha256::digest(&altered).into();
            let forged = Verified {
                lines_digest: altered_digest,
                ..verified.clone()
            };
            assert!(device_key
                .verify_strict(&forged.signed_message(), &signature)
                .is_err());
        }
    }

    fn drain(mut r: BundleReader<'_>) -> Result<u64, BundleError> {
        let mut n = 0;
        while r.next_entry()?.is_some() {
            n += 1;
        }
        while r.next_attachment()?.is_some() {
            io::copy(&mut r.attachment_data(), &mut io::sink())
                .map_err(|e| BundleError::Archive(e.to_string()))?;
        }
        r.finish()?;
        Ok(n)
    }

    #[test]
    fn the_plaintext_layer_reads_and_still_checks_the_signature() {
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let id = age::x25519::Identity::generate();
        let bytes = write(&key, &id.to_public(), &chain(5));
        let decryptor = age::Decryptor::new(&bytes[..]).expect("age");
        let mut compressed = Vec::new();
        std::io::copy(
            &mut decryptor
                .decrypt(std::iter::once(&id as &dyn age::Identity))
                .expect("decrypt"),
            &mut compressed,
        )
        .expect("read");
        let plain = zstd::decode_all(&compressed[..]).expect("zstd");
        let reader = BundleReader::from_plaintext(&plain[..], Limits::default()).expect("manifest");
        assert_eq!(drain(reader).expect("verifies"), 5);
        let text = String::from_utf8(plain).expect("UTF-8");
        let forged = text.replacen("\"n\":3", "\"n\":4", 1);
        let reader =
            BundleReader::from_plaintext(forged.as_bytes(), Limits::default()).expect("manifest");
        assert!(drain(reader).is_err(), "an altered entry is refused");
    }

    /// A refused entry is named by its sequence number in the device's log, as the gaps and
    /// `truce devices` name entries, not by its place in the bundle.
    #[test]
    fn a_refused_entry_is_named_by_its_seq() {
        let first = LogEntry::new(61, EntryHash([3u8; 32]), r#"{"n":61}"#.into()).expect("entry");
        let second = LogEntry::new(62, first.hash, r#"{"n":62}"#.into()).expect("entry");
        let manifest = serde_json::json!({"format": FORMAT, "version": VERSION, "bundle_id": "ab",
            "device_id": Uuid::nil(), "device_key": hex::encode([0u8; 32]), "observer": "Ana",
            "mission": "East", "created_at": "2026-12-04T09:00:00Z",
            "first_seq": 61, "last_seq": 62, "entry_count": 2});
        let altered = serde_json::to_string(&second)
            .expect("line")
            .replace(r#""n":62"#, r#""n":63"#);
        let plain = format!(
            "{manifest}\n{}\n{altered}\n",
            serde_json::to_string(&first).expect("line")
        );
        let Ok(mut reader) = BundleReader::from_plaintext(plain.as_bytes(), Limits::default())
        else {
            panic!("the manifest reads");
        };
        assert!(reader.next_entry().expect("entry 61").is_some());
        let refused = reader.next_entry().expect_err("entry 62 is altered");
        let text = refused.to_string();
        assert!(text.contains("entry 62 (entry 2 of this bundle)"), "{text}");
    }

    /// A manifest of a newer version, with fields this build does not know, asks for a newer
    /// Truce instead of naming an unknown field.
    #[test]
    fn a_newer_bundle_asks_for_a_newer_truce() {
        let newer =
            r#"{"format":"truce-bundle","version":3,"features":["receipts"],"bundle_id":"ab"}"#;
        let refused =
            BundleReader::from_plaintext(format!("{newer}\n").as_bytes(), Limits::default())
                .err()
                .expect("refused");
        assert!(
            matches!(refused, BundleError::TooNew { found: 3, known: 2 }),
            "{refused}"
        );
        assert!(refused.to_string().contains("update Truce"), "{refused}");
        // A version-2 feature this build does not implement.
        let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
        let unknown = Manifest {
            version: 2,
            features: vec!["handover".into()],
            ..manifest(&key, 1, 1)
        };
        let line = serde_json::to_string(&unknown).expect("manifest");
        let refused =
            BundleReader::from_plaintext(format!("{line}\n").as_bytes(), Limits::default())
                .err()
                .expect("refused");
        assert!(
            matches!(refused, BundleError::UnknownFeature(ref f) if f == "handover"),
            "{refused}"
        );
        assert!(refused.to_string().contains("update Truce"), "{refused}");
    }

    /// The committed hostile corpus (tests/testdata/bundles) never makes the reader panic, and
    /// only the cases expected to import read through.
    #[test]
    fn the_hostile_corpus_is_handled_without_panic() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/testdata/bundles");
        let key = std::fs::read_to_string(dir.join("coordinator.key")).expect("test key");
        let id: age::x25519::Identity = key
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .expect("identity line")
            .parse()
            .expect("identity");
        let mut read_through = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("corpus") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "age") {
                let bytes = std::fs::read(&path).expect("read");
                if BundleReader::open(&bytes[..], &id, Limits::default())
                    .and_then(drain)
                    .is_ok()
                {
                    read_through.push(
                        path.file_name()
                            .expect("name")
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
        read_through.sort();
        // These are well-formed; the coordinator refuses some of them later (merge, schema, key).
        for name in read_through.iter() {
            assert!(
                [
                    "first",
                    "replayed",
                    "gap",
                    "another-key",
                    "conflicting",
                    "schema",
                    "oversize-field",
                    "reuses-an-id",
                    // Control characters in a record: refused with its schema check.
                    "record-observer",
                    "place-c1",
                    "narrative-carriage-return",
                    // An attachment's name that climbs folders: refused by the schema check.
                    "15-path-traversal-attachment",
                    // Well formed; the import refuses a file no record names.
                    "named-by-no-record",
                    // Well formed; the import refuses an image over the size Truce decodes.
                    "image-bomb",
                ]
                .iter()
                .any(|ok| name.contains(ok)),
                "{name} should have been refused by the reader"
            );
        }
        assert!(read_through.iter().any(|n| n.contains("first")));
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            /// Arbitrary plaintext never panics the reader (fuzzing in miniature; see fuzz/).
            #[test]
            fn arbitrary_plaintext_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
                let _ = BundleReader::from_plaintext(&bytes[..], Limits::default()).and_then(drain);
            }

            #[test]
            fn arbitrary_lines_after_a_valid_manifest_never_panic(lines in proptest::collection::vec("[ -~]{0,200}", 0..8)) {
                let key = DeviceSigningKey::from_bytes(&[3u8; 32]);
                let mut text = serde_json::to_string(&manifest(&key, 1, 3)).expect("json");
                text.push('\n');
                for line in lines {
                    text.push_str(&line);
                    text.push('\n');
                }
                prop_assert!(BundleReader::from_plaintext(text.as_bytes(), Limits::default()).and_then(drain).is_err());
            }
        }
    }
}
