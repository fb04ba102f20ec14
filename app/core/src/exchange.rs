//! Sync use cases: coordinator keys, mission profiles, bundle export on devices, bundle import
//! and merge on coordinators. Plain Rust types in and out.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc::{Receiver, SendError, SyncSender};
use std::time::{Duration, Instant};

use age::secrecy::ExposeSecret;
use chrono::{DateTime, FixedOffset};
use truce_sync::bundle::{BundleError, BundleReader, BundleWriter, Limits, Manifest};
use truce_sync::log::{self, Merge, Neighbours};
use truce_sync::profile::{MissionProfile, ProfileError, SignedProfile};
use truce_sync::{fingerprint, Role, Taxonomy};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::fsutil;
use crate::journal::{now, Journal, JournalError};
use crate::store::{DeviceRegistration, ImportRun, RevisionText, Store, StoreError};

/// File extension of bundles.
pub const BUNDLE_EXTENSION: &str = "age";

/// The coordinator's age identity. Not `Clone`, redacted in `Debug`; the secret text is
/// zeroized on drop.
pub struct CoordinatorIdentity {
    identity: age::x25519::Identity,
}

impl std::fmt::Debug for CoordinatorIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CoordinatorIdentity(<redacted>, {})",
            self.identity.to_public()
        )
    }
}

/// What `truce keys` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// The coordinator's age recipient (`age1...`), for coordinators.
    pub recipient: Option<String>,
    /// Fingerprint of the device's signing key.
    pub fingerprint: String,
    /// The device's public signing key, hex.
    pub device_key: String,
}

/// A mission profile checked before it is installed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileCheck {
    /// The profile.
    pub profile: MissionProfile,
    /// The fingerprint of the coordinator key that signed it.
    pub signer_fingerprint: String,
    /// No profile is installed yet: nothing vouches for this signer but the user's check.
    pub first_install: bool,
}

/// Which entries to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportRange {
    /// What no bundle written so far carries: with [`Journal::export`], its lowest range (a
    /// bundle carries one contiguous range); [`Journal::export_pending`] writes them all.
    Pending,
    /// The whole log again.
    All,
    /// From one sequence number to another, inclusive.
    Seqs(u64, u64),
}

/// A written bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Where it is.
    pub path: PathBuf,
    /// First and last sequence numbers in it.
    pub first_seq: u64,
    /// Last sequence number in it.
    pub last_seq: u64,
}

/// The outcome of one bundle's import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The bundle file.
    pub file: PathBuf,
    /// The sending device, when the bundle got that far.
    pub device_id: Option<Uuid>,
    /// Its key fingerprint, when known.
    pub fingerprint: Option<String>,
    /// This bundle registered a device never seen before.
    pub new_device: bool,
    /// The device is not accepted yet: its records are held, marked, but count nowhere until
    /// the coordinator confirms its fingerprint (`truce devices accept`).
    pub device_pending: bool,
    /// This very bundle was imported before (its signature verified again, every entry held):
    /// nothing changed.
    pub held_already: bool,
    /// Entries added.
    pub new_entries: u64,
    /// Entries already held.
    pub known_entries: u64,
    /// Missing ranges of the device's log once this import is durable (as the commit that
    /// holds it leaves them: found once per device, not once per bundle).
    pub gaps: Vec<(u64, u64)>,
    /// Why the bundle was refused (quarantined); None when imported.
    pub refused: Option<String>,
}

impl ImportReport {
    fn refused(file: &Path, device_id: Option<Uuid>, reason: String) -> Self {
        ImportReport {
            file: file.to_path_buf(),
            device_id,
            fingerprint: None,
            new_device: false,
            device_pending: false,
            held_already: false,
            new_entries: 0,
            known_entries: 0,
            gaps: Vec::new(),
            refused: Some(reason),
        }
    }
}

impl From<ProfileError> for JournalError {
    fn from(e: ProfileError) -> Self {
        JournalError::Profile(e)
    }
}

