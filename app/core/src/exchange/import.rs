//! Import on a coordinator: bundle files read and verified on one thread, merged on another,
//! each bundle whole or not at all; devices registered as pending, gaps found once per commit.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SendError, SyncSender};
use std::time::{Duration, Instant};

use truce_sync::bundle::{BundleReader, Limits, Manifest};
use truce_sync::log::{self, Merge, Neighbours};
use truce_sync::{fingerprint, Taxonomy};
use uuid::Uuid;

use super::export::BUNDLE_EXTENSION;
use super::keys::CoordinatorIdentity;
use crate::evidence::AttachmentSink;
use crate::journal::{now, Journal, JournalError};
use crate::model::ImportReport;
use crate::store::{
    DeviceRegistration, ImportRun, ImportedBundle, RevisionText, SignedTextRow, Store, StoreError,
    StoredAttachment,
};

impl Journal {
    /// Imports one bundle file: decrypt, verify signature and chain, validate every record,
    /// then write everything in one transaction, or nothing. A refused bundle is recorded as
    /// quarantined and reported, not returned as an error; errors are for the journal itself.
    pub fn import_bundle(&mut self, path: &Path) -> Result<ImportReport, JournalError> {
        let mut reports = Vec::new();
        self.import_bundles(&[path.to_path_buf()], |durable| {
            reports.extend_from_slice(durable)
        })?;
        reports
            .pop()
            .ok_or_else(|| JournalError::Refused(format!("{} was not imported", path.display())))
    }

    /// Imports bundle files in order, each one whole or not at all, as [`Self::import_bundle`]
    /// does, but in one run: the bundles share a transaction that is committed every
    /// [`IMPORT_COMMIT_ENTRIES`] entries or [`IMPORT_COMMIT_INTERVAL`], and at the end, so the
    /// run waits for one `fsync` per commit rather than one per bundle.
    ///
    /// `on_durable` is given the reports of the bundles each commit made durable, in order;
    /// nothing is reported before it is on disk. On an error of the journal itself (disk
    /// full, damage), the bundles since the last commit are rolled back, not reported, and the
    /// error is returned: importing the same files again picks up where it stopped.
    pub fn import_bundles(
        &mut self,
        files: &[PathBuf],
        mut on_durable: impl FnMut(&[ImportReport]),
    ) -> Result<(), JournalError> {
        // A regional office keeps what it imports, byte for byte, to forward to HQ, and takes
        // HQ's receipts among the files to learn what HQ holds.
        if !self.is_regional_office() {
            return self.import_bundles_only(files, on_durable);
        }
        let mut kept = Vec::new();
        let result = self.import_bundles_only(files, |durable| {
            kept.extend(
                durable
                    .iter()
                    .filter(|r| r.refused.is_none() && r.passed_over.is_none() && !r.held_already)
                    .cloned(),
            );
            on_durable(durable);
        });
        for report in &kept {
            self.keep_for_forwarding(report)?;
        }
        result?;
        self.take_upstream_receipts(files)?;
        Ok(())
    }

    /// [`Self::import_bundles`] without what a regional office adds.
    fn import_bundles_only(
        &mut self,
        files: &[PathBuf],
        on_durable: impl FnMut(&[ImportReport]),
    ) -> Result<(), JournalError> {
        let identity = self.coordinator_identity()?;
        let sink = self.attachment_sink()?;
        self.remove_unnamed_attachment_files()?;
        let mission = self.profile.as_ref().map(|p| p.profile.mission.clone());
        let enrolment_required = self
            .profile
            .as_ref()
            .is_some_and(|p| p.profile.enrolment_required());
        let taxonomy = &self.taxonomy;
        let store = &mut self.store;
        // Two threads: one reads the bundles (decrypts, decompresses, checks the chain, parses
        // the records) while this one writes what it has read.
        let identity = &identity;
        let sink = &sink;
        let mission = mission.as_deref();
        std::thread::scope(|scope| {
            let (sender, reads) = std::sync::mpsc::sync_channel(READ_AHEAD);
            scope.spawn(move || read_bundles(files, identity, sink, mission, taxonomy, sender));
            merge_bundles(store, sink, (files, enrolment_required), reads, on_durable)
        })
    }

