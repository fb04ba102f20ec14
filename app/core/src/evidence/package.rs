//! Evidence packages: an observation's original files with the signed entries that name them,
//! the device's public key, the verification trail, and a README with the stock-tool commands
//! (`sha256sum`, `openssl`) that check every hash and signature without trusting Truce.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use ed25519_dalek::pkcs8::EncodePublicKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use truce_sync::bundle::{self, Verified};
use truce_sync::{fingerprint, ObservationRevision};

use super::{files, media};
use crate::fsutil::{self, AtomicFile};
use crate::journal::{now, Journal, JournalError};
use crate::model::EvidencePackage;
use crate::store::SignedTextRow;

/// One original in a package: which revision first named it, and the signed text holding it.
struct Named {
    sha256: String,
    name: String,
    media_type: String,
    size: u64,
    revision: u32,
    seq: Option<u64>,
    bundle: Option<String>,
}

/// `manifest.json` of a package: what it holds, for programs.
#[derive(Serialize)]
struct PackageManifest<'a> {
    format: &'static str,
    version: u32,
    written_at: String,
    observation_id: String,
    device_id: String,
    device_key: &'a str,
    device_fingerprint: &'a str,
    originals: Vec<ManifestOriginal<'a>>,
    signed_bundles: Vec<&'a str>,
}

#[derive(Serialize)]
struct ManifestOriginal<'a> {
    sha256: &'a str,
    file: String,
    name: &'a str,
    media_type: &'a str,
    size: u64,
    named_by_revision: u32,
    entry_seq: Option<u64>,
    signed_in_bundle: Option<&'a str>,
}

