//! How the journal's key reaches SQLCipher: through SQLCipher's key API, from a buffer wiped
//! after the call, never as SQL text (which SQLite would copy into memory it does not wipe);
//! the page authentication and page size, which are no secret, as pragmas; re-encryption in
//! place with a new key; and SQLCipher's memory security.

use std::os::raw::c_int;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{ffi, Connection, OpenFlags};
use zeroize::Zeroizing;

use super::{Store, StoreError};
use crate::keyfile::{DatabaseKey, PageAuth};

/// `x'`, 64 hex digits, `'`: SQLCipher's form for a raw 256-bit key, used as is (no key
/// derivation; the passphrase was stretched when it unwrapped the key file).
const RAW_KEY_LEN: usize = 67;

/// Whether connections switch SQLCipher's memory security on (see [`set_memory_security`]).
static MEMORY_SECURITY: AtomicBool = AtomicBool::new(false);

/// Whether the journals this process opens switch on SQLCipher's memory security: every block
/// of SQLite's memory locked in RAM (`mlock`) when allocated and wiped when freed, so
/// decrypted pages do not linger in freed memory or swap. Off: it made the bench's import take
/// 75 to 136 % longer (two system calls per allocation; docs/performance.md), far above the
/// 10 % Truce would pay for it, and the keys themselves are wiped either way (SQLCipher always wipes
/// its key material; Truce's copies are zeroized). The bench turns it on to measure it again.
/// SQLCipher's setting is for the whole process and, once on, stays on.
#[doc(hidden)]
pub fn set_memory_security(on: bool) {
    MEMORY_SECURITY.store(on, Ordering::SeqCst);
}

/// The key in SQLCipher's raw-key form, in a buffer wiped on drop.
fn raw_key(key: &DatabaseKey) -> Zeroizing<[u8; RAW_KEY_LEN]> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut spec = Zeroizing::new([0u8; RAW_KEY_LEN]);
    spec[0] = b'x';
    spec[1] = b'\'';
    for (i, byte) in key.secret_bytes().iter().enumerate() {
        spec[2 + 2 * i] = HEX[usize::from(byte >> 4)];
        spec[3 + 2 * i] = HEX[usize::from(byte & 0x0f)];
    }
    spec[RAW_KEY_LEN - 1] = b'\'';
    spec
}

/// The value of SQLCipher's `cipher_hmac_algorithm` pragma.
fn hmac_algorithm(auth: PageAuth) -> &'static str {
    match auth {
        PageAuth::HmacSha512 => "HMAC_SHA512",
        PageAuth::HmacSha256 => "HMAC_SHA256",
    }
}

/// An SQLite result code as an error.
fn check(rc: c_int, what: &str) -> Result<(), StoreError> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some(what.to_owned())).into())
}

/// Keys a connection that has read nothing yet: the raw key through `sqlite3_key`, then
/// SQLCipher's memory security, the journal's page authentication and size, and SQLCipher's
/// logging off (keying switches it on, and Truce reports failures itself).
pub(super) fn apply_key(conn: &Connection, key: &DatabaseKey) -> Result<(), StoreError> {
    let spec = raw_key(key);
    // SAFETY: `conn.handle()` is the open connection `conn` owns, used on this thread for the
    // length of the call only; `spec` is `RAW_KEY_LEN` bytes and outlives the call, and
    // SQLCipher copies the bytes it is given into memory it wipes itself.
    let rc = unsafe { ffi::sqlite3_key(conn.handle(), spec.as_ptr().cast(), RAW_KEY_LEN as c_int) };
    check(rc, "SQLCipher refused the key")?;
    if MEMORY_SECURITY.load(Ordering::SeqCst) {
        conn.execute_batch("PRAGMA cipher_memory_security = ON;")?;
    }
    conn.execute_batch(&format!(
        "PRAGMA cipher_hmac_algorithm = {}; PRAGMA cipher_page_size = {}; PRAGMA cipher_log_level = NONE;",
        hmac_algorithm(key.page_auth()),
        key.page_size()
    ))?;
    Ok(())
}

