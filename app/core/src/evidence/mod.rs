//! Evidence attachments: photos, audio, video and PDF attached to an observation. The record
//! names each file by the SHA-256 of its original bytes (inside the signed hash chain); the
//! bytes are kept unmodified and encrypted at rest (see `files`), and `truce check` hashes
//! them again.

pub mod camera_card;
pub mod files;
pub mod media;
mod package;
pub mod preview;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use serde_json::{Map, Value};
use truce_sync::attachment::{Attachment, MAX_ATTACHMENT_BYTES};
use truce_sync::{NewObservationDefaults, Observation, ObservationRevision};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::journal::{now, Journal, JournalError};
use crate::store::StoredAttachment;

/// The journal's attachment identity: not `Clone`, redacted in `Debug`.
struct AttachmentIdentity(age::x25519::Identity);

impl std::fmt::Debug for AttachmentIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttachmentIdentity(<redacted>)")
    }
}

/// A file's size for people: `4.8 MB`, `812 kB`, `97 bytes`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{} kB", b / 1_000),
        b => format!("{b} bytes"),
    }
}

/// One line about an attachment for people: its type, size, camera, when it was taken and
/// where (`image/jpeg, 4.8 MB, Canon EOS R6, taken 2026-11-24 05:30:12, GPS 48.51000,
/// 37.75000`). The CLI's `show` and the GUI's detail screen print it beside the file's name.
pub fn summary(a: &Attachment) -> String {
    let mut parts = vec![a.media_type.clone(), size_text(a.size)];
    if let Some(exif) = &a.exif {
        parts.extend(exif.camera.clone());
        parts.extend(exif.camera_time.as_ref().map(|t| format!("taken {t}")));
        if let (Some(lat), Some(lon)) = (exif.lat, exif.lon) {
            parts.push(format!("GPS {lat:.5}, {lon:.5}"));
        }
    }
    parts.join(", ")
}

/// Where a coordinator's import stores the attachments that arrive in bundles: the journal's
/// attachment store, reached from the reading thread without the journal.
pub(crate) struct AttachmentSink {
    folder: PathBuf,
    recipient: age::x25519::Recipient,
    /// The mission's largest attachment.
    pub(crate) max_bytes: u64,
}

impl AttachmentSink {
    /// Streams an arriving attachment into the store. `data` checks the bytes against their
    /// hash as they are read (a read error of kind `InvalidData` says they differ), so they are
    /// not hashed again here; `size` is what the record that names it says.
    pub(crate) fn store(
        &self,
        data: &mut dyn Read,
        hash: [u8; 32],
        size: u64,
        media_type: &str,
    ) -> Result<StoredAttachment, String> {
        let mut head = Vec::new();
        let mut data = HeadTee {
            inner: data,
            head: &mut head,
        };
        // `data` fails its last read when the bytes do not hash to `hash`.
        let (file, copied_size) =
            files::copy_verified(&self.folder, &mut data, &self.recipient, size).map_err(|e| {
                match e {
                    files::CopyError::Read(e) => e.to_string(),
                    files::CopyError::Write(e) => {
                        format!("cannot store it in {}: {e}", self.folder.display())
                    }
                    files::CopyError::TooLarge => "it is larger than its record says".into(),
                }
            })?;
        let stored = StoredAttachment {
            sha256: hash,
            file,
            size: copied_size,
            media_type: media_type.to_owned(),
        };
        if copied_size != size {
            self.discard(std::slice::from_ref(&stored));
            return Err(format!(
                "attachment {} is not the file its record names (size {copied_size} where {size} was expected)",
                hex::encode(hash),
            ));
        }
        // The content must be what the record says, and an image must be one Truce decodes
        // safely: the device applied the same rules when it attached the file.
        let problem = match media::media_type(&head) {
            Some(found) if found != media_type => Some(format!(
                "its content is {found}, and its record says {media_type}"
            )),
            None => Some(format!(
                "its content is not a type Truce accepts, and its record says {media_type}"
            )),
            Some(_) => preview::image_size_problem(media_type, &head),
        };
        if let Some(problem) = problem {
            self.discard(std::slice::from_ref(&stored));
            return Err(format!("attachment {}: {problem}", hex::encode(hash)));
        }
        Ok(stored)
    }

    /// Removes stored files of a bundle that was refused, or copies of files held already.
    pub(crate) fn discard(&self, stored: &[StoredAttachment]) {
        for a in stored {
            let _ = std::fs::remove_file(self.folder.join(&a.file));
        }
    }

