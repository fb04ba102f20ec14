//! Bundles: a contiguous range of one device's log, signed by the device and encrypted with age
//! to the mission's coordinators. Written and read as streams, with hard limits.
//!
//! Layers, outside in (see docs/bundle-format.md): an age file (X25519 recipients) whose
//! plaintext is a zstd frame whose content is JSON Lines: one manifest line, one line per
//! entry, one signature line. Everything, including the device id, is inside the encryption.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use chrono::{DateTime, FixedOffset};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::device::DeviceSigningKey;
use crate::log::{entry_hash_of_bytes, EntryHash, LogEntry, StoredEntry, MAX_SEQ};

/// The `format` value of a bundle manifest.
pub const FORMAT: &str = "truce-bundle";
/// The bundle format version this code writes and reads.
pub const VERSION: u32 = 1;
/// Domain separation prefix of the signed message.
pub const SIGNATURE_CONTEXT: &[u8] = b"truce-bundle-v1\n";
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_plain_bytes: 2 * 1024 * 1024 * 1024,
            max_line_bytes: 256 * 1024,
            max_entries: 5_000_000,
            max_window_log: 23,
        }
    }
}

/// The first line of a bundle: who sent it and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `truce-bundle`.
    pub format: String,
    /// Always 1 for now.
    pub version: u32,
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
type Sealing<W> = Hashing<zstd::Encoder<'static, age::stream::StreamWriter<W>>>;

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
        let mut encoder = zstd::Encoder::new(sealed, COMPRESSION_LEVEL)?;
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
        })
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
        self.hand_over()?;
        let mut out = self.join_sealer()?;
        let digest = std::mem::take(&mut out.hasher).finalize();
        let signature = key.sign_raw(&signed_message(&digest));
        let line = SignatureLine {
            signature: hex::encode(signature.to_bytes()),
        };
        serde_json::to_writer(&mut out.inner, &line).map_err(io::Error::other)?;
        out.inner.write_all(b"\n")?;
        let sealed = out.inner.finish()?;
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

/// Reads a bundle as a stream: [`BundleReader::manifest`], then [`BundleReader::next_entry`]
/// until it returns `None`, which it does only after the signature has been verified. A caller
/// must treat any entry as provisional until then.
pub struct BundleReader<'a> {
    lines: BufReader<io::Take<Box<dyn Read + 'a>>>,
    limits: Limits,
    hasher: Sha256,
    manifest: Manifest,
    device_key: VerifyingKey,
    read: u64,
    prev: Option<EntryHash>,
    done: bool,
    buf: Vec<u8>,
}

impl<'a> BundleReader<'a> {
    /// Decrypts with `identity` and reads the manifest.
    pub fn open<R: Read + 'a>(
        input: R,
        identity: &age::x25519::Identity,
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
            .decrypt(std::iter::once(identity as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => BundleError::WrongRecipient,
                age::DecryptError::Io(io) => BundleError::Damaged(io.to_string()),
                other => BundleError::Damaged(other.to_string()),
            })?;
        let mut decoder =
            zstd::Decoder::new(plain).map_err(|e| BundleError::Decompress(e.to_string()))?;
        decoder
            .window_log_max(limits.max_window_log)
            .map_err(|e| BundleError::Decompress(e.to_string()))?;
        BundleReader::from_plaintext(decoder, limits)
    }

    /// Reads the inner layer (JSON Lines, already decrypted and decompressed) and its manifest.
    /// Every check but decryption still applies, the signature included; this is the entry point
    /// for fuzzing and for tools that decrypted a bundle with stock `age` and `zstd`.
    pub fn from_plaintext<P: Read + 'a>(plain: P, limits: Limits) -> Result<Self, BundleError> {
        let boxed: Box<dyn Read + 'a> = Box::new(plain);
        let lines = BufReader::new(boxed.take(limits.max_plain_bytes + 1));
        let mut reader = BundleReader {
            lines,
            limits,
            hasher: Sha256::new(),
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
        }
        let manifest: Manifest =
            serde_json::from_slice(&line).map_err(|e| BundleError::Manifest(e.to_string()))?;
        check_manifest(&manifest, &limits)?;
        reader.device_key = parse_device_key(&manifest.device_key).ok_or_else(|| {
            BundleError::Manifest("the device key is not a valid Ed25519 public key".into())
        })?;
        reader.hasher.update(&line);
        reader.manifest = manifest;
        Ok(reader)
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
        self.hasher.update(&line);
        self.prev = Some(entry.hash);
        self.read += 1;
        Ok(Some(entry))
    }

    fn verify_signature(&mut self, line: &[u8]) -> Result<(), BundleError> {
        let sig: SignatureLine = serde_json::from_slice(line)
            .map_err(|_| BundleError::Signature("missing or malformed"))?;
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(&sig.signature, &mut bytes)
            .map_err(|_| BundleError::Signature("malformed"))?;
        let digest = std::mem::take(&mut self.hasher).finalize();
        self.device_key
            .verify_strict(&signed_message(&digest), &Signature::from_bytes(&bytes))
            .map_err(|_| {
                BundleError::Signature(
                    "invalid: the bundle was altered or not signed by the device it names",
                )
            })?;
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
    if m.version != VERSION {
        return Err(BundleError::Manifest(format!(
            "format version {} is not supported (this Truce reads version {VERSION}); update Truce",
            m.version
        )));
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
            version: VERSION,
            bundle_id: "00ff".into(),
            device_id: Uuid::nil(),
            device_key: hex_key(&key.verifying_key()),
            observer: "Ana".into(),
            mission: "Test".into(),
            created_at: DateTime::UNIX_EPOCH.fixed_offset(),
            first_seq: first,
            last_seq: last,
            entry_count: last - first + 1,
        }
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

    fn drain(mut r: BundleReader<'_>) -> Result<u64, BundleError> {
        let mut n = 0;
        while r.next_entry()?.is_some() {
            n += 1;
        }
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
            r#"{"format":"truce-bundle","version":2,"features":["attachments"],"bundle_id":"ab"}"#;
        let refused =
            BundleReader::from_plaintext(format!("{newer}\n").as_bytes(), Limits::default())
                .err()
                .expect("refused");
        assert!(
            matches!(refused, BundleError::TooNew { found: 2, known: 1 }),
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
