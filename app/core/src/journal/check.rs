//! `check`: SQLite's and SQLCipher's own checks, then every hash chain recomputed.

use super::error::JournalError;
use super::Journal;

impl Journal {
    /// Runs the full integrity checks: SQLite's and SQLCipher's, then the hash chains of this
    /// device's log and of every entry received, then every stored attachment against its hash,
    /// then the kept escalation alerts against the rules evaluated afresh. Returns the problems found; empty means healthy.
    pub fn check(&self) -> Result<Vec<String>, JournalError> {
        let mut problems = self.store.integrity_problems()?;
        if !problems.is_empty() {
            return Ok(problems);
        }
        let mut chain = ChainCheck::default();
        self.store
            .each_log_entry(1, i64::MAX as u64, |entry| -> Result<(), JournalError> {
                chain.entry("this device", &entry, &mut problems);
                Ok(())
            })?;
        let mut chain = ChainCheck::default();
        self.store
            .each_received_entry(|device, entry| -> Result<(), JournalError> {
                chain.entry(&format!("device {device}"), &entry, &mut problems);
                Ok(())
            })?;
        problems.extend(self.attachment_problems()?);
        problems.extend(self.kept_alerts_problem()?);
        Ok(problems)
    }
}

/// Checks log entries in order, one log after another: each hash against its record, and each
/// entry's link to the one before it when that one is held.
#[derive(Default)]
pub(super) struct ChainCheck {
    last: Option<(String, u64, truce_sync::log::EntryHash)>,
}

impl ChainCheck {
    pub(super) fn entry(
        &mut self,
        log: &str,
        entry: &truce_sync::log::StoredEntry<'_>,
        problems: &mut Vec<String>,
    ) {
        // A purged entry keeps its seq and hashes but not its record (migration 0017's
        // triggers allow nothing else): its link is still checked below.
        if !entry.record.is_empty() && !entry.hash_is_valid() {
            problems.push(format!(
                "entry {} of {log}: its record does not match its hash (altered after it was written)",
                entry.seq
            ));
        }
        if let Some((last_log, last_seq, last_hash)) = &self.last {
            if last_log == log && last_seq + 1 == entry.seq && *last_hash != entry.prev_hash {
                problems.push(format!(
                    "entry {} of {log}: it does not follow entry {last_seq} (the chain is broken)",
                    entry.seq
                ));
            }
        }
        self.last = Some((log.to_owned(), entry.seq, entry.hash));
    }
}