    /// Entries received from other devices, and bundles refused (quarantined) so far.
    pub fn received_and_quarantined(&self) -> Result<(u64, u64), JournalError> {
        Ok((
            self.store.received_count()?,
            self.store.quarantined_count()?,
        ))
    }
}

/// Most entries an import run writes before it commits.
pub const IMPORT_COMMIT_ENTRIES: u64 = 50_000;

/// Longest an import run goes without committing (checked after each bundle).
pub const IMPORT_COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Entries the reading thread hands over at a time.
const READ_BATCH: usize = 256;

/// Batches the reading thread may be ahead by (bounds the memory an import holds).
const READ_AHEAD: usize = 16;

/// What the reading thread hands over, in order. Per bundle file: `Opened` or `Refused`; after
/// `Opened`, any number of `Entries`, then `Done` (with the attachments it stored once the
/// signature verified) or `Refused`.
enum Read {
    Opened {
        manifest: Box<Manifest>,
        fingerprint: String,
    },
    Entries(Vec<ReadEntry>),
    Done(Box<Kept>),
    Refused(String),
    /// Another kind of Truce file (a receipt): neither imported nor quarantined.
    PassedOver(String),
}

/// What the reading thread stored of a verified bundle, for the merge to name in its
/// savepoint (or remove, if the merge refuses it): its attachments and its signed text.
struct Kept {
    attachments: Vec<StoredAttachment>,
    signed_text: SignedTextRow,
}

/// One entry read, its chain link checked, its record parsed and validated, and its text
/// columns formatted for the journal (work taken off the writing thread, the bottleneck).
struct ReadEntry {
    entry: log::LogEntry,
    record: log::ParsedRecord,
    text: RevisionText,
}

/// The reading thread: each file in turn. Stops when the writing side has hung up.
fn read_bundles(
    files: &[PathBuf],
    identity: &CoordinatorIdentity,
    sink: &AttachmentSink,
    mission: Option<&str>,
    taxonomy: &Taxonomy,
    out: SyncSender<Read>,
) {
    for path in files {
        if read_bundle(path, identity, sink, mission, taxonomy, &out).is_err() {
            return;
        }
    }
}