impl Journal {
    /// The coordinator's age identity, created on first use and kept in the encrypted journal.
    pub fn coordinator_identity(&self) -> Result<CoordinatorIdentity, JournalError> {
        self.require_coordinator("a coordinator key")?;
        if let Some(secret) = self.store.coordinator_secret()? {
            let identity = age::x25519::Identity::from_str(&secret).map_err(|e| {
                JournalError::Damaged(format!("the coordinator key is unreadable: {e}"))
            })?;
            return Ok(CoordinatorIdentity { identity });
        }
        let identity = age::x25519::Identity::generate();
        let secret = Zeroizing::new(identity.to_string().expose_secret().to_owned());
        self.store
            .set_coordinator_secret(&secret, &now().to_rfc3339())?;
        Ok(CoordinatorIdentity { identity })
    }

    /// The public keys to give to others.
    pub fn keys(&self) -> Result<Keys, JournalError> {
        let recipient = match self.device.role {
            Role::Coordinator => Some(
                self.coordinator_identity()?
                    .identity
                    .to_public()
                    .to_string(),
            ),
            Role::Monitor => None,
        };
        let verifying = self.device.signing_key.verifying_key();
        Ok(Keys {
            recipient,
            fingerprint: fingerprint(&verifying),
            device_key: hex::encode(verifying.as_bytes()),
        })
    }

    /// Restores a coordinator identity saved with `keys --export-secret` (a new laptop at the
    /// same office, a backup). Only into a coordinator journal that has no identity yet.
    pub fn import_coordinator_secret(&self, path: &Path) -> Result<String, JournalError> {
        self.require_coordinator("a coordinator key")?;
        if self.store.coordinator_secret()?.is_some() {
            return Err(JournalError::Refused(
                "this journal already has a coordinator key; Truce never replaces one, as bundles sent to it could no longer be read".into(),
            ));
        }
        let mut text = Zeroizing::new(String::new());
        std::io::Read::read_to_string(
            &mut std::io::Read::take(
                File::open(path).map_err(|e| io(e, "read", path))?,
                64 * 1024,
            ),
            &mut text,
        )
        .map_err(|e| io(e, "read", path))?;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .ok_or_else(|| {
                JournalError::Refused(format!(
                    "{} holds no age identity (AGE-SECRET-KEY-1...)",
                    path.display()
                ))
            })?;
        let identity = age::x25519::Identity::from_str(line).map_err(|e| {
            JournalError::Refused(format!(
                "{} holds an unreadable age identity: {e}",
                path.display()
            ))
        })?;
        let secret = Zeroizing::new(identity.to_string().expose_secret().to_owned());
        self.store
            .set_coordinator_secret(&secret, &now().to_rfc3339())?;
        Ok(identity.to_public().to_string())
    }