impl Journal {
    /// Writes the evidence package of an observation into the new folder `out`: its originals,
    /// the signed lines of the bundles that carried the entries naming them, the device's key,
    /// the verification trail and a README to check it all with stock tools. The folder
    /// appears whole or not at all. Its files are NOT encrypted: the caller says so.
    pub fn write_evidence_package(
        &self,
        id_or_prefix: &str,
        out: &Path,
    ) -> Result<EvidencePackage, JournalError> {
        self.require_coordinator("writing an evidence package")?;
        if out.exists() {
            return Err(JournalError::Refused(format!(
                "{} exists already; name a new folder for the evidence package",
                out.display()
            )));
        }
        let key = self.store.resolve(id_or_prefix)?;
        let history = self.store.history(key)?;
        let device_id = key.device_id.to_string();
        let named = self.named_originals(&history, &device_id)?;
        if named.is_empty() {
            return Err(JournalError::Refused(format!(
                "observation {} has no attachments; an evidence package is made of attached files",
                key.id
            )));
        }
        let device = self.store.evidence_device(&device_id)?.ok_or_else(|| {
            JournalError::Damaged(format!(
                "device {device_id} of observation {} is not among the devices known",
                key.id
            ))
        })?;
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let staging = tempfile::Builder::new()
            .prefix(".truce-evidence-")
            .tempdir_in(parent)
            .map_err(|e| JournalError::io("write", parent, e))?;
        let written = self.write_package_into(staging.path(), &key, &history, &named, &device);
        let package = written.map_err(|e| e.into_journal(staging.path()))?;
        let staged = staging.keep();
        std::fs::rename(&staged, out)
            .and_then(|()| fsutil::sync_dir(parent))
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&staged);
                JournalError::io("write", out, e)
            })?;
        Ok(EvidencePackage {
            folder: out.to_path_buf(),
            ..package
        })
    }

    /// The originals the observation's revisions name, each with the first revision naming
    /// it and the kept signed text of the entry that carried that revision.
    fn named_originals(
        &self,
        history: &[ObservationRevision],
        device_id: &str,
    ) -> Result<Vec<Named>, JournalError> {
        let mut named: Vec<Named> = Vec::new();
        for revision in history {
            for a in &revision.observation.attachments {
                if named.iter().any(|n| n.sha256 == a.sha256) {
                    continue;
                }
                let seq = self.store.received_seq(
                    device_id,
                    &revision.observation.id.to_string(),
                    revision.revision,
                )?;
                let bundle = match seq {
                    Some(seq) => self
                        .store
                        .signed_text_covering(device_id, seq)?
                        .map(|t| t.bundle_id),
                    None => None,
                };
                named.push(Named {
                    sha256: a.sha256.clone(),
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    size: a.size,
                    revision: revision.revision,
                    seq,
                    bundle,
                });
            }
        }
        Ok(named)
    }

    fn write_package_into(
        &self,
        dir: &Path,
        key: &truce_sync::ObservationKey,
        history: &[ObservationRevision],
        named: &[Named],
        device: &crate::store::EvidenceDevice,
    ) -> Result<EvidencePackage, PackageError> {
        let verifying_key = bundle::parse_device_key(&device.device_key).ok_or_else(|| {
            PackageError::Damaged("the device's key is not an Ed25519 key".into())
        })?;
        let device_fingerprint = fingerprint(&verifying_key);
        let device_id = key.device_id.to_string();

        // The originals, and the list `sha256sum -c` reads.
        let originals = dir.join("originals");
        fsutil::create_private_dir(&originals).map_err(PackageError::Write)?;
        let mut sums = String::new();
        let mut original_files = Vec::new();
        for n in named {
            let file = format!("{}.{}", n.sha256, media::extension(&n.media_type));
            let stored = self
                .held_attachment(&n.sha256)
                .map_err(PackageError::Journal)?;
            let mut reader = self
                .open_attachment(&stored)
                .map_err(PackageError::Journal)?;
            let mut out =
                AtomicFile::create(&originals.join(&file)).map_err(PackageError::Write)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let got = reader.read(&mut buf).map_err(PackageError::Read)?;
                if got == 0 {
                    break;
                }
                hasher.update(&buf[..got]);
                out.write_all(&buf[..got]).map_err(PackageError::Write)?;
            }
            if hex::encode(hasher.finalize()) != n.sha256 {
                return Err(PackageError::Damaged(format!(
                    "the stored copy of attachment {} does not match its hash; run `truce check`",
                    n.sha256
                )));
            }
            out.commit().map_err(PackageError::Write)?;
            let _ = writeln!(sums, "{}  originals/{file}", n.sha256);
            original_files.push(file);
        }
        write_file(dir, "SHA256SUMS", sums.as_bytes())?;

        // The device's key, as openssl reads it, and as Truce shows it.
        let pem = verifying_key
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|e| PackageError::Damaged(format!("the device's key: {e}")))?;
        write_file(dir, "device.pem", pem.as_bytes())?;
        let device_text = format!(
            "device id:    {device_id}\nobserver:     {}\nfingerprint:  {device_fingerprint}\npublic key:   {} (Ed25519, hex)\naccepted:     {}\n",
            device.observer,
            device.device_key,
            device
                .accepted_at
                .as_deref()
                .unwrap_or("no: the coordinator has not confirmed this device's fingerprint"),
        );
        write_file(dir, "device.txt", device_text.as_bytes())?;

        // The signed texts: each bundle's lines, signature, and the message it signs.
        let mut bundles: BTreeMap<String, SignedTextRow> = BTreeMap::new();
        for n in named {
            if let (Some(bundle), Some(seq)) = (&n.bundle, n.seq) {
                if !bundles.contains_key(bundle) {
                    if let Some(row) = self
                        .store
                        .signed_text_covering(&device_id, seq)
                        .map_err(|e| PackageError::Journal(e.into()))?
                    {
                        bundles.insert(bundle.clone(), row);
                    }
                }
            }
        }
        let identity = self.attachment_identity().map_err(PackageError::Journal)?;
        let mut lines_naming: Vec<(String, usize, String)> = Vec::new();
        for (bundle_id, row) in &bundles {
            let folder = dir.join("signed").join(bundle_id);
            fsutil::create_private_dir(&folder).map_err(PackageError::Write)?;
            let text = files::open_text(&self.attachments_folder(), &row.file, &identity.0)
                .map_err(PackageError::Read)?;
            let mut out =
                AtomicFile::create(&folder.join("lines.jsonl")).map_err(PackageError::Write)?;
            let mut hasher = Sha256::new();
            for (number, line) in BufReader::new(text).split(b'\n').enumerate() {
                let mut line = line.map_err(PackageError::Read)?;
                line.push(b'\n');
                hasher.update(&line);
                out.write_all(&line).map_err(PackageError::Write)?;
                let text = String::from_utf8_lossy(&line);
                for n in named
                    .iter()
                    .filter(|n| n.bundle.as_deref() == Some(bundle_id))
                {
                    if text.contains(&n.sha256) {
                        lines_naming.push((n.sha256.clone(), number + 1, bundle_id.clone()));
                    }
                }
            }
            let digest: [u8; 32] = hasher.finalize().into();
            if digest != row.lines_sha256 {
                return Err(PackageError::Damaged(format!(
                    "the kept signed text of bundle {bundle_id} does not match its hash; run `truce check`"
                )));
            }
            out.commit().map_err(PackageError::Write)?;
            let verified = Verified {
                version: row.version,
                lines_digest: row.lines_sha256,
                attachments: row.attachment_hashes.clone(),
                signature: row.signature,
            };
            write_file(&folder, "signature.bin", &row.signature)?;
            write_file(&folder, "message.bin", &verified.signed_message())?;
            if row.version >= 2 {
                write_file(
                    &folder,
                    "attachment-hashes.bin",
                    &row.attachment_hashes.concat(),
                )?;
            }
        }

        // The trail: how each original reached this coordinator, and what was said of it.
        let trail = self.evidence_trail(key, history, named, &bundles)?;
        write_file(dir, "trail.txt", trail.as_bytes())?;
        let readme = readme(
            key,
            named,
            &bundles,
            &lines_naming,
            &device_fingerprint,
            device.accepted_at.is_some(),
        );
        write_file(dir, "README.txt", readme.as_bytes())?;
        let manifest = PackageManifest {
            format: "truce-evidence",
            version: 1,
            written_at: now().to_rfc3339(),
            observation_id: key.id.to_string(),
            device_id: device_id.clone(),
            device_key: &device.device_key,
            device_fingerprint: &device_fingerprint,
            originals: named
                .iter()
                .zip(&original_files)
                .map(|(n, file)| ManifestOriginal {
                    sha256: &n.sha256,
                    file: format!("originals/{file}"),
                    name: &n.name,
                    media_type: &n.media_type,
                    size: n.size,
                    named_by_revision: n.revision,
                    entry_seq: n.seq,
                    signed_in_bundle: n.bundle.as_deref().filter(|b| bundles.contains_key(*b)),
                })
                .collect(),
            signed_bundles: bundles.keys().map(String::as_str).collect(),
        };
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| PackageError::Damaged(e.to_string()))?;
        write_file(dir, "manifest.json", &json)?;
        fsutil::sync_dir(dir).map_err(PackageError::Write)?;
        Ok(EvidencePackage {
            folder: dir.to_path_buf(),
            originals: named.len(),
            signed_bundles: bundles.len(),
            without_signed_text: named
                .iter()
                .filter(|n| n.bundle.as_ref().is_none_or(|b| !bundles.contains_key(b)))
                .map(|n| n.sha256.clone())
                .collect(),
        })
    }

    fn evidence_trail(
        &self,
        key: &truce_sync::ObservationKey,
        history: &[ObservationRevision],
        named: &[Named],
        bundles: &BTreeMap<String, SignedTextRow>,
    ) -> Result<String, PackageError> {
        let mut trail = String::new();
        let _ = writeln!(
            trail,
            "Observation {} of device {}\n",
            key.id, key.device_id
        );
        let _ = writeln!(trail, "Revisions (as saved on the device):");
        for r in history {
            let _ = writeln!(
                trail,
                "  revision {} saved {} by {}",
                r.revision,
                r.recorded_at.to_rfc3339(),
                r.observer
            );
        }
        let _ = writeln!(trail, "\nOriginals:");
        for n in named {
            let _ = writeln!(
                trail,
                "  {}  {} ({}, {} bytes), named by revision {}",
                n.sha256, n.name, n.media_type, n.size, n.revision
            );
            match (&n.seq, n.bundle.as_ref().and_then(|b| bundles.get(b))) {
                (Some(seq), Some(row)) => {
                    let imported = self
                        .store
                        .bundle_import_of(&row.bundle_id)
                        .map_err(|e| PackageError::Journal(e.into()))?;
                    let _ = writeln!(
                        trail,
                        "    entry {seq} of the device's log, signed in bundle {} (version {}, entries {}-{})",
                        row.bundle_id, row.version, row.first_seq, row.last_seq
                    );
                    if let Some((file, at)) = imported {
                        let _ = writeln!(trail, "    imported {at} from the file {file}");
                    }
                }
                (Some(seq), None) => {
                    let _ = writeln!(
                        trail,
                        "    entry {seq} of the device's log; its bundle was imported before Truce kept signed texts, so this package cannot show its signature"
                    );
                }
                (None, _) => {
                    let _ = writeln!(trail, "    not received in a bundle");
                }
            }
        }
        let _ = writeln!(trail, "\nVerification trail (the coordinators' statuses):");
        let events = self
            .store
            .verification_trail(*key)
            .map_err(|e| PackageError::Journal(e.into()))?;
        if events.is_empty() {
            let _ = writeln!(trail, "  none: unverified");
        }
        for e in events {
            let _ = writeln!(
                trail,
                "  {} {} by {} (device {}): {}",
                e.at,
                e.status.code(),
                e.by_observer,
                e.by_device,
                e.note
            );
        }
        Ok(trail)
    }
}