fn read_bundle(
    path: &Path,
    identity: &CoordinatorIdentity,
    sink: &AttachmentSink,
    mission: Option<&str>,
    taxonomy: &Taxonomy,
    out: &SyncSender<Read>,
) -> Result<(), SendError<Read>> {
    let refuse = |text: String| out.send(Read::Refused(text));
    // The signed lines are kept as they are read (see `Kept`); an uncommitted copy leaves
    // nothing behind.
    let mut signed_text = match sink.keep_text() {
        Ok(text) => text,
        Err(e) => return refuse(e),
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return refuse(format!("cannot read the file: {e}")),
    };
    let mut reader =
        match BundleReader::open(std::io::BufReader::new(file), identity, Limits::default()) {
            Ok(reader) => reader,
            Err(truce_sync::bundle::BundleError::OtherFile(kind)) => {
                return out.send(Read::PassedOver(kind))
            }
            Err(e) => return refuse(e.to_string()),
        };
    let device_id = reader.manifest().device_id;
    if let Some(mission) = mission.filter(|m| *m != reader.manifest().mission) {
        return refuse(format!(
            "the bundle is for mission \"{}\", not this coordinator's mission \"{mission}\"; it was sent with another mission's profile",
            reader.manifest().mission
        ));
    }
    if let Err(e) = reader.keep_signed_lines(&mut signed_text) {
        return refuse(format!("cannot keep the bundle's signed text: {e}"));
    }
    let manifest = reader.manifest().clone();
    out.send(Read::Opened {
        manifest: Box::new(reader.manifest().clone()),
        fingerprint: fingerprint(reader.device_key()),
    })?;
    let mut batch = Vec::with_capacity(READ_BATCH);
    // The attachments the bundle's records name: their size and type, by hash, and the order
    // they are first named in, which is the order the bundle carries them in.
    let mut named: HashMap<[u8; 32], (u64, String)> = HashMap::new();
    let mut order: Vec<[u8; 32]> = Vec::new();
    loop {
        let entry = match reader.next_entry() {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(e) => return refuse(e.to_string()),
        };
        let record = match log::parse_record(entry.seq, entry.record.get(), taxonomy) {
            Ok(record) => record,
            Err(e) => return refuse(format!("invalid record: {e}")),
        };
        if record.revision.device_id != device_id {
            return refuse(format!(
                "entry {} holds a record of device {}, not of the device that signed the bundle",
                entry.seq, record.revision.device_id
            ));
        }
        for a in &record.revision.observation.attachments {
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(&a.sha256, &mut hash).is_ok()
                && named.insert(hash, (a.size, a.media_type.clone())).is_none()
            {
                order.push(hash);
            }
        }
        let text = RevisionText::of(&record.revision);
        batch.push(ReadEntry {
            entry,
            record,
            text,
        });
        if batch.len() == READ_BATCH {
            out.send(Read::Entries(std::mem::replace(
                &mut batch,
                Vec::with_capacity(READ_BATCH),
            )))?;
        }
    }
    if !batch.is_empty() {
        out.send(Read::Entries(batch))?;
    }
    // A text-first bundle leaves some for later: each must be named by a record here, and the
    // bundle carries the others, in the order they are first named.
    for hash in &manifest.pending_attachments {
        let mut bytes = [0u8; 32];
        if hex::decode_to_slice(hash, &mut bytes).is_err() || !named.contains_key(&bytes) {
            return refuse(format!(
                "pending attachment {hash} is named by no record of this bundle"
            ));
        }
    }
    let pending: std::collections::HashSet<&str> = manifest
        .pending_attachments
        .iter()
        .map(String::as_str)
        .collect();
    order.retain(|hash| !pending.contains(hex::encode(hash).as_str()));
    // Version 2: each attachment stored as it streams in, checked against its hash and
    // against the record that names it; then the signature over all of it. A refusal removes
    // what was stored.
    let mut stored: Vec<StoredAttachment> = Vec::new();
    let refused = |stored: &[StoredAttachment], text: String| {
        sink.discard(stored);
        out.send(Read::Refused(text))
    };
    loop {
        let (hash, size) = match reader.next_attachment() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(e) => return refused(&stored, e.to_string()),
        };
        let Some((named_size, media_type)) = named.get(&hash) else {
            return refused(
                &stored,
                format!(
                    "attachment {} is named by no record of this bundle",
                    hex::encode(hash)
                ),
            );
        };
        if order.get(stored.len()) != Some(&hash) {
            return refused(
                &stored,
                format!(
                    "attachment {} is out of place: a bundle carries its attachments in the order its records first name them",
                    hex::encode(hash)
                ),
            );
        }
        if size > sink.max_bytes {
            return refused(
                &stored,
                format!(
                    "attachment {} is {size} bytes, over the mission profile's limit of {}",
                    hex::encode(hash),
                    sink.max_bytes
                ),
            );
        }
        if *named_size != size {
            return refused(
                &stored,
                format!(
                    "attachment {} is {size} bytes, and its record says {named_size}",
                    hex::encode(hash)
                ),
            );
        }
        match sink.store(&mut reader.attachment_data(), hash, size, media_type) {
            Ok(file) => stored.push(file),
            Err(text) => return refused(&stored, text),
        }
    }
    if reader.manifest().version >= 2 && stored.len() < order.len() {
        return refused(
            &stored,
            format!(
                "attachment {} is named by a record of this bundle and missing from it",
                hex::encode(order[stored.len()])
            ),
        );
    }
    let verified = match reader.finish() {
        Ok(verified) => verified,
        Err(e) => return refused(&stored, e.to_string()),
    };
    let file = match signed_text.commit() {
        Ok(file) => file,
        Err(e) => {
            return refused(
                &stored,
                format!("cannot keep the bundle's signed text in the journal's folder: {e}"),
            )
        }
    };
    out.send(Read::Done(Box::new(Kept {
        attachments: stored,
        signed_text: SignedTextRow {
            bundle_id: manifest.bundle_id,
            device_id: manifest.device_id.to_string(),
            version: verified.version,
            first_seq: manifest.first_seq,
            last_seq: manifest.last_seq,
            file,
            lines_sha256: verified.lines_digest,
            signature: verified.signature,
            attachment_hashes: verified.attachments,
        },
    })))
}