    /// Writes the coordinator's identity in age's own format (for stock `age -d -i FILE`),
    /// readable by the owner only. Refuses to overwrite a file.
    pub fn export_coordinator_secret(&self, path: &Path) -> Result<(), JournalError> {
        let identity = self.coordinator_identity()?;
        let text = Zeroizing::new(format!(
            "# Truce coordinator identity for {}\n# public key: {}\n{}\n",
            self.device.observer,
            identity.identity.to_public(),
            identity.identity.to_string().expose_secret()
        ));
        let mut file = fsutil::private_options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| io(e, "create", path))?;
        file.write_all(text.as_bytes())
            .map_err(|e| io(e, "write", path))?;
        file.sync_all().map_err(|e| io(e, "write", path))?;
        Ok(())
    }

    /// Creates and signs a mission profile naming this coordinator (and `extra_recipients`) as
    /// recipients. `template` may supply taxonomy, parties, areas, ladder and alert rules.
    pub fn create_profile(
        &mut self,
        mission: &str,
        extra_recipients: &[String],
        template: Option<MissionProfile>,
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
        let mut profile = MissionProfile::new(mission, now(), recipients);
        if let Some(t) = template {
            profile.taxonomy = t.taxonomy;
            profile.parties = t.parties;
            profile.areas = t.areas;
            profile.severity_ladder = t.severity_ladder;
            profile.alert_rules = t.alert_rules;
        }
        let text = profile.sign(&self.device.signing_key)?;
        // The coordinator uses its own profile too (taxonomy, alert rules).
        self.install_profile(SignedProfile::open(&text)?)?;
        Ok(text)
    }

    /// Keeps `signed` as the mission profile: in the journal, and as the one this unlocked
    /// journal works with (taxonomy, areas, alert rules).
    fn install_profile(&mut self, signed: SignedProfile) -> Result<(), JournalError> {
        self.store.set_profile(&signed.text, &now().to_rfc3339())?;
        self.taxonomy = signed.profile.taxonomy.clone();
        self.profile = Some(signed);
        Ok(())
    }

    /// The installed mission profile.
    pub fn profile(&self) -> Result<Option<SignedProfile>, JournalError> {
        Ok(self.profile.clone())
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

    /// Entries received from other devices, and bundles refused (quarantined) so far.
    pub fn received_and_quarantined(&self) -> Result<(u64, u64), JournalError> {
        Ok((
            self.store.received_count()?,
            self.store.quarantined_count()?,
        ))
    }

    /// Entries saved but in no bundle written so far: those of [`Self::unexported_ranges`].
    pub fn pending_export(&self) -> Result<u64, JournalError> {
        Ok(self
            .unexported_ranges()?
            .iter()
            .map(|(first, last)| last - first + 1)
            .sum())
    }

    /// The ranges of the device log that no bundle written so far carries, in order. Not
    /// only what follows the highest entry exported: a chosen range (`--from 6 --to 6`) leaves
    /// the entries before it pending.
    pub fn unexported_ranges(&self) -> Result<Vec<(u64, u64)>, JournalError> {
        let head = self.store.log_head()?;
        Ok(uncovered(self.store.exported_ranges()?, head))
    }

    /// Writes one bundle per range of [`Self::unexported_ranges`], lowest first, calling
    /// `on_written` as each is on disk; returns them all (empty: nothing to export). On an
    /// error, the bundles already written stay written and counted as exported.
    pub fn export_pending(
        &self,
        out_dir: &Path,
        mut on_written: impl FnMut(&ExportReport),
    ) -> Result<Vec<ExportReport>, JournalError> {
        self.export_recipients()?;
        let mut written = Vec::new();
        for (first, last) in self.unexported_ranges()? {
            if let Some(report) = self.export(out_dir, ExportRange::Seqs(first, last))? {
                on_written(&report);
                written.push(report);
            }
        }
        Ok(written)
    }

    fn export_recipients(&self) -> Result<(String, Vec<age::x25519::Recipient>), JournalError> {
        let profile = self.profile()?.ok_or_else(|| {
            JournalError::Refused("no mission profile installed, so there is no coordinator to encrypt to. Import the profile from your coordinator with `truce profile import FILE`".into())
        })?;
        let recipients = profile.profile.age_recipients()?;
        Ok((profile.profile.mission, recipients))
    }

    /// Writes one bundle into `out_dir` atomically. Returns `None` when there is nothing to
    /// export. [`ExportRange::Pending`] writes the lowest range not yet exported; use
    /// [`Self::export_pending`] to write every one.
    pub fn export(
        &self,
        out_dir: &Path,
        range: ExportRange,
    ) -> Result<Option<ExportReport>, JournalError> {
        let (mission, recipients) = self.export_recipients()?;
        let head = self.store.log_head()?;
        let (first, last) = match range {
            ExportRange::Pending => match self.unexported_ranges()?.first() {
                Some(&range) => range,
                None => return Ok(None),
            },
            ExportRange::All => (1, head),
            ExportRange::Seqs(a, b) => {
                if a == 0 || b < a || b > head {
                    return Err(JournalError::Refused(format!(
                        "the range {a}-{b} is not in the device log (1-{head})"
                    )));
                }
                (a, b)
            }
        };
        if first > last {
            return Ok(None);
        }
        let mut id = [0u8; 16];
        getrandom::getrandom(&mut id).map_err(JournalError::NoRandomness)?;
        let bundle_id = hex::encode(id);
        let created_at = now();
        let manifest = Manifest {
            format: truce_sync::bundle::FORMAT.into(),
            version: truce_sync::bundle::VERSION,
            bundle_id: bundle_id.clone(),
            device_id: self.device.device_id,
            device_key: hex::encode(self.device.signing_key.verifying_key().as_bytes()),
            observer: self.device.observer.clone(),
            mission,
            created_at,
            first_seq: first,
            last_seq: last,
            entry_count: last - first + 1,
        };
        let name = bundle_file_name(&created_at, &bundle_id);
        let path = out_dir.join(&name);
        let file = fsutil::AtomicFile::create(&path).map_err(|e| io(e, "create", &path))?;
        let result = (|| -> Result<fsutil::AtomicFile, JournalError> {
            let mut writer = BundleWriter::new(BufWriter::new(file), &recipients, manifest)
                .map_err(bundle_write)?;
            self.store.each_log_entry(first, last, |entry| {
                writer.stored_entry(entry).map_err(bundle_write)
            })?;
            let buffered = writer
                .finish(&self.device.signing_key)
                .map_err(bundle_write)?;
            buffered
                .into_inner()
                .map_err(|e| io(e.into_error(), "write", &path))
        })();
        let file = result?;
        file.commit().map_err(|e| io(e, "write", &path))?;
        self.store
            .record_export(&bundle_id, &created_at.to_rfc3339(), first, last, &name)?;
        Ok(Some(ExportReport {
            path,
            first_seq: first,
            last_seq: last,
        }))
    }

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
        on_durable: impl FnMut(&[ImportReport]),
    ) -> Result<(), JournalError> {
        let identity = self.coordinator_identity()?;
        let mission = self.profile.as_ref().map(|p| p.profile.mission.clone());
        let taxonomy = &self.taxonomy;
        let store = &mut self.store;
        // Two threads: one reads the bundles (decrypts, decompresses, checks the chain, parses
        // the records) while this one writes what it has read.
        let identity = &identity;
        let mission = mission.as_deref();
        std::thread::scope(|scope| {
            let (sender, reads) = std::sync::mpsc::sync_channel(READ_AHEAD);
            scope.spawn(move || read_bundles(files, identity, mission, taxonomy, sender));
            merge_bundles(store, files, reads, on_durable)
        })
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
/// `Opened`, any number of `Entries`, then `Done` or `Refused`.
enum Read {
    Opened {
        manifest: Box<Manifest>,
        fingerprint: String,
    },
    Entries(Vec<ReadEntry>),
    Done,
    Refused(String),
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
    mission: Option<&str>,
    taxonomy: &Taxonomy,
    out: SyncSender<Read>,
) {
    for path in files {
        if read_bundle(path, identity, mission, taxonomy, &out).is_err() {
            return;
        }
    }
}

fn read_bundle(
    path: &Path,
    identity: &CoordinatorIdentity,
    mission: Option<&str>,
    taxonomy: &Taxonomy,
    out: &SyncSender<Read>,
) -> Result<(), SendError<Read>> {
    let refuse = |text: String| out.send(Read::Refused(text));
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return refuse(format!("cannot read the file: {e}")),
    };
    let mut reader = match BundleReader::open(
        std::io::BufReader::new(file),
        &identity.identity,
        Limits::default(),
    ) {
        Ok(reader) => reader,
        Err(e) => return refuse(e.to_string()),
    };
    let device_id = reader.manifest().device_id;
    if let Some(mission) = mission.filter(|m| *m != reader.manifest().mission) {
        return refuse(format!(
            "the bundle is for mission \"{}\", not this coordinator's mission \"{mission}\"; it was sent with another mission's profile",
            reader.manifest().mission
        ));
    }
    out.send(Read::Opened {
        manifest: Box::new(reader.manifest().clone()),
        fingerprint: fingerprint(reader.device_key()),
    })?;
    let mut batch = Vec::with_capacity(READ_BATCH);
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
    out.send(Read::Done)
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
        self.ended = matches!(read, Read::Done | Read::Refused(_));
        Ok(read)
    }

    /// Skips what is left of a bundle the merge refused part way.
    fn drain(&mut self) -> Result<(), JournalError> {
        while !self.ended {
            self.next()?;
        }
        Ok(())
    }
}