/// The README: what the package holds and how to check it with stock tools.
fn readme(
    key: &truce_sync::ObservationKey,
    named: &[Named],
    bundles: &BTreeMap<String, SignedTextRow>,
    lines_naming: &[(String, usize, String)],
    device_fingerprint: &str,
    accepted: bool,
) -> String {
    let mut r = String::new();
    let _ = write!(
        r,
        "Truce evidence package\n======================\n\n\
         Observation {id}, recorded on device {device} (key fingerprint {device_fingerprint}).\n\n\
         These files are NOT encrypted. Keep them as you would keep the evidence itself.\n\n\
         What is here\n------------\n\
         originals/            the attached files, byte for byte as the device recorded them,\n                      named by their SHA-256\n\
         SHA256SUMS            the SHA-256 of each original, as the signed records name them\n\
         signed/BUNDLE/        for each bundle that carried a record naming an original:\n  lines.jsonl         the exact lines the device signed (manifest, then one entry per line)\n  signature.bin       the device's Ed25519 signature (64 bytes)\n  message.bin         what was signed (rebuilt below from lines.jsonl)\n  attachment-hashes.bin  version 2 only: the SHA-256 of each attachment the bundle carried\n\
         device.pem            the device's public key (Ed25519), as openssl reads it\n\
         device.txt            the device, its observer and its key fingerprint\n\
         trail.txt             how each original reached the coordinator, and the verification trail\n\
         manifest.json         the same, for programs\n\n\
         How to check it (sha256sum and openssl 3, nothing from Truce)\n\
         -------------------------------------------------------------\n\
         1. The originals are the files the records name:\n\n    sha256sum -c SHA256SUMS\n\n",
        id = key.id,
        device = key.device_id,
    );
    let mut step = 2;
    for (bundle_id, row) in bundles {
        let context = if row.version >= 2 {
            "truce-bundle-v2"
        } else {
            "truce-bundle-v1"
        };
        let extra = if row.version >= 2 {
            " cat attachment-hashes.bin;"
        } else {
            ""
        };
        let _ = write!(
            r,
            "{step}. Bundle {bundle_id} was signed by the device (openssl says \"Signature Verified\n   Successfully\"), and device.pem is the key its manifest (the first line) names:\n\n    cd signed/{bundle_id}\n    {{ printf '{context}\\n'; openssl dgst -sha256 -binary lines.jsonl;{extra} }} > message.check\n    cmp message.check message.bin\n    openssl pkeyutl -verify -pubin -inkey ../../device.pem -rawin -in message.check -sigfile signature.bin\n    key=$(openssl pkey -pubin -in ../../device.pem -outform DER | tail -c 32 | od -An -v -tx1 | tr -d ' \\n')\n    head -n 1 lines.jsonl | grep -q \"\\\"device_key\\\":\\\"$key\\\"\"\n    echo \"the manifest names the key in device.pem\"\n    cd ../..\n\n"
        );
        step += 1;
    }
    if !lines_naming.is_empty() {
        let _ = writeln!(
            r,
            "{step}. The signed lines name the originals (each hash appears in a signed record):\n"
        );
        for (sha, line, bundle_id) in lines_naming {
            let _ = writeln!(
                r,
                "    grep -c '\"sha256\":\"{sha}\"' signed/{bundle_id}/lines.jsonl    # line {line}"
            );
        }
        r.push('\n');
    }
    let missing: Vec<&Named> = named
        .iter()
        .filter(|n| n.bundle.as_ref().is_none_or(|b| !bundles.contains_key(b)))
        .collect();
    if !missing.is_empty() {
        r.push_str("Not covered by a signature in this package\n------------------------------------------\n");
        for n in missing {
            let _ = writeln!(
                r,
                "{}: the bundle that carried it was imported before Truce kept signed texts; its hash chain is in the coordinator's journal (`truce check`).",
                n.sha256
            );
        }
        r.push('\n');
    }
    if accepted {
        r.push_str(
            "The device's key is the one the coordinator accepted after comparing its fingerprint\n\
             with the observer (device.txt); compare it again with the device if the key matters.\n",
        );
    } else {
        r.push_str(
            "WARNING: the coordinator has NOT confirmed this device's key fingerprint with its\n\
             observer (device.txt). The signatures prove the records came from whoever holds that\n\
             key, not that it is the mission's device. Compare the fingerprint with the device.\n",
        );
    }
    r.push_str("The bundle format is documented in Truce's docs/bundle-format.md.\n");
    r
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), PackageError> {
    let mut out = AtomicFile::create(&dir.join(name)).map_err(PackageError::Write)?;
    out.write_all(bytes).map_err(PackageError::Write)?;
    out.commit().map_err(PackageError::Write)
}

/// Why writing a package stopped (the staging folder is removed).
enum PackageError {
    Write(io::Error),
    Read(io::Error),
    Damaged(String),
    Journal(JournalError),
}

impl PackageError {
    fn into_journal(self, dir: &Path) -> JournalError {
        match self {
            PackageError::Write(e) => JournalError::io("write", dir, e),
            PackageError::Read(e) => JournalError::io("read", dir, e),
            PackageError::Damaged(text) => JournalError::Damaged(text),
            PackageError::Journal(e) => e,
        }
    }
}