/// The reading thread's messages for the bundle being merged.
struct BundleStream<'r> {
    reads: &'r Receiver<Read>,
    ended: bool,
}

impl BundleStream<'_> {
    fn next(&mut self) -> Result<Read, JournalError> {
        let read = self.reads.recv().map_err(|_| JournalError::Internal {
            what: "read the bundles to the end",
            source: "the bundle reader stopped before the end of the files".into(),
        })?;
        self.ended = matches!(read, Read::Done(_) | Read::Refused(_) | Read::PassedOver(_));
        Ok(read)
    }

    /// Skips what is left of a bundle the merge refused part way; what its reading stored
    /// is removed now (nothing names it).
    fn drain(&mut self, sink: &AttachmentSink) -> Result<(), JournalError> {
        while !self.ended {
            if let Read::Done(kept) = self.next()? {
                sink.discard_kept(&kept.attachments, &kept.signed_text.file);
            }
        }
        Ok(())
    }
}

/// The writing side: merges each bundle read into the journal in one import run, committing
/// as [`Journal::import_bundles`] says.
fn merge_bundles(
    store: &mut Store,
    sink: &AttachmentSink,
    (files, enrolment_required): (&[PathBuf], bool),
    reads: Receiver<Read>,
    mut on_durable: impl FnMut(&[ImportReport]),
) -> Result<(), JournalError> {
    let mut run = store.begin_import_run()?;
    let mut pending = Vec::new();
    let mut since = Instant::now();
    for path in files {
        let at = now().to_rfc3339();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut stream = BundleStream {
            reads: &reads,
            ended: false,
        };
        let merged = merge_bundle(
            &mut run,
            sink,
            path,
            &mut stream,
            (&file_name, &at),
            enrolment_required,
        );
        let report = match merged {
            Ok(report) => report,
            Err(Refusal {
                device_id,
                bundle_id,
                reason,
            }) => {
                if let Some(fatal) = reason.fatal {
                    return Err(*fatal);
                }
                stream.drain(sink)?;
                run.record_quarantine(
                    &file_name,
                    bundle_id.as_deref(),
                    device_id,
                    &at,
                    &reason.text,
                )?;
                ImportReport::refused(path, device_id, reason.text)
            }
        };
        pending.push(report);
        if run.pending_entries() >= IMPORT_COMMIT_ENTRIES
            || since.elapsed() >= IMPORT_COMMIT_INTERVAL
        {
            fill_gaps(&mut run, &mut pending)?;
            run.commit()?;
            on_durable(&pending);
            pending.clear();
            since = Instant::now();
        }
    }
    fill_gaps(&mut run, &mut pending)?;
    run.finish()?;
    if !pending.is_empty() {
        on_durable(&pending);
    }
    Ok(())
}

/// The gaps of each device imported into, once per device for the reports about to be made
/// durable (not once per bundle: a stick may hold thousands of one device's bundles).
fn fill_gaps(run: &mut ImportRun<'_>, reports: &mut [ImportReport]) -> Result<(), JournalError> {
    let mut gaps: std::collections::HashMap<Uuid, Vec<(u64, u64)>> = Default::default();
    for report in reports.iter_mut().filter(|r| r.refused.is_none()) {
        let Some(device) = report.device_id else {
            continue;
        };
        let held = match gaps.entry(device) {
            std::collections::hash_map::Entry::Occupied(held) => held.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(run.received_gaps(device)?)
            }
        };
        report.gaps = held.clone();
    }
    Ok(())
}

