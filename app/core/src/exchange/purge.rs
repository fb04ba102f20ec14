//! Purge after receipt: a monitor's device removes the records the coordinators confirmed once
//! the mission's delay (or the device's shorter one) has passed, then re-encrypts the journal
//! with a fresh key, so what was removed cannot be read back with the passphrase.

use age::secrecy::SecretString;
use chrono::{DateTime, Duration};
use truce_sync::profile::MAX_PURGE_DAYS;
use truce_sync::Role;

use super::receipts::{held_ranges, merged};
use crate::journal::{now, Journal, JournalError};
use crate::keyfile::KdfCost;
use crate::model::PurgeReport;

/// The preference key of the device's own purge delay (days), inside the encrypted journal.
const DEVICE_PURGE_SETTING: &str = "device.purge_after_days";

impl Journal {
    /// The device's own purge delay in days (`None`: it follows the mission).
    pub fn device_purge_setting(&self) -> Result<Option<u32>, JournalError> {
        Ok(self
            .store
            .preferences()?
            .into_iter()
            .find(|(k, _)| k == DEVICE_PURGE_SETTING)
            .and_then(|(_, v)| v.parse().ok()))
    }

    /// Sets the device's own purge delay: it can only make the mission's stricter (sooner),
    /// never keep records longer. `None` follows the mission.
    pub fn set_device_purge_setting(&mut self, days: Option<u32>) -> Result<(), JournalError> {
        if self.device.role != Role::Monitor {
            return Err(JournalError::Refused(
                "a coordinator's journal never purges: it is the mission's record".into(),
            ));
        }
        if let Some(d) = days.filter(|d| *d > MAX_PURGE_DAYS) {
            return Err(JournalError::Refused(format!(
                "{d} days is more than {MAX_PURGE_DAYS}; choose fewer"
            )));
        }
        let value = days.map(|d| d.to_string()).unwrap_or_default();
        self.store
            .save_preferences(&[(DEVICE_PURGE_SETTING, value)], &now().to_rfc3339())?;
        Ok(())
    }

    /// The purge delay in force, in days after the receipt that confirmed a record: the
    /// shorter of the mission's and the device's; `None` is off. A coordinator's journal
    /// never purges.
    pub fn purge_after_days(&self) -> Result<Option<u32>, JournalError> {
        if self.device.role != Role::Monitor {
            return Ok(None);
        }
        let mission = self
            .profile
            .as_ref()
            .and_then(|p| p.profile.purge)
            .map(|p| p.after_receipt_days);
        let device = self.device_purge_setting()?;
        Ok(match (mission, device) {
            (Some(m), Some(d)) => Some(m.min(d)),
            (m, d) => m.or(d),
        })
    }

    /// The observations due for purging now: every one of their entries still held was
    /// confirmed by a receipt applied at least the delay ago.
    fn purge_due_observations(&self) -> Result<Vec<String>, JournalError> {
        let Some(days) = self.purge_after_days()? else {
            return Ok(Vec::new());
        };
        let cutoff = now() - Duration::days(i64::from(days));
        let mut old_enough = Vec::new();
        for r in self.store.receipts()? {
            let applied = DateTime::parse_from_rfc3339(&r.applied_at).map_err(|e| {
                JournalError::Damaged(format!("a receipt's time is unreadable: {e}"))
            })?;
            if applied <= cutoff {
                old_enough.extend(held_ranges(r.held_through, &r.missing));
            }
        }
        let confirmed = merged(old_enough);
        let within = |seq: u64| confirmed.iter().any(|&(a, b)| a <= seq && seq <= b);
        let mut due: std::collections::BTreeMap<String, bool> = Default::default();
        for (id, seq) in self.store.unpurged_log()? {
            let ok = due.entry(id).or_insert(true);
            *ok &= within(seq);
        }
        Ok(due
            .into_iter()
            .filter(|(_, ok)| *ok)
            .map(|(id, _)| id)
            .collect())
    }

