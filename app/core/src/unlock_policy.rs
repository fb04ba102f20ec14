//! The unlock policy: wrong passphrases in a row, and the emergency wipe after N of them. Read
//! before the journal is unlocked, so kept in the clear in the data folder; enforced by
//! `Journal::open`, so the command line and the GUI apply it alike.
//!
//! What it cannot stop: someone who copies the data folder tries passphrases offline, against
//! scrypt alone (README, "Unlock policy").

use std::path::Path;

use crate::fsutil;

/// The GUI's settings (theme, language, auto-lock, wipe-after), not secret, in the data directory.
pub const SETTINGS_FILE: &str = "settings.json";
/// Wrong passphrases in a row, for the optional wipe after failed unlocks; not secret.
pub const UNLOCK_FAILURES_FILE: &str = "unlock-failures";
/// The file that holds the policy: the number of wrong passphrases in a row that wipe the
/// journal, as text (absent or 0: off).
pub const UNLOCK_POLICY_FILE: &str = "unlock-policy";

/// The limits a user may choose (0: off). Low enough to matter at a checkpoint, high enough
/// that a tired monitor's typos do not destroy the journal.
pub const WIPE_AFTER_CHOICES: [u32; 4] = [0, 5, 10, 20];

/// The unlock policy of one data folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnlockPolicy {
    /// Wrong passphrases in a row that wipe the journal; 0: never.
    pub wipe_after: u32,
}

impl UnlockPolicy {
    /// The policy of the journal in `dir`: its policy file, or for journals set up before the
    /// policy had a file of its own, the GUI settings' `wipe_after`; off when neither says.
    /// An unreadable limit is never weaker than asked: the nearest offered limit at or below.
    pub fn load(dir: &Path) -> UnlockPolicy {
        let from_file = std::fs::read_to_string(dir.join(UNLOCK_POLICY_FILE))
            .ok()
            .map(|t| t.trim().parse::<u32>().unwrap_or(WIPE_AFTER_CHOICES[1]));
        let wipe_after = from_file
            .or_else(|| {
                let text = std::fs::read_to_string(dir.join(SETTINGS_FILE)).ok()?;
                let value: serde_json::Value = serde_json::from_str(&text).ok()?;
                value.get("wipe_after")?.as_u64().map(|n| n as u32)
            })
            .unwrap_or(0);
        UnlockPolicy {
            wipe_after: nearest_choice(wipe_after),
        }
    }

    /// Keeps the policy for `dir` (atomically).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        fsutil::write_atomic(
            &dir.join(UNLOCK_POLICY_FILE),
            format!("{}\n", self.wipe_after).as_bytes(),
        )
    }
}

/// `n` if it is an offered limit; else the nearest offered one below it, never "off" for a
/// limit that was on.
fn nearest_choice(n: u32) -> u32 {
    if WIPE_AFTER_CHOICES.contains(&n) {
        return n;
    }
    WIPE_AFTER_CHOICES
        .iter()
        .rev()
        .copied()
        .find(|c| *c != 0 && *c <= n)
        .unwrap_or(WIPE_AFTER_CHOICES[1])
}

/// Wrong passphrases in a row so far (0 when the file is absent or unreadable).
pub fn failures(dir: &Path) -> u32 {
    std::fs::read_to_string(dir.join(UNLOCK_FAILURES_FILE))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// Wrong passphrases left before the wipe; `None` when the policy is off.
pub fn attempts_left(dir: &Path) -> Option<u32> {
    let limit = UnlockPolicy::load(dir).wipe_after;
    (limit > 0).then(|| limit.saturating_sub(failures(dir)).max(1))
}

/// Counts one more wrong passphrase, durably; returns the new count.
fn record_failure(dir: &Path) -> std::io::Result<u32> {
    let n = failures(dir).saturating_add(1);
    fsutil::write_atomic(&dir.join(UNLOCK_FAILURES_FILE), format!("{n}\n").as_bytes())?;
    Ok(n)
}

/// A successful unlock: the count starts again (nothing is written when there was none).
pub(crate) fn reset_failures(dir: &Path) {
    let path = dir.join(UNLOCK_FAILURES_FILE);
    if path.exists() {
        if let Err(e) = fsutil::remove_if_exists(&path) {
            tracing::warn!("cannot reset the count of failed unlocks: {e}");
        }
    }
}

/// After a wrong passphrase: counts it when the policy is on; at the limit, the number of
/// failures that called for the wipe. `None`: carry on.
pub(crate) fn wrong_passphrase(dir: &Path) -> Option<u32> {
    let limit = UnlockPolicy::load(dir).wipe_after;
    if limit == 0 {
        return None;
    }
    let n = match record_failure(dir) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("cannot count the failed unlock: {e}");
            failures(dir).saturating_add(1)
        }
    };
    (n >= limit).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_file_wins_and_old_settings_still_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            UnlockPolicy::load(dir.path()).wipe_after,
            0,
            "off by default"
        );
        std::fs::write(dir.path().join(SETTINGS_FILE), r#"{"wipe_after": 10}"#).expect("write");
        assert_eq!(UnlockPolicy::load(dir.path()).wipe_after, 10);
        UnlockPolicy { wipe_after: 5 }
            .save(dir.path())
            .expect("saved");
        assert_eq!(UnlockPolicy::load(dir.path()).wipe_after, 5);
        std::fs::write(dir.path().join(UNLOCK_POLICY_FILE), "7\n").expect("write");
        assert_eq!(UnlockPolicy::load(dir.path()).wipe_after, 5, "never weaker");
        std::fs::write(dir.path().join(UNLOCK_POLICY_FILE), "garbage").expect("write");
        assert_eq!(
            UnlockPolicy::load(dir.path()).wipe_after,
            5,
            "unreadable: still on"
        );
    }

    #[test]
    fn failures_count_up_to_the_limit_and_start_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(wrong_passphrase(dir.path()), None, "off: nothing counted");
        assert!(!dir.path().join(UNLOCK_FAILURES_FILE).exists());
        UnlockPolicy { wipe_after: 5 }
            .save(dir.path())
            .expect("saved");
        for left in [5, 4, 3, 2] {
            assert_eq!(attempts_left(dir.path()), Some(left));
            assert_eq!(wrong_passphrase(dir.path()), None);
        }
        assert_eq!(wrong_passphrase(dir.path()), Some(5));
        reset_failures(dir.path());
        assert_eq!(failures(dir.path()), 0);
    }
}