/// Merges one bundle inside `run`, in its own savepoint: kept whole, or refused with nothing
/// written.
fn merge_bundle(
    run: &mut ImportRun<'_>,
    sink: &AttachmentSink,
    path: &Path,
    stream: &mut BundleStream<'_>,
    (file_name, at): (&str, &str),
    enrolment_required: bool,
) -> Result<ImportReport, Refusal> {
    let mut refusal = Refusal {
        device_id: None,
        bundle_id: None,
        reason: Reason::text(String::new()),
    };
    let (manifest, device_fingerprint) = match stream.next().map_err(Reason::fatal) {
        Ok(Read::Opened {
            manifest,
            fingerprint,
        }) => (*manifest, fingerprint),
        Ok(Read::Refused(text)) => return Err(refusal.with(Reason::text(text))),
        Ok(Read::PassedOver(kind)) => return Ok(ImportReport::passed_over(path, kind)),
        Ok(_) => {
            return Err(refusal.with(Reason::fatal(JournalError::Internal {
                what: "import the bundle",
                source: "the bundle reader's messages came out of order".into(),
            })))
        }
        Err(reason) => return Err(refusal.with(reason)),
    };
    refusal.device_id = Some(manifest.device_id);
    refusal.bundle_id = Some(manifest.bundle_id.clone());
    let device_id = manifest.device_id;

    let import = run
        .begin_bundle()
        .map_err(|e| refusal.with(Reason::store(e)))?;
    let known = import
        .known_device(device_id)
        .map_err(|e| refusal.with(Reason::store(e)))?;
    // Under a mission that requires enrolment, only an enrolled device's bundles merge.
    if enrolment_required && !known.as_ref().is_some_and(|k| k.enrolled) {
        return Err(refusal.with(Reason::text(format!(
            "device {device_id} ({}, fingerprint {device_fingerprint}) is not enrolled, and this mission requires enrolment: ask its observer for an enrolment request (`truce enrol`), compare the fingerprint, enrol it with `truce devices enrol FILE`, then import this bundle again",
            manifest.observer
        ))));
    }
    let (new_device, device_pending) = match known {
        Some(known) if known.device_key != manifest.device_key => {
            return Err(refusal.with(Reason::text(format!(
                "device {device_id} is known with another key; this bundle is signed by {device_fingerprint}. Possible impersonation: check with the device's observer"
            ))));
        }
        Some(known) => (false, !known.accepted),
        None => {
            // Seen for the first time: held, but pending until the coordinator confirms its
            // fingerprint with the observer (`truce devices accept`).
            import
                .register_device(
                    &DeviceRegistration {
                        device_id,
                        device_key: manifest.device_key.clone(),
                        observer: manifest.observer.clone(),
                        accepted: false,
                        enrolled: false,
                    },
                    at,
                )
                .map_err(|e| refusal.with(Reason::store(e)))?;
            (true, true)
        }
    };
    // A revoked device's bundle that goes past its cut-off: whoever holds its key now may
    // have written it.
    if let Some((after, reason)) = import
        .revocation(device_id)
        .map_err(|e| refusal.with(Reason::store(e)))?
    {
        if manifest.last_seq > after {
            return Err(refusal.with(Reason::text(format!(
                "device {device_id} was revoked after its entry {after} ({reason}); this bundle holds entries up to {}, so it is quarantined",
                manifest.last_seq
            ))));
        }
    }
    if let Some(path) = &manifest.return_path {
        import
            .set_return_path(device_id, &path.device_recipient, path.team.as_deref())
            .map_err(|e| refusal.with(Reason::store(e)))?;
    }
    let (mut new_entries, mut known_entries) = (0u64, 0u64);
    let mut newest_entry_ms: Option<i64> = None;
    let device_text = device_id.to_string();
    // Beyond the highest entry held, nothing is held around an entry: no look-up needed. The
    // entry before it, if any, came in this bundle, whose reader checked the chain link.
    let held_head = import
        .held_head(device_id)
        .map_err(|e| refusal.with(Reason::store(e)))?;
    let kept = loop {
        let batch = match stream.next() {
            Ok(Read::Entries(batch)) => batch,
            Ok(Read::Done(kept)) => break kept,
            Ok(Read::Refused(text)) => return Err(refusal.with(Reason::text(text))),
            Ok(Read::Opened { .. } | Read::PassedOver(_)) => {
                return Err(refusal.with(Reason::fatal(JournalError::Internal {
                    what: "import the bundle",
                    source: "the bundle reader's messages came out of order".into(),
                })))
            }
            Err(e) => return Err(refusal.with(Reason::fatal(e))),
        };
        // One look-up per batch (its entries are consecutive), kept up to date as it merges.
        let (first, last) = match (batch.first(), batch.last()) {
            (Some(first), Some(last)) => (first.entry.seq, last.entry.seq),
            _ => continue,
        };
        let mut held = if first > held_head + 1 {
            None
        } else {
            Some(
                import
                    .held_stretch(&device_text, first, last)
                    .map_err(|e| refusal.with(Reason::store(e)))?,
            )
        };
        for ReadEntry {
            entry,
            record,
            text,
        } in batch
        {
            let recorded_ms = record.revision.recorded_at.timestamp_millis();
            newest_entry_ms = Some(newest_entry_ms.map_or(recorded_ms, |n| n.max(recorded_ms)));
            let neighbours = held
                .as_ref()
                .map_or_else(Neighbours::default, |h| h.neighbours(entry.seq));
            match log::merge(entry.prev_hash, entry.hash, entry.seq, neighbours) {
                Merge::Known => known_entries += 1,
                Merge::Conflict(why) => {
                    return Err(refusal.with(Reason::text(format!(
                        "possible tampering: entry {} of device {device_id} contradicts what is already held ({why})",
                        entry.seq
                    ))))
                }
                Merge::New => {
                    import.insert_entry(&device_text, &entry, &text, &manifest.bundle_id, &record).map_err(|e| match e {
                        StoreError::Conflict(id) => refusal.with(Reason::text(format!(
                            "possible tampering: revision {} of observation {id} is already held with other content",
                            record.revision.revision
                        ))),
                        other => refusal.with(Reason::store(other)),
                    })?;
                    if let Some(held) = held.as_mut() {
                        held.hold(entry.seq, entry.prev_hash, entry.hash);
                    }
                    new_entries += 1;
                }
            }
        }
    };
    // The attachments' and the signed text's rows in the bundle's savepoint; new copies of
    // what is held already go.
    let Kept {
        attachments,
        signed_text,
    } = *kept;
    let discard = |e: StoreError| {
        sink.discard_kept(&attachments, &signed_text.file);
        refusal.with(Reason::store(e))
    };
    let held = import
        .insert_attachments(&attachments, at)
        .map_err(discard)?;
    if !import.keep_signed_text(&signed_text, at).map_err(discard)? {
        sink.discard_kept(&[], &signed_text.file);
    }
    sink.discard(&held);
    let held_already = import
        .finish(
            device_id,
            &ImportedBundle {
                bundle_id: &manifest.bundle_id,
                file_name,
                range: (manifest.first_seq, manifest.last_seq),
                created_at: manifest.created_at,
                newest_entry_ms,
            },
            at,
            (new_entries, known_entries),
        )
        .map_err(|e| refusal.with(Reason::store(e)))?;
    run.add_pending(new_entries);
    Ok(ImportReport {
        file: path.to_path_buf(),
        device_id: Some(device_id),
        fingerprint: Some(device_fingerprint),
        observer: Some(manifest.observer.clone()),
        new_device,
        device_pending,
        held_already,
        new_entries,
        known_entries,
        // Filled in once per device before the reports are given (see `fill_gaps`).
        gaps: Vec::new(),
        refused: None,
        passed_over: None,
        bundle: Some((
            manifest.bundle_id.clone(),
            manifest.first_seq,
            manifest.last_seq,
        )),
    })
}