    /// Starts keeping a bundle's signed text as it is read (committed once it verified).
    pub(crate) fn keep_text(&self) -> Result<files::SealedText, String> {
        files::SealedText::create(&self.folder, &self.recipient).map_err(|e| {
            format!(
                "cannot keep the bundle's signed text in {}: {e}",
                self.folder.display()
            )
        })
    }

    /// Removes what a refused bundle's reading stored: its attachments and signed text.
    pub(crate) fn discard_kept(&self, stored: &[StoredAttachment], signed_text: &str) {
        self.discard(stored);
        let _ = std::fs::remove_file(self.folder.join(signed_text));
    }
}

/// A reader that keeps a copy of the first [`preview::HEADER_BYTES`] it passes on.
struct HeadTee<'a, 'h> {
    inner: &'a mut dyn Read,
    head: &'h mut Vec<u8>,
}

impl Read for HeadTee<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let room = (preview::HEADER_BYTES as usize).saturating_sub(self.head.len());
        self.head.extend_from_slice(&buf[..n.min(room)]);
        Ok(n)
    }
}

/// Adds the files of `prepared` the observation does not name yet, after those it names.
fn name_prepared(observation: &mut Observation, prepared: &[Prepared]) {
    for p in prepared {
        if !observation
            .attachments
            .iter()
            .any(|a| a.sha256 == p.attachment.sha256)
        {
            observation.attachments.push(p.attachment.clone());
        }
    }
}

/// The store rows of `prepared`, saved with the revision that names them.
fn stored_rows(prepared: &[Prepared]) -> Vec<StoredAttachment> {
    prepared.iter().map(|p| p.stored.clone()).collect()
}

/// A file read into the store for a revision about to be saved.
pub(crate) struct Prepared {
    attachment: Attachment,
    stored: StoredAttachment,
}

impl Journal {
    /// The age identity attachment files are encrypted to, made on first use and kept in the
    /// encrypted journal.
    fn attachment_identity(&self) -> Result<AttachmentIdentity, JournalError> {
        if let Some(secret) = self.store.attachment_secret()? {
            let identity = age::x25519::Identity::from_str(&secret).map_err(|e| {
                JournalError::Damaged(format!("the attachment key is unreadable: {e}"))
            })?;
            return Ok(AttachmentIdentity(identity));
        }
        let identity = age::x25519::Identity::generate();
        let secret = Zeroizing::new(identity.to_string().expose_secret().to_owned());
        self.store
            .set_attachment_secret(&secret, &now().to_rfc3339())?;
        Ok(AttachmentIdentity(identity))
    }

    /// The attachment store for an import's reading thread.
    pub(crate) fn attachment_sink(&self) -> Result<AttachmentSink, JournalError> {
        Ok(AttachmentSink {
            folder: self.attachments_folder(),
            recipient: self.attachment_identity()?.0.to_public(),
            max_bytes: self.mission_limits().attachment_max_bytes(),
        })
    }

    pub(crate) fn attachments_folder(&self) -> PathBuf {
        self.paths.attachments.clone()
    }

    /// Reads each of `paths` into the encrypted store: its type from its content, its EXIF
    /// summary, its hash. A file already held is not stored twice. When one file is refused,
    /// those this call stored are removed again.
    fn prepare(&self, paths: &[PathBuf]) -> Result<Vec<Prepared>, JournalError> {
        self.remove_unnamed_attachment_files()?;
        let mut prepared: Vec<Prepared> = Vec::new();
        match self.prepare_into(paths, &mut prepared) {
            Ok(()) => Ok(prepared),
            Err(e) => {
                self.forget(&prepared);
                Err(e)
            }
        }
    }