/// The writing side: merges each bundle read into the journal in one import run, committing
/// as [`Journal::import_bundles`] says.
fn merge_bundles(
    store: &mut Store,
    files: &[PathBuf],
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
        let merged = merge_bundle(&mut run, path, &mut stream, &file_name, &at);
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
                stream.drain()?;
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
    path: &Path,
    stream: &mut BundleStream<'_>,
    file_name: &str,
    at: &str,
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
                    },
                    at,
                )
                .map_err(|e| refusal.with(Reason::store(e)))?;
            (true, true)
        }
    };
    let (mut new_entries, mut known_entries) = (0u64, 0u64);
    let device_text = device_id.to_string();
    // Beyond the highest entry held, nothing is held around an entry: no look-up needed. The
    // entry before it, if any, came in this bundle, whose reader checked the chain link.
    let held_head = import
        .held_head(device_id)
        .map_err(|e| refusal.with(Reason::store(e)))?;
    loop {
        let batch = match stream.next() {
            Ok(Read::Entries(batch)) => batch,
            Ok(Read::Done) => break,
            Ok(Read::Refused(text)) => return Err(refusal.with(Reason::text(text))),
            Ok(Read::Opened { .. }) => {
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
    }
    let held_already = import
        .finish(
            device_id,
            &manifest.bundle_id,
            file_name,
            at,
            (manifest.first_seq, manifest.last_seq),
            (new_entries, known_entries),
        )
        .map_err(|e| refusal.with(Reason::store(e)))?;
    run.add_pending(new_entries);
    Ok(ImportReport {
        file: path.to_path_buf(),
        device_id: Some(device_id),
        fingerprint: Some(device_fingerprint),
        new_device,
        device_pending,
        held_already,
        new_entries,
        known_entries,
        // Filled in once per device before the reports are given (see `fill_gaps`).
        gaps: Vec::new(),
        refused: None,
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

fn bundle_write(e: BundleError) -> JournalError {
    match e {
        BundleError::Io(e) => io(e, "write", Path::new("the bundle")),
        other => JournalError::BundleWrite(other),
    }
}

fn io(e: std::io::Error, action: &'static str, path: &Path) -> JournalError {
    if e.raw_os_error() == Some(28) {
        return JournalError::DiskFull;
    }
    JournalError::Io {
        action,
        path: path.to_path_buf(),
        cause: e,
    }
}

/// The ranges of `1..=head` that no range in `covered` (the bundles written, in any order and
/// overlapping) holds, in order.
fn uncovered(covered: Vec<(u64, u64)>, head: u64) -> Vec<(u64, u64)> {
    let covered_to = covered
        .iter()
        .filter(|(first, last)| first <= last)
        .map(|&(_, last)| last)
        .max()
        .unwrap_or(0);
    let mut out: Vec<(u64, u64)> = log::gaps_in_ranges(covered)
        .into_iter()
        .filter(|&(first, _)| first <= head)
        .map(|(first, last)| (first, last.min(head)))
        .collect();
    if head > covered_to {
        out.push((covered_to + 1, head));
    }
    out
}

/// A bundle's file name: only the date and the random bundle id.
fn bundle_file_name(at: &DateTime<FixedOffset>, bundle_id: &str) -> String {
    format!("{}-{bundle_id}.{BUNDLE_EXTENSION}", at.format("%Y%m%d"))
}

/// The bundle files named by `paths`: files as given, folders scanned (not recursively) for
/// `*.age` files, skipping hidden files such as unfinished temp files. Sorted by name.
pub fn bundle_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, JournalError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            for entry in std::fs::read_dir(path).map_err(|e| io(e, "read", path))? {
                let entry = entry.map_err(|e| io(e, "read", path))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.')
                    && name.ends_with(&format!(".{BUNDLE_EXTENSION}"))
                    && entry.path().is_file()
                {
                    found.push(entry.path());
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
mod uncovered_tests {
    use super::uncovered;

    #[test]
    fn pending_is_every_entry_no_export_covered() {
        assert_eq!(uncovered(vec![], 0), vec![]);
        assert_eq!(uncovered(vec![], 6), vec![(1, 6)]);
        assert_eq!(uncovered(vec![(1, 2)], 6), vec![(3, 6)]);
        // The case: 1-2, then 6-6 alone; 3-5 never left the device.
        assert_eq!(uncovered(vec![(1, 2), (6, 6)], 6), vec![(3, 5)]);
        assert_eq!(uncovered(vec![(6, 6), (1, 2)], 8), vec![(3, 5), (7, 8)]);
        assert_eq!(
            uncovered(vec![(2, 3), (6, 6)], 8),
            vec![(1, 1), (4, 5), (7, 8)]
        );
        // Overlapping and repeated exports (`--all`) cover what they hold, once.
        assert_eq!(uncovered(vec![(1, 6), (1, 4), (3, 6)], 6), vec![]);
        assert_eq!(uncovered(vec![(1, 3), (2, 5)], 5), vec![]);
    }
}