/// Why an import stopped: a refusal of the bundle, or a fault of the journal itself.
struct Refusal {
    device_id: Option<Uuid>,
    bundle_id: Option<String>,
    reason: Reason,
}

struct Reason {
    text: String,
    fatal: Option<Box<JournalError>>,
}

impl Reason {
    fn text(text: String) -> Reason {
        Reason { text, fatal: None }
    }

    /// A fault of the journal itself (disk full, damage) stops the run; anything else the
    /// store refuses (a value out of range, a constraint the bundle's data breaks) refuses only
    /// this bundle.
    fn store(e: StoreError) -> Reason {
        if e.is_journal_fault() {
            Reason::fatal(e.into())
        } else {
            Reason::text(format!("the journal cannot hold this bundle's data: {e}"))
        }
    }

    fn fatal(e: JournalError) -> Reason {
        Reason {
            text: e.to_string(),
            fatal: Some(Box::new(e)),
        }
    }
}

impl Refusal {
    fn with(&self, reason: Reason) -> Refusal {
        Refusal {
            device_id: self.device_id,
            bundle_id: self.bundle_id.clone(),
            reason,
        }
    }
}

/// How deep `bundle_files` looks below a folder it is given: a stick often holds one folder
/// per team, sometimes one per day inside it.
pub const BUNDLE_FOLDER_DEPTH: usize = 3;