    fn prepare_into(
        &self,
        paths: &[PathBuf],
        prepared: &mut Vec<Prepared>,
    ) -> Result<(), JournalError> {
        let identity = self.attachment_identity()?;
        let recipient = identity.0.to_public();
        let folder = self.attachments_folder();
        let limits = self.mission_limits();
        let max_bytes = limits.attachment_max_bytes();
        for path in paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut head = Vec::with_capacity(media::SNIFF_BYTES);
            File::open(path)
                .and_then(|f| f.take(preview::HEADER_BYTES).read_to_end(&mut head))
                .map_err(|e| JournalError::io("read", path, e))?;
            let media_type = media::media_type(&head).ok_or_else(|| {
                JournalError::Refused(format!(
                    "{} is not a photo, recording, video or PDF that Truce accepts (JPEG, PNG, WebP, HEIC, Ogg/Opus, M4A, MP3, WAV, MP4, PDF), judging by its content",
                    path.display()
                ))
            })?;
            if !limits.allows(media_type) {
                return Err(JournalError::Refused(format!(
                    "{} is {media_type}, which the mission profile does not allow to attach",
                    path.display()
                )));
            }
            if let Some(problem) = preview::image_size_problem(media_type, &head) {
                return Err(JournalError::Refused(format!(
                    "{} is refused: {problem}",
                    path.display()
                )));
            }
            let facts = File::open(path)
                .map(|f| media::photo_facts(media_type, f))
                .unwrap_or_default();
            let copied =
                files::copy_in(&folder, path, &recipient, max_bytes).map_err(|e| match e {
                    files::CopyError::Read(e) => JournalError::io("read", path, e),
                    files::CopyError::Write(e) => JournalError::io("write", &folder, e),
                    files::CopyError::TooLarge if max_bytes < MAX_ATTACHMENT_BYTES => {
                        JournalError::Refused(format!(
                            "{} is larger than {}, the most the mission profile allows one attachment",
                            path.display(),
                            size_text(max_bytes)
                        ))
                    }
                    files::CopyError::TooLarge => JournalError::Refused(format!(
                        "{} is larger than {} MiB, the most one attachment may hold",
                        path.display(),
                        MAX_ATTACHMENT_BYTES / (1024 * 1024)
                    )),
                })?;
            let sha256 = hex::encode(copied.sha256);
            // The same file named twice in one call: one copy.
            if prepared.iter().any(|p| p.attachment.sha256 == sha256) {
                let _ = std::fs::remove_file(folder.join(&copied.file));
                continue;
            }
            // A file already held keeps its stored copy; this one goes.
            let held = self.store.attachment(&copied.sha256)?;
            let stored = match held {
                Some(held) => {
                    let _ = std::fs::remove_file(folder.join(&copied.file));
                    held
                }
                None => StoredAttachment {
                    sha256: copied.sha256,
                    file: copied.file,
                    size: copied.size,
                    media_type: media_type.to_owned(),
                },
            };
            prepared.push(Prepared {
                attachment: Attachment {
                    sha256,
                    size: copied.size,
                    media_type: media_type.to_owned(),
                    name,
                    captured_at: facts.captured_at,
                    exif: facts.exif,
                },
                stored,
            });
        }
        Ok(())
    }

    /// Removes the stored files of `prepared` that no saved revision came to name (the save
    /// failed after they were written).
    fn forget(&self, prepared: &[Prepared]) {
        for p in prepared {
            if matches!(self.store.attachment(&p.stored.sha256), Ok(None)) {
                let _ = std::fs::remove_file(self.attachments_folder().join(&p.stored.file));
            }
        }
    }

    /// Refuses a record that names a file this journal does not hold: a record's attachments
    /// come from files attached here, never from typed hashes.
    pub(crate) fn require_held(
        &self,
        observation: &Observation,
        prepared: &[Prepared],
    ) -> Result<(), JournalError> {
        for a in &observation.attachments {
            if prepared.iter().any(|p| p.attachment.sha256 == a.sha256) {
                continue;
            }
            let mut hash = [0u8; 32];
            let held = hex::decode_to_slice(&a.sha256, &mut hash).is_ok()
                && self.store.attachment(&hash)?.is_some();
            if !held {
                return Err(JournalError::Refused(format!(
                    "the record names attachment {} that this journal does not hold; attach files with --attach FILE (or `truce attach ID FILE`), not by typing their hashes",
                    a.sha256
                )));
            }
        }
        Ok(())
    }

    /// Refuses an observation naming more files than the mission profile allows one.
    fn within_attachment_count(&self, observation: &Observation) -> Result<(), JournalError> {
        let most = self.mission_limits().attachments_per_observation();
        if observation.attachments.len() > most {
            return Err(JournalError::Refused(format!(
                "the observation would name {} attachments; the mission profile allows {most}",
                observation.attachments.len()
            )));
        }
        Ok(())
    }

    /// Records a new observation (schema v1 JSON) with `files` attached: each file is read into
    /// the encrypted store first, then the record naming them is saved in one transaction with
    /// their rows, durably. Nothing is saved if any file is refused.
    pub fn record_with_attachments(
        &mut self,
        input: Map<String, Value>,
        files: &[PathBuf],
    ) -> Result<ObservationRevision, JournalError> {
        let now = now();
        let defaults = NewObservationDefaults {
            id: Uuid::now_v7(),
            now,
        };
        let mut observation = Observation::from_new_json(input, defaults, &self.taxonomy)?;
        let prepared = self.prepare(files)?;
        let saved = (|| {
            name_prepared(&mut observation, &prepared);
            observation.validate(&self.taxonomy)?;
            self.within_attachment_count(&observation)?;
            self.require_held(&observation, &prepared)?;
            let revision = self.revision_of(observation, 1, now);
            let stored = stored_rows(&prepared);
            self.store.insert_new(&revision, &stored)?;
            Ok(revision)
        })();
        if saved.is_err() {
            self.forget(&prepared);
        }
        saved
    }

    /// Attaches `files` to an observation of this device: a new revision that names them after
    /// the ones it named already.
    pub fn attach(
        &mut self,
        id_or_prefix: &str,
        files: &[PathBuf],
    ) -> Result<ObservationRevision, JournalError> {
        if files.is_empty() {
            return Err(JournalError::Refused(
                "name at least one file to attach".into(),
            ));
        }
        let current = self.own_latest(id_or_prefix)?;
        let prepared = self.prepare(files)?;
        let saved = (|| {
            let mut observation = current.observation.clone();
            name_prepared(&mut observation, &prepared);
            if observation == current.observation {
                return Err(JournalError::Refused(
                    "the observation names these files already; nothing to attach".into(),
                ));
            }
            observation.validate(&self.taxonomy)?;
            self.within_attachment_count(&observation)?;
            let revision = self.revision_of(observation, current.revision + 1, now());
            let stored = stored_rows(&prepared);
            self.store.append_revision(&revision, &stored)?;
            Ok(revision)
        })();
        if saved.is_err() {
            self.forget(&prepared);
        }
        saved
    }

    /// Writes the original bytes of the attachment `sha256` to `out` (a new file; an existing
    /// one is refused). The copy is NOT encrypted: callers say so.
    pub fn save_attachment_copy(&self, sha256: &str, out: &Path) -> Result<u64, JournalError> {
        let stored = self.held_attachment(sha256)?;
        if out.exists() {
            return Err(JournalError::Refused(format!(
                "{} exists already; choose a new file name",
                out.display()
            )));
        }
        let identity = self.attachment_identity()?;
        let mut reader = files::open(&self.attachments_folder(), &stored.file, &identity.0)
            .map_err(|e| JournalError::io("read", &self.attachments_folder(), e))?;
        let mut file = crate::fsutil::AtomicFile::create(out)
            .map_err(|e| JournalError::io("write", out, e))?;
        let size =
            io::copy(&mut reader, &mut file).map_err(|e| JournalError::io("write", out, e))?;
        file.commit()
            .map_err(|e| JournalError::io("write", out, e))?;
        Ok(size)
    }

    /// The attachments `record` (a record's JSON as its entry holds it) names that this
    /// journal holds and `into` lacks, appended in the order named: what a bundle of the
    /// record carries.
    pub(crate) fn collect_held_attachments(
        &self,
        record: &str,
        into: &mut Vec<StoredAttachment>,
    ) -> Result<(), JournalError> {
        #[derive(serde::Deserialize)]
        struct Named {
            #[serde(default)]
            attachments: Vec<Attachment>,
        }
        // Most records name no file: no parse for them (an export reads every record).
        if !record.contains("\"attachments\"") {
            return Ok(());
        }
        let Ok(named) = serde_json::from_str::<Named>(record) else {
            return Ok(());
        };
        for a in named.attachments {
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(&a.sha256, &mut hash).is_err()
                || into.iter().any(|held| held.sha256 == hash)
            {
                continue;
            }
            if let Some(held) = self.store.attachment(&hash)? {
                into.push(held);
            }
        }
        Ok(())
    }

    /// The original bytes of a stored attachment, decrypted as they are read.
    pub(crate) fn open_attachment(
        &self,
        stored: &StoredAttachment,
    ) -> Result<impl Read + use<>, JournalError> {
        let identity = self.attachment_identity()?;
        files::open(&self.attachments_folder(), &stored.file, &identity.0)
            .map_err(|e| JournalError::io("read", &self.attachments_folder(), e))
    }

    /// Whether this journal holds the attachment `sha256` (hex): on a coordinator, `false`
    /// while a text-first export's file has not arrived.
    pub fn holds_attachment(&self, sha256: &str) -> Result<bool, JournalError> {
        let mut hash = [0u8; 32];
        if hex::decode_to_slice(sha256.trim(), &mut hash).is_err() {
            return Ok(false);
        }
        Ok(self.store.attachment(&hash)?.is_some())
    }

    fn held_attachment(&self, sha256: &str) -> Result<StoredAttachment, JournalError> {
        let mut hash = [0u8; 32];
        let unknown = || {
            JournalError::Refused(format!(
                "this journal holds no attachment {sha256}; `truce show ID` lists an observation's attachments"
            ))
        };
        hex::decode_to_slice(sha256.trim(), &mut hash).map_err(|_| unknown())?;
        self.store.attachment(&hash)?.ok_or_else(unknown)
    }

    /// `truce check`'s part: every stored attachment hashed again against its name, and every
    /// attachment this device's records name found. Returns the problems; empty is healthy.
    pub fn attachment_problems(&self) -> Result<Vec<String>, JournalError> {
        let stored = self.store.attachments()?;
        let mut problems = Vec::new();
        if stored.is_empty() && self.store.signed_text_files()?.is_empty() {
            return Ok(problems);
        }
        let identity = self.attachment_identity()?;
        let folder = self.attachments_folder();
        for a in &stored {
            match files::hash_of(&folder, &a.file, &identity.0) {
                Ok((hash, size)) if hash == a.sha256 && size == a.size => {}
                Ok(_) => problems.push(format!(
                    "attachment {}: its stored bytes do not match its hash (altered after it was stored)",
                    hex::encode(a.sha256)
                )),
                Err(e) if e.kind() == io::ErrorKind::NotFound => problems.push(format!(
                    "attachment {}: its file {} is missing",
                    hex::encode(a.sha256),
                    a.file
                )),
                Err(e) => problems.push(format!(
                    "attachment {}: its file cannot be read ({e})",
                    hex::encode(a.sha256)
                )),
            }
        }
        for text in self.store.signed_texts()? {
            if let Some(problem) = self.signed_text_problem(&text, &identity) {
                problems.push(format!(
                    "signed text of bundle {}: {problem}",
                    text.bundle_id
                ));
            }
        }
        Ok(problems)
    }

    /// What is wrong with a kept signed text, if anything: unreadable, altered, or a signature
    /// its device's key does not verify.
    fn signed_text_problem(
        &self,
        text: &crate::store::SignedTextRow,
        identity: &AttachmentIdentity,
    ) -> Option<String> {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        let read = files::open_text(&self.attachments_folder(), &text.file, &identity.0)
            .and_then(|mut r| io::copy(&mut r, &mut files::HashWriter(&mut hasher)));
        if let Err(e) = read {
            return Some(format!("its file {} cannot be read ({e})", text.file));
        }
        let digest: [u8; 32] = hasher.finalize().into();
        if digest != text.lines_sha256 {
            return Some("its lines do not match their hash (altered after import)".into());
        }
        let key = match self.store.evidence_device(&text.device_id) {
            Ok(Some(device)) => truce_sync::bundle::parse_device_key(&device.device_key),
            _ => None,
        };
        let Some(key) = key else {
            return Some(format!("its device {} is not known", text.device_id));
        };
        let verified = truce_sync::bundle::Verified {
            version: text.version,
            lines_digest: text.lines_sha256,
            attachments: text.attachment_hashes.clone(),
            signature: text.signature,
        };
        let signature = ed25519_dalek::Signature::from_bytes(&text.signature);
        if key
            .verify_strict(&verified.signed_message(), &signature)
            .is_err()
        {
            return Some("its signature does not verify with its device's key".into());
        }
        None
    }

    /// Files under `attachments/` that no record names and that are over an hour old (a save
    /// interrupted after the file was written; a younger one may be another Truce process's
    /// save in progress): removed. Returns how many.
    pub fn remove_unnamed_attachment_files(&self) -> Result<usize, JournalError> {
        let folder = self.attachments_folder();
        let listed =
            files::stored_files(&folder).map_err(|e| JournalError::io("read", &folder, e))?;
        if listed.is_empty() {
            return Ok(0);
        }
        let mut named: std::collections::HashSet<String> = self
            .store
            .attachments()?
            .into_iter()
            .map(|a| a.file)
            .collect();
        named.extend(self.store.signed_text_files()?);
        let old = |file: &str| {
            std::fs::metadata(folder.join(file))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600))
        };
        let mut removed = 0;
        for file in listed {
            if !named.contains(&file)
                && old(&file)
                && std::fs::remove_file(folder.join(&file)).is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
