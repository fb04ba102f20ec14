//! Export on a device: the entries no bundle covered yet, signed, sealed to the mission's
//! coordinators with age, and written atomically as one bundle file per range.

use std::io::BufWriter;
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use truce_sync::bundle::{AttachmentsSummary, BundleError, BundleWriter, Manifest, ReturnPath};
use truce_sync::log;

use crate::fsutil;
use crate::journal::{now, Journal, JournalError};
use crate::model::{AttachmentMode, ExportRange, ExportReport};

/// File extension of bundles.
pub const BUNDLE_EXTENSION: &str = "age";

impl Journal {
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
        on_written: impl FnMut(&ExportReport),
    ) -> Result<Vec<ExportReport>, JournalError> {
        self.export_pending_with(out_dir, AttachmentMode::WithFiles, on_written)
    }

    /// [`Self::export_pending`] with a choice of [`AttachmentMode`]. With the files, the ranges
    /// text-first exports left owing their media ([`Self::media_pending_ranges`]) are written
    /// again after the new ones, this time with their files.
    pub fn export_pending_with(
        &self,
        out_dir: &Path,
        mode: AttachmentMode,
        mut on_written: impl FnMut(&ExportReport),
    ) -> Result<Vec<ExportReport>, JournalError> {
        self.export_recipients()?;
        let mut written = Vec::new();
        let mut owed = match mode {
            AttachmentMode::WithFiles => self.media_pending_ranges()?,
            AttachmentMode::TextFirst => Vec::new(),
        };
        // What the coordinators' latest receipt reported missing goes again, unasked.
        owed.extend(self.owed_again_ranges()?);
        // Each range cut where its bundle would pass the mission's size: a stick that fills
        // up keeps the bundles finished before, and only those count as exported.
        let ranges = self.unexported_ranges()?.into_iter().map(|r| (r, false));
        for ((first, last), again) in ranges.chain(owed.into_iter().map(|r| (r, true))) {
            for (a, b) in self.split_for_size(first, last, mode)? {
                if let Some(mut report) =
                    self.export_with(out_dir, ExportRange::Seqs(a, b), mode)?
                {
                    report.media_for_earlier = again;
                    on_written(&report);
                    written.push(report);
                }
            }
        }
        Ok(written)
    }

    /// Cuts the range `first..=last` into consecutive ranges whose bundles stay within the
    /// mission's `bundle_max_bytes` (2 GiB by default): each entry's line and the files it
    /// brings that its bundle does not carry yet, counted generously. An entry larger than the
    /// limit on its own still goes, alone.
    fn split_for_size(
        &self,
        first: u64,
        last: u64,
        mode: AttachmentMode,
    ) -> Result<Vec<(u64, u64)>, JournalError> {
        let max = self.mission_limits().bundle_max_bytes();
        let mut ranges = Vec::new();
        let mut start = first;
        let mut bytes = 0u64;
        let mut carried = Vec::new();
        self.store
            .each_log_entry(first, last, |entry| -> Result<(), JournalError> {
                // A line: the record, two hashes and the sequence number.
                let mut entry_bytes = entry.record.len() as u64 + 256;
                let mut brought = Vec::new();
                if mode == AttachmentMode::WithFiles {
                    self.collect_held_attachments(entry.record, &mut brought)?;
                }
                let new: Vec<_> = brought
                    .into_iter()
                    .filter(|a| !carried.contains(a))
                    .collect();
                // Each file and its tar header (and padding).
                entry_bytes += new.iter().map(|a| a.size + 1024).sum::<u64>();
                if entry.seq > start && bytes + entry_bytes > max {
                    ranges.push((start, entry.seq - 1));
                    start = entry.seq;
                    bytes = 0;
                    carried.clear();
                }
                bytes += entry_bytes;
                carried.extend(new);
                Ok(())
            })?;
        ranges.push((start, last));
        Ok(ranges)
    }

    /// The ranges text-first exports wrote whose media no later export carried yet.
    pub fn media_pending_ranges(&self) -> Result<Vec<(u64, u64)>, JournalError> {
        Ok(self.store.media_pending_ranges()?)
    }

    /// The mission's name and the bundle's recipients: the coordinators, and one throwaway
    /// recipient whose identity is forgotten at once, so that a bundle's age header has as
    /// many stanzas as a receipt's (the device and the coordinators) and nothing on the stick
    /// tells them apart before decryption.
    fn export_recipients(&self) -> Result<(String, Vec<age::x25519::Recipient>), JournalError> {
        let profile = self.profile()?.ok_or_else(|| {
            JournalError::Refused("no mission profile installed, so there is no coordinator to encrypt to. Import the profile from your coordinator with `truce profile import FILE`".into())
        })?;
        let mut recipients = profile.profile.age_recipients()?;
        recipients.push(age::x25519::Identity::generate().to_public());
        Ok((profile.profile.mission, recipients))
    }

    /// Where receipts for this device go, when the profile lists its coordinators (then they
    /// read it): the device's recipient, its team, the mission and profile it works under.
    fn return_path(&self) -> Result<Option<ReturnPath>, JournalError> {
        let Some(profile) = self
            .profile
            .as_ref()
            .filter(|p| p.profile.lists_coordinators())
        else {
            return Ok(None);
        };
        let (Some(mission_id), Some(sequence)) =
            (profile.profile.mission_id, profile.profile.sequence)
        else {
            return Ok(None);
        };
        Ok(Some(ReturnPath {
            device_recipient: self.device_age_identity()?.identity.to_public().to_string(),
            team: self.device.team.clone(),
            mission_id,
            profile_sequence: sequence,
        }))
    }

    /// Writes one bundle into `out_dir` atomically. Returns `None` when there is nothing to
    /// export. [`ExportRange::Pending`] writes the lowest range not yet exported; use
    /// [`Self::export_pending`] to write every one.
    pub fn export(
        &self,
        out_dir: &Path,
        range: ExportRange,
    ) -> Result<Option<ExportReport>, JournalError> {
        self.export_with(out_dir, range, AttachmentMode::WithFiles)
    }

    /// [`Self::export`] with a choice of [`AttachmentMode`].
    pub fn export_with(
        &self,
        out_dir: &Path,
        range: ExportRange,
        mode: AttachmentMode,
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
        if self.store.purged_in(first, last)? {
            return Err(JournalError::Refused(format!(
                "entries of {first}-{last} were removed from this device after the coordinators confirmed them (purge after receipt), so they cannot be exported again; the coordinators hold them"
            )));
        }
        let mut id = [0u8; 16];
        getrandom::getrandom(&mut id).map_err(JournalError::NoRandomness)?;
        let bundle_id = hex::encode(id);
        let created_at = now();
        // The attachments the records of the range name: with any, the bundle is version 2
        // and carries their bytes; without, version 1, which every coordinator reads.
        let mut attachments = Vec::new();
        self.store.each_log_entry(first, last, |entry| {
            self.collect_held_attachments(entry.record, &mut attachments)
        })?;
        // Text first: the files stay, named as pending.
        let pending: Vec<String> = match mode {
            AttachmentMode::TextFirst => std::mem::take(&mut attachments)
                .iter()
                .map(|a| hex::encode(a.sha256))
                .collect(),
            AttachmentMode::WithFiles => Vec::new(),
        };
        let return_path = self.return_path()?;
        let (version, mut features, summary) = if attachments.is_empty() && pending.is_empty() {
            (1, Vec::new(), None)
        } else {
            (
                2,
                vec![truce_sync::bundle::FEATURE_ATTACHMENTS.to_owned()],
                Some(AttachmentsSummary {
                    count: attachments.len() as u64,
                    bytes: attachments.iter().map(|a| a.size).sum(),
                }),
            )
        };
        if !pending.is_empty() {
            features.push(truce_sync::bundle::FEATURE_PENDING_ATTACHMENTS.to_owned());
        }
        // Under a profile that lists its coordinators, every bundle is version 2 and says
        // where receipts go back to.
        let version = if return_path.is_some() {
            features.push(truce_sync::bundle::FEATURE_RECEIPTS.to_owned());
            2
        } else {
            version
        };
        let pending_count = pending.len();
        let manifest = Manifest {
            format: truce_sync::bundle::FORMAT.into(),
            version,
            features,
            attachments: summary,
            pending_attachments: pending,
            return_path,
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
        let file =
            fsutil::AtomicFile::create(&path).map_err(|e| JournalError::io("create", &path, e))?;
        let result = (|| -> Result<fsutil::AtomicFile, JournalError> {
            let mut writer = BundleWriter::new(BufWriter::new(file), &recipients, manifest)
                .map_err(bundle_write)?;
            self.store.each_log_entry(first, last, |entry| {
                writer.stored_entry(entry).map_err(bundle_write)
            })?;
            for stored in &attachments {
                let mut data = self.open_attachment(stored)?;
                writer
                    .attachment(&hex::encode(stored.sha256), stored.size, &mut data)
                    .map_err(bundle_write)?;
            }
            let buffered = writer
                .finish(&self.device.signing_key)
                .map_err(bundle_write)?;
            buffered
                .into_inner()
                .map_err(|e| JournalError::io("write", &path, e.into_error()))
        })();
        let file = result?;
        file.commit()
            .map_err(|e| JournalError::io("write", &path, e))?;
        self.store.record_export(
            &bundle_id,
            &created_at.to_rfc3339(),
            (first, last),
            &name,
            pending_count > 0,
        )?;
        Ok(Some(ExportReport {
            path,
            attachments: attachments.len(),
            pending_attachments: pending_count,
            media_for_earlier: false,
            first_seq: first,
            last_seq: last,
            created_at,
        }))
    }
}

fn bundle_write(e: BundleError) -> JournalError {
    match e {
        BundleError::Io(e) => JournalError::io("write", Path::new("the bundle"), e),
        other => JournalError::BundleWrite(other),
    }
}

/// The ranges of `1..=head` that no range in `covered` (the bundles written, in any order and
/// overlapping) holds, in order.
pub(super) fn uncovered(covered: Vec<(u64, u64)>, head: u64) -> Vec<(u64, u64)> {
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
pub(super) fn bundle_file_name(at: &DateTime<FixedOffset>, bundle_id: &str) -> String {
    format!("{}-{bundle_id}.{BUNDLE_EXTENSION}", at.format("%Y%m%d"))
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