/// The bundle files named by `paths`: files as given; folders searched for `*.age` files, and
/// their subfolders down to [`BUNDLE_FOLDER_DEPTH`] levels, without following symbolic links
/// (a link could lead anywhere on the machine, or round in a circle) and skipping hidden files
/// and folders (unfinished temp files among them). Each folder's finds are sorted by path.
pub fn bundle_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, JournalError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            let mut folders = vec![(path.clone(), 0)];
            while let Some((folder, depth)) = folders.pop() {
                let entries =
                    std::fs::read_dir(&folder).map_err(|e| JournalError::io("read", &folder, e))?;
                for entry in entries {
                    let entry = entry.map_err(|e| JournalError::io("read", &folder, e))?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') {
                        continue;
                    }
                    // The entry itself, not what a link points to.
                    let kind = entry
                        .file_type()
                        .map_err(|e| JournalError::io("read", &entry.path(), e))?;
                    if kind.is_dir() && depth < BUNDLE_FOLDER_DEPTH {
                        folders.push((entry.path(), depth + 1));
                    } else if kind.is_file() && name.ends_with(&format!(".{BUNDLE_EXTENSION}")) {
                        found.push(entry.path());
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else if path.is_file() {
            out.push(path.clone());
        } else {
            return Err(JournalError::Refused(format!(
                "{} is neither a bundle file nor a folder",
                path.display()
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_files_look_into_team_folders_but_not_through_links_or_too_deep() {
        let dir = tempfile::tempdir().expect("temp dir");
        let usb = dir.path();
        let file = |rel: &str| {
            let path = usb.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
            std::fs::write(&path, b"x").expect("file");
            path
        };
        let expected = vec![
            file("a.age"),
            file("team-a/b.age"),
            file("team-b/2026-11-24/c.age"),
            file("team-b/x/y/d.age"),
        ];
        file("team-b/x/y/z/too-deep.age");
        file(".hidden/e.age");
        file("team-a/.f.age.tmp-1");
        file("team-a/notes.txt");
        let outside = tempfile::tempdir().expect("outside");
        std::fs::write(outside.path().join("elsewhere.age"), b"x").expect("file");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path(), usb.join("link")).expect("symlink");
            std::os::unix::fs::symlink(usb, usb.join("team-a/loop")).expect("symlink");
        }
        let found = bundle_files(&[usb.to_path_buf()]).expect("found");
        assert_eq!(found, expected);
    }
}