    /// Purges what is due ([`Self::purge_after_days`]): the records' bodies, revisions and
    /// attachments go, each log entry keeping its seq and hashes; then the journal is
    /// re-encrypted under a fresh key wrapped by the same `passphrase`, as a passphrase change
    /// does, so old pages, log frames and the previous key file no longer open with it.
    /// Nothing due: nothing changes, and `None`.
    pub fn purge_due(
        &mut self,
        passphrase: &SecretString,
        cost: KdfCost,
    ) -> Result<Option<PurgeReport>, JournalError> {
        let due = self.purge_due_observations()?;
        if due.is_empty() {
            return Ok(None);
        }
        self.confirm_passphrase(passphrase)?;
        let device = self.device.device_id.to_string();
        let purged = self
            .store
            .purge_observations(&device, &due, &now().to_rfc3339())?;
        let folder = self.attachments_folder();
        for file in &purged.attachment_files {
            let path = folder.join(file);
            crate::fsutil::shred(&path).map_err(|e| JournalError::io("remove", &path, e))?;
        }
        self.change_passphrase(passphrase, cost)?;
        Ok(Some(PurgeReport {
            observations: purged.observations,
            entries: purged.entries,
            attachments: purged.attachment_files.len() as u64,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use super::*;
    use crate::journal::Profile;
    use crate::keyfile::{DatabaseKey, PageAuth};
    use truce_sync::profile::{MissionProfile, PurgePolicy};

    const FAST: KdfCost = KdfCost::WorkFactor(10);

    fn pass() -> SecretString {
        SecretString::from("correct horse battery".to_owned())
    }

    fn journal(dir: &Path, role: Role) -> Journal {
        let profile = Profile {
            observer: "Ana".into(),
            team: None,
            role,
        };
        Journal::init(dir, &pass(), profile, FAST).expect("init")
    }

    /// Every page of the database file, decrypted with `key` by the stock `openssl` command
    /// (AES-256-CBC with the IV in each page's reserved bytes, as SQLCipher 4 lays pages out),
    /// free pages included; the salt of page 1 is left out.
    fn decrypted_pages(database: &Path, key: &DatabaseKey) -> Vec<Vec<u8>> {
        let bytes = std::fs::read(database).expect("database");
        let size = key.page_size() as usize;
        let reserve = 16
            + match key.page_auth() {
                PageAuth::HmacSha512 => 64,
                PageAuth::HmacSha256 => 32,
            };
        let folder = tempfile::tempdir().expect("tempdir");
        let mut pages = Vec::new();
        for (i, page) in bytes.chunks(size).enumerate() {
            assert_eq!(page.len(), size, "whole pages");
            let start = if i == 0 { 16 } else { 0 };
            let end = size - reserve;
            let iv = &page[end..end + 16];
            let input = folder.path().join("page");
            std::fs::write(&input, &page[start..end]).expect("write");
            let out = Command::new("openssl")
                .args(["enc", "-d", "-aes-256-cbc", "-nopad", "-K"])
                .arg(hex::encode(key.secret_bytes()))
                .arg("-iv")
                .arg(hex::encode(iv))
                .arg("-in")
                .arg(&input)
                .output()
                .expect("run openssl");
            assert!(out.status.success(), "openssl decrypts page {i}");
            pages.push(out.stdout);
        }
        pages
    }

    fn holds(pages: &[Vec<u8>], marker: &str) -> usize {
        pages
            .iter()
            .filter(|p| p.windows(marker.len()).any(|w| w == marker.as_bytes()))
            .count()
    }

    #[test]
    fn a_purge_leaves_nothing_readable_with_the_key_and_the_chain_goes_on() {
        if Command::new("openssl").arg("version").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "CI must install openssl");
            return;
        }
        let root = tempfile::tempdir().expect("tempdir");
        let stick = root.path().join("stick");
        std::fs::create_dir(&stick).expect("stick");
        let mut hq = journal(&root.path().join("hq"), Role::Coordinator);
        let mut template = MissionProfile::new("East", uuid::Uuid::nil(), now(), vec![]);
        template.set_purge(Some(PurgePolicy {
            after_receipt_days: 0,
        }));
        let profile = hq
            .create_profile("East", &[], Some(template))
            .expect("profile");
        let dir = root.path().join("device");
        let mut device = journal(&dir, Role::Monitor);
        device.import_profile(&profile).expect("installed");
        assert_eq!(device.purge_after_days().expect("policy"), Some(0));
        assert_eq!(
            hq.purge_after_days().expect("policy"),
            None,
            "coordinators never purge"
        );
        // A long narrative (an overflow page) and a short one, both marked.
        let marker = "ZEBRA-CROSSING-7731";
        let long = format!("{marker} {}", "shelling north of the ridge. ".repeat(300));
        for narrative in [long.as_str(), marker] {
            let json = serde_json::json!({"kind": "violation", "category": "shelling",
                "method": "heard", "narrative": narrative});
            device
                .record(truce_sync::parse_object(&json.to_string()).expect("json"))
                .expect("record");
        }
        device.export_pending(&stick, |_| {}).expect("exported");
        let bundles = crate::exchange::bundle_files(std::slice::from_ref(&stick)).expect("files");
        hq.import_bundles(&bundles, |_| {}).expect("imported");
        hq.write_receipts(&stick, |_| {}).expect("receipts");
        // Not yet confirmed: nothing is due.
        assert_eq!(device.purge_due(&pass(), FAST).expect("purge"), None);
        let files = crate::exchange::bundle_files(std::slice::from_ref(&stick)).expect("files");
        device.import_receipts(&files, |_| {}).expect("applied");

        // Before: the scanner finds the marker with the key (so it can fail).
        device.store.checkpoint().expect("checkpoint");
        let before = decrypted_pages(&dir.join("journal.db"), &device.key);
        assert!(holds(&before, marker) > 0, "the scan sees plaintext");

        let purged = device
            .purge_due(&pass(), FAST)
            .expect("purge")
            .expect("something was due");
        assert_eq!((purged.observations, purged.entries), (2, 2));
        assert!(device.list(None).expect("list").is_empty());
        let summary = device.delivery().expect("delivery");
        assert_eq!(
            (summary.purged_records, summary.unconfirmed_records),
            (2, 0)
        );
        assert_eq!(device.check().expect("check"), Vec::<String>::new());

        // After: no page of the database, free pages included, holds it with the new key;
        // no file of the journal holds it in clear.
        let after = decrypted_pages(&dir.join("journal.db"), &device.key);
        assert_eq!(holds(&after, marker), 0, "purged text remains readable");
        for entry in std::fs::read_dir(&dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                let bytes = std::fs::read(&path).expect("file");
                assert!(
                    !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                    "{} holds the marker",
                    path.display()
                );
            }
        }
        // The old key no longer opens anything: the journal took a fresh one.
        drop(device);
        let mut device = Journal::open(&dir, &pass()).expect("opens with the passphrase");
        // The chain goes on: a new record exports and the coordinator takes it after the
        // purged entries; exporting the purged range again is refused.
        device
            .record(
                truce_sync::parse_object(
                    r#"{"kind":"violation","category":"shelling","method":"heard"}"#,
                )
                .expect("json"),
            )
            .expect("record");
        let next = root.path().join("next");
        std::fs::create_dir(&next).expect("next");
        let written = device.export_pending(&next, |_| {}).expect("exported");
        assert_eq!((written[0].first_seq, written[0].last_seq), (3, 3));
        let bundles = crate::exchange::bundle_files(&[next]).expect("files");
        let mut reports = Vec::new();
        hq.import_bundles(&bundles, |r| reports.extend_from_slice(r))
            .expect("imported");
        assert_eq!(reports[0].refused, None);
        assert_eq!(reports[0].new_entries, 1);
        assert!(reports[0].gaps.is_empty());
        let refused = device
            .export(&root.path().join("next"), crate::model::ExportRange::All)
            .expect_err("purged entries cannot go again");
        assert!(refused.to_string().contains("purge"), "{refused}");
        // Still nothing else than the purge path may touch the log.
        assert!(device.store.purged_in(1, 2).expect("purged"));
    }
}
