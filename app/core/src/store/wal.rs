//! A check of the write-ahead log left by a crash, before SQLite replays it: SQLite stops
//! replaying at the first frame whose checksum fails and silently drops every later transaction,
//! so a flipped byte in the middle of the WAL would lose acknowledged records without a word.
//!
//! The file format is SQLite's (<https://www.sqlite.org/fileformat.html#the_write_ahead_log>):
//! a 32-byte header, then frames of a 24-byte header and one page. Checksums are cumulative.
//! A frame that fails its checksum is damage, not a torn write, when a complete transaction
//! (a commit frame) follows it and yet another frame follows that commit: transactions are
//! written one after another, each synced before the next starts, so a transaction after the
//! bad frame proves the bad frame had been synced whole. A bad frame inside the last
//! transaction cannot be told from a crash during that transaction's commit and is left to
//! SQLite, which drops that transaction as it would after such a crash.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::Path;

const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;
const MAGIC_LE: u32 = 0x377f_0682;
const MAGIC_BE: u32 = 0x377f_0683;

/// What the scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalState {
    /// No WAL, an empty one, or one SQLite will replay in full or up to a torn last transaction.
    Replayable,
    /// A damaged frame with committed transactions after it; the text says where.
    Damaged(String),
}

/// Scans the WAL at `path` (streaming, one page in memory).
pub fn scan(path: &Path) -> std::io::Result<WalState> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(WalState::Replayable),
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut header = [0u8; HEADER];
    if !read_full(&mut reader, &mut header)? {
        return Ok(WalState::Replayable);
    }
    let magic = be32(&header[0..4]);
    let big_endian = match magic {
        MAGIC_LE => false,
        MAGIC_BE => true,
        _ => return Ok(WalState::Replayable),
    };
    let page_size = be32(&header[8..12]) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        // SQLite ignores such a WAL too; whether frames follow decides below.
        return Ok(WalState::Replayable);
    }
    let salts = [be32(&header[16..20]), be32(&header[20..24])];
    let header_ok = checksum(big_endian, (0, 0), &header[..24])
        == (be32(&header[24..28]), be32(&header[28..32]));

    let mut frame = vec![0u8; FRAME_HEADER + page_size];
    // The seed for the next frame: the header's stored checksum, then each frame's stored one.
    let mut seed = (be32(&header[24..28]), be32(&header[28..32]));
    let mut first_bad: Option<u64> = (!header_ok).then_some(0);
    // After the first bad frame: a commit frame has verified since, and the frame number.
    let mut commit_after_bad: Option<u64> = None;
    let mut index = 0u64;
    while read_full(&mut reader, &mut frame)? {
        index += 1;
        let frame_salts = [be32(&frame[8..12]), be32(&frame[12..16])];
        if frame_salts != salts {
            // A frame of an earlier WAL generation: where SQLite stops, and not damage.
            break;
        }
        let stored = (be32(&frame[16..20]), be32(&frame[20..24]));
        let computed = checksum(
            big_endian,
            checksum(big_endian, seed, &frame[..8]),
            &frame[FRAME_HEADER..],
        );
        seed = stored;
        let valid = computed == stored;
        let commit = be32(&frame[4..8]) != 0;
        match (first_bad, valid) {
            (None, false) => first_bad = Some(index),
            (Some(bad), true) => {
                if let Some(commit_frame) = commit_after_bad {
                    return Ok(WalState::Damaged(damage(bad, commit_frame)));
                }
                if commit {
                    commit_after_bad = Some(index);
                }
            }
            _ => {}
        }
    }
    Ok(WalState::Replayable)
}

fn damage(bad: u64, commit_frame: u64) -> String {
    if bad == 0 {
        format!("the write-ahead log's header is damaged, yet it holds transactions (committed at frame {commit_frame} and later)")
    } else {
        format!("frame {bad} of the write-ahead log is damaged, and transactions committed after it (frame {commit_frame} and later) would be lost")
    }
}

/// Reads exactly `buf.len()` bytes; false at a clean or partial end of file.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `seed`.
fn checksum(big_endian: bool, seed: (u32, u32), data: &[u8]) -> (u32, u32) {
    let (mut s0, mut s1) = seed;
    for pair in data.chunks_exact(8) {
        let word = |b: &[u8]| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s0 = s0.wrapping_add(word(&pair[0..4]).wrapping_add(s1));
        s1 = s1.wrapping_add(word(&pair[4..8]).wrapping_add(s0));
    }
    (s0, s1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// A real WAL written by SQLite: `transactions` inserts, each its own transaction, copied
    /// while the connection is open (closing would checkpoint and delete it).
    fn real_wal(dir: &Path, transactions: usize) -> Vec<u8> {
        let conn = Connection::open(dir.join("plain.db")).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT);",
        )
        .expect("schema");
        for i in 0..transactions {
            conn.execute(
                "INSERT INTO t (body) VALUES (?1)",
                [format!("row {i} ").repeat(50)],
            )
            .expect("insert");
        }
        std::fs::read(dir.join("plain.db-wal")).expect("read the WAL")
    }

    fn scan_bytes(dir: &Path, bytes: &[u8]) -> WalState {
        let path = dir.join("copy-wal");
        std::fs::write(&path, bytes).expect("write");
        scan(&path).expect("scan")
    }

    fn frame_offset(bytes: &[u8], frame: usize) -> usize {
        let page_size = be32(&bytes[8..12]) as usize;
        HEADER + (frame - 1) * (FRAME_HEADER + page_size)
    }

    fn frames(bytes: &[u8]) -> usize {
        let page_size = be32(&bytes[8..12]) as usize;
        (bytes.len() - HEADER) / (FRAME_HEADER + page_size)
    }

    #[test]
    fn an_intact_wal_and_no_wal_are_replayable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = real_wal(dir.path(), 10);
        assert!(
            frames(&wal) >= 10,
            "expected a frame per transaction at least"
        );
        assert_eq!(scan_bytes(dir.path(), &wal), WalState::Replayable);
        assert_eq!(
            scan(&dir.path().join("absent")).expect("scan"),
            WalState::Replayable
        );
    }

    #[test]
    fn a_flipped_byte_before_later_transactions_is_damage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = real_wal(dir.path(), 10);
        let page_size = be32(&wal[8..12]) as usize;
        // In the page of frame 2, in a frame header, and in the WAL header itself.
        for offset in [
            frame_offset(&wal, 2) + FRAME_HEADER + page_size / 2,
            frame_offset(&wal, 3) + 2,
            4,
        ] {
            let mut damaged = wal.clone();
            damaged[offset] ^= 0x01;
            match scan_bytes(dir.path(), &damaged) {
                WalState::Damaged(why) => assert!(why.contains("write-ahead log"), "{why}"),
                other => panic!("byte {offset} flipped, yet {other:?}"),
            }
        }
    }

    #[test]
    fn a_torn_last_transaction_is_not_damage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = real_wal(dir.path(), 10);
        let last = frames(&wal);
        // The last frame half written, or garbage in it: what a crash mid-commit leaves.
        let torn = &wal[..frame_offset(&wal, last) + 100];
        assert_eq!(scan_bytes(dir.path(), torn), WalState::Replayable);
        let mut garbage = wal.clone();
        let at = frame_offset(&wal, last) + FRAME_HEADER + 10;
        garbage[at] ^= 0xff;
        assert_eq!(scan_bytes(dir.path(), &garbage), WalState::Replayable);
    }
}
