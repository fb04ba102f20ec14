//! Keeping secrets off the disk through the process itself: no core dumps (a crash must not
//! write decrypted photos or keys to a file), and key bytes locked in memory so the kernel does
//! not swap them out, where the platform allows it.

use std::ops::{Deref, DerefMut};

use zeroize::Zeroizing;

/// What [`harden_process`] achieved: each step can fail on some platforms (a sandbox that
/// forbids it), and the process carries on without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hardening {
    /// The process is not dumpable: no core dump, and other processes of the same user
    /// cannot attach a debugger or read its memory through /proc.
    pub not_dumpable: bool,
    /// The core-file size limit is 0, for this process and its children.
    pub no_core_files: bool,
}

/// Forbids core dumps of this process: `prctl(PR_SET_DUMPABLE, 0)` (Linux and Android) and
/// `RLIMIT_CORE` 0 (every Unix). Called first thing by the `truce` binary, before any journal
/// is opened.
pub fn harden_process() -> Hardening {
    let mut done = Hardening::default();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        done.not_dumpable =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
                .is_ok();
    }
    #[cfg(unix)]
    {
        let none = rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        };
        done.no_core_files =
            rustix::process::setrlimit(rustix::process::Resource::Core, none).is_ok();
    }
    if !(done.not_dumpable && done.no_core_files) {
        tracing::warn!(
            ?done,
            "core dumps could not be fully disabled on this platform"
        );
    }
    done
}

/// 32 secret bytes on a heap page locked in memory (`mlock`) while they live, zeroized and
/// unlocked on drop. Not `Clone`. When the platform refuses the lock (a low `RLIMIT_MEMLOCK`),
/// the bytes are kept all the same, unlocked.
pub struct LockedKey {
    bytes: Box<Zeroizing<[u8; 32]>>,
    locked: bool,
}

impl LockedKey {
    /// Moves `bytes` onto a locked page; the caller's copy is zeroized when it drops.
    pub fn new(bytes: Zeroizing<[u8; 32]>) -> LockedKey {
        let mut boxed = Box::new(Zeroizing::new([0u8; 32]));
        let locked = lock(&mut boxed[..]);
        boxed.copy_from_slice(&bytes[..]);
        LockedKey {
            bytes: boxed,
            locked,
        }
    }

    /// Whether the bytes are locked in memory.
    pub fn is_locked(&self) -> bool {
        self.locked
    }
}

#[cfg(unix)]
fn lock(bytes: &mut [u8]) -> bool {
    // SAFETY: the range is the 32 bytes of a live boxed array, which outlives the lock: the
    // lock is released in `Drop` before the box is freed. mlock reads and changes nothing in it.
    unsafe { rustix::mm::mlock(bytes.as_mut_ptr().cast(), bytes.len()).is_ok() }
}

#[cfg(not(unix))]
fn lock(_bytes: &mut [u8]) -> bool {
    false
}

impl Drop for LockedKey {
    fn drop(&mut self) {
        self.bytes.copy_from_slice(&[0u8; 32]);
        #[cfg(unix)]
        if self.locked {
            // SAFETY: the same live range that `lock` locked.
            let _ =
                unsafe { rustix::mm::munlock(self.bytes.as_mut_ptr().cast(), self.bytes.len()) };
        }
    }
}

impl Deref for LockedKey {
    type Target = [u8; 32];
    fn deref(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl DerefMut for LockedKey {
    fn deref_mut(&mut self) -> &mut [u8; 32] {
        &mut self.bytes
    }
}

impl std::fmt::Debug for LockedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LockedKey(<redacted>, locked: {})", self.locked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_key_keeps_its_bytes_and_prints_redacted() {
        let key = LockedKey::new(Zeroizing::new([7u8; 32]));
        assert_eq!(*key, [7u8; 32]);
        assert!(format!("{key:?}").contains("redacted"));
        assert!(!format!("{key:?}").contains('7'));
    }

    /// Run in a child process: the test harness's own process keeps its settings.
    #[cfg(target_os = "linux")]
    #[test]
    fn hardening_forbids_core_dumps() {
        if std::env::var_os("TRUCE_TEST_HARDEN_CHILD").is_some() {
            let done = harden_process();
            assert_eq!(
                done,
                Hardening {
                    not_dumpable: true,
                    no_core_files: true
                }
            );
            let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
            assert_eq!(limit.current, Some(0));
            assert_eq!(
                rustix::process::dumpable_behavior().ok(),
                Some(rustix::process::DumpableBehavior::NotDumpable)
            );
            return;
        }
        let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "secure_memory::tests::hardening_forbids_core_dumps",
            ])
            .env("TRUCE_TEST_HARDEN_CHILD", "1")
            .status()
            .expect("run the child");
        assert!(status.success(), "the child's checks failed");
    }
}