impl Store {
    /// Copies every page the write-ahead log holds into the database and empties the log.
    /// Fails as busy when another connection's reading keeps it from finishing.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
        if busy != 0 {
            return Err(StoreError::Busy);
        }
        Ok(())
    }

    /// Re-encrypts every page of the database with `next` (same page authentication and size),
    /// in one write transaction: in WAL mode every page goes to the log and the commit makes
    /// them current all at once, so a crash leaves the database under one key or the other.
    ///
    /// SQLCipher does not report a failure of the rewrite itself (it rolls back and answers
    /// ok), and after such a failure this connection would write with `next` pages it reads
    /// with the old key. So: use a connection of its own for this, drop it afterwards (a
    /// checkpoint, a raw copy, is all it may still do), and let only a new connection keyed
    /// with `next` prove that the change took.
    pub fn rekey_in_place(&self, next: &DatabaseKey) -> Result<(), StoreError> {
        let spec = raw_key(next);
        // SAFETY: as in `apply_key`: the connection `self` owns, this thread, a buffer of
        // `RAW_KEY_LEN` bytes that outlives the call and that SQLCipher copies.
        let rc = unsafe {
            ffi::sqlite3_rekey(
                self.conn.handle(),
                spec.as_ptr().cast(),
                RAW_KEY_LEN as c_int,
            )
        };
        check(rc, "SQLCipher could not re-encrypt the journal")
    }

    /// Whether this connection still reads the database (a fresh read of its first page).
    pub fn readable(&self) -> bool {
        self.conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| {
                row.get::<_, i64>(0)
            })
            .is_ok()
    }

    /// Whether `key` decrypts the database at `path`. A read-only look at its first page: it
    /// neither migrates nor checkpoints, and changes nothing in the database or its log.
    pub fn opens_with(path: &Path, key: &DatabaseKey) -> Result<bool, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        apply_key(&conn, key)?;
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        }) {
            Ok(_) => Ok(true),
            Err(e) => match StoreError::from(e) {
                StoreError::Damaged(_) => Ok(false),
                other => Err(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyfile::PageSize;

    fn device() -> super::super::DeviceIdentity {
        super::super::DeviceIdentity {
            device_id: uuid::Uuid::now_v7(),
            observer: "Ana".into(),
            team: None,
            role: truce_sync::Role::Monitor,
            signing_key: truce_sync::DeviceSigningKey::from_bytes(&[5u8; 32]),
            created_at: "2026-12-01T10:00:00+00:00".into(),
        }
    }

    #[test]
    fn a_rekeyed_database_opens_with_the_new_key_only() {
        for size in [PageSize::Standard, PageSize::Large] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("journal.db");
            let old = DatabaseKey::generate(size).expect("random");
            let new = old.fresh_like().expect("random");
            drop(Store::create(&path, &old, &device()).expect("create"));
            let before = std::fs::read(&path).expect("read");
            assert!(Store::opens_with(&path, &old).expect("probe"));
            assert!(!Store::opens_with(&path, &new).expect("probe"));

            let store = Store::open(&path, &old).expect("open");
            store.checkpoint().expect("checkpoint");
            store.rekey_in_place(&new).expect("rekey");
            store.checkpoint().expect("checkpoint");
            drop(store);

            let after = std::fs::read(&path).expect("read");
            assert_eq!(before.len(), after.len(), "{size:?}");
            // Every page is rewritten (the first 16 bytes are SQLCipher's salt, kept).
            let page = size.bytes() as usize;
            for (i, (a, b)) in before.chunks(page).zip(after.chunks(page)).enumerate() {
                assert_ne!(a[16..], b[16..], "{size:?}: page {} unchanged", i + 1);
            }
            assert!(!Store::opens_with(&path, &old).expect("probe"));
            assert!(Store::opens_with(&path, &new).expect("probe"));
            assert!(matches!(
                Store::open(&path, &old),
                Err(StoreError::Damaged(_))
            ));
            let reopened = Store::open(&path, &new).expect("the new key opens");
            assert_eq!(reopened.device().expect("device").observer, "Ana");
            assert!(reopened.integrity_problems().expect("check").is_empty());
        }
    }

    #[test]
    fn the_raw_key_form_is_the_hex_of_the_key() {
        let key = DatabaseKey::generate(PageSize::Standard).expect("random");
        let spec = raw_key(&key);
        let expected = format!("x'{}'", hex::encode(key.secret_bytes()));
        assert_eq!(&spec[..], expected.as_bytes());
    }
}
