//! The tar layer of bundle version 2, streamed both ways with flat memory: the compressed
//! entries as numbered members of at most 1 MiB (`entries.jsonl.zst.00000`, …, which `cat`
//! joins back into one zstd stream), each attachment as one member of its original bytes, the
//! signature last. Headers are written and parsed by the `tar` crate; this module only keeps
//! the order and the limits.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// The prefix of the members that hold the compressed entries, followed by 5 digits.
pub const ENTRIES_PREFIX: &str = "entries.jsonl.zst.";
/// The prefix of attachment members, followed by the original's SHA-256 in lowercase hex.
pub const ATTACHMENT_PREFIX: &str = "attachments/";
/// The last member: `{"signature": "<hex>"}`.
pub const SIGNATURE_MEMBER: &str = "signature.json";
/// Most bytes of compressed entries in one member.
pub const ENTRIES_CHUNK: usize = 1024 * 1024;
/// Most entries members (100 GiB of compressed entries).
const MAX_ENTRIES_MEMBERS: usize = 100_000;
/// Largest signature member.
const MAX_SIGNATURE_BYTES: u64 = 1024;
/// A tar block.
const BLOCK: usize = 512;

/// A tar header for a regular file `name` of `size` bytes, readable by its owner, with a fixed
/// time so that nothing in the archive says when or where it was made.
fn header(name: &str, size: u64) -> io::Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name)?;
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(h)
}

/// Writes the compressed entries as numbered members of at most [`ENTRIES_CHUNK`] bytes into a
/// tar archive around `inner`; then, through [`Members::archive`], the other members.
pub struct Members<W: Write> {
    builder: tar::Builder<W>,
    chunk: Vec<u8>,
    written: usize,
}

impl<W: Write> Members<W> {
    /// Starts an archive around `inner`.
    pub fn new(inner: W) -> Members<W> {
        Members {
            builder: tar::Builder::new(inner),
            chunk: Vec::with_capacity(ENTRIES_CHUNK),
            written: 0,
        }
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let name = format!("{ENTRIES_PREFIX}{:05}", self.written);
        let h = header(&name, self.chunk.len() as u64)?;
        self.builder.append(&h, &self.chunk[..])?;
        self.chunk.clear();
        self.written += 1;
        Ok(())
    }

    /// Ends the entries (their last member) and gives the archive for the other members.
    pub fn archive(mut self) -> io::Result<Archive<W>> {
        self.flush_chunk()?;
        Ok(Archive {
            builder: self.builder,
        })
    }
}

impl<W: Write> Write for Members<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = ENTRIES_CHUNK - self.chunk.len();
        let n = buf.len().min(room);
        self.chunk.extend_from_slice(&buf[..n]);
        if self.chunk.len() == ENTRIES_CHUNK {
            self.flush_chunk()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The archive after the entries: attachments, then the signature, then the end.
pub struct Archive<W: Write> {
    builder: tar::Builder<W>,
}

impl<W: Write> Archive<W> {
    /// Appends an attachment of `size` bytes read from `data`; returns the SHA-256 of what it
    /// read (the caller compares it with the hash the record names). Fails if `data` holds
    /// fewer or more bytes than `size`.
    pub fn attachment(
        &mut self,
        sha256_hex: &str,
        size: u64,
        data: &mut dyn Read,
    ) -> io::Result<[u8; 32]> {
        let h = header(&format!("{ATTACHMENT_PREFIX}{sha256_hex}"), size)?;
        let mut hashing = HashingReader {
            inner: data.take(size),
            hasher: Sha256::new(),
            read: 0,
        };
        self.builder.append(&h, &mut hashing)?;
        if hashing.read != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "attachment {sha256_hex} holds {} bytes, not {size}",
                    hashing.read
                ),
            ));
        }
        let mut rest = [0u8; 1];
        if hashing.inner.into_inner().read(&mut rest)? != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("attachment {sha256_hex} holds more than {size} bytes"),
            ));
        }
        Ok(hashing.hasher.finalize().into())
    }

    /// Appends the signature member and the end of the archive; returns the inner writer.
    pub fn finish(mut self, signature_json: &[u8]) -> io::Result<W> {
        let h = header(SIGNATURE_MEMBER, signature_json.len() as u64)?;
        self.builder.append(&h, signature_json)?;
        self.builder.into_inner()
    }
}

struct HashingReader<R: Read> {
    inner: R,
    hasher: Sha256,
    read: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

/// What a member is, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// Compressed entries, part `n`.
    Entries(usize),
    /// The original of the attachment with this SHA-256.
    Attachment([u8; 32]),
    /// The signature.
    Signature,
}

/// Why the archive is refused.
pub type ArchiveError = String;

/// Reads the archive member by member: headers parsed by the `tar` crate and checked
/// (regular files, known names, sizes within limits), data read through [`MemberReader`].
pub struct MemberStream<R: Read> {
    inner: R,
    /// Bytes of the current member not yet read, and the padding after it.
    left: u64,
    padding: u64,
    /// A header read ahead (the member after the entries).
    ahead: Option<(Member, u64)>,
    ended: bool,
}

impl<R: Read> MemberStream<R> {
    /// Reads members from `inner`, the decrypted bundle.
    pub fn new(inner: R) -> MemberStream<R> {
        MemberStream {
            inner,
            left: 0,
            padding: 0,
            ahead: None,
            ended: false,
        }
    }

    /// The next member's kind and size, `None` at the end of the archive. Whatever was left of
    /// the member before is skipped.
    pub fn next_member(&mut self, max_size: u64) -> Result<Option<(Member, u64)>, ArchiveError> {
        if let Some(ahead) = self.ahead.take() {
            return Ok(Some(ahead));
        }
        self.skip_rest()?;
        if self.ended {
            return Ok(None);
        }
        let mut block = [0u8; BLOCK];
        self.read_exact(&mut block)?;
        if block.iter().all(|b| *b == 0) {
            // The end: a second zero block, then nothing.
            self.read_exact(&mut block)?;
            if block.iter().any(|b| *b != 0) {
                return Err("the archive's end marker is damaged".into());
            }
            let mut rest = [0u8; 1];
            match self.inner.read(&mut rest) {
                Ok(0) => {}
                Ok(_) => return Err("there is data after the end of the archive".into()),
                Err(e) => return Err(format!("the bundle is damaged or truncated: {e}")),
            }
            self.ended = true;
            return Ok(None);
        }
        let header = tar::Header::from_byte_slice(&block);
        let mut check = header.clone();
        check.set_cksum();
        if header.cksum().ok() != check.cksum().ok() || header.cksum().is_err() {
            return Err("a member's header is damaged (its checksum does not match)".into());
        }
        if header.entry_type() != tar::EntryType::Regular {
            return Err(format!(
                "it holds a member of type {:?}; a bundle holds regular files only",
                header.entry_type()
            ));
        }
        let name = header.path_bytes().into_owned();
        let name =
            String::from_utf8(name).map_err(|_| "a member's name is not UTF-8".to_string())?;
        let member = member_of(&name).ok_or_else(|| {
            format!(
                "it holds a member named `{}`, which no Truce bundle has",
                name.escape_debug()
            )
        })?;
        let size = header
            .size()
            .map_err(|_| "a member's size is unreadable".to_string())?;
        if size > max_size {
            return Err(format!(
                "member `{name}` is {size} bytes, over the limit of {max_size}"
            ));
        }
        self.left = size;
        self.padding = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        Ok(Some((member, size)))
    }

    /// Puts a member's header back, to be returned by the next [`MemberStream::next_member`].
    pub fn put_back(&mut self, member: (Member, u64)) {
        self.ahead = Some(member);
    }

    /// Reads the current member's data.
    pub fn read_member(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the bundle ends inside a member",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }

    /// Reads all of the current member, if it is at most `max` bytes.
    pub fn member_bytes(&mut self, max: u64) -> Result<Vec<u8>, ArchiveError> {
        if self.left > max {
            return Err(format!("a member is over {max} bytes"));
        }
        let mut out = vec![0u8; usize::try_from(self.left).unwrap_or(0)];
        let mut at = 0;
        while at < out.len() {
            let n = self
                .read_member(&mut out[at..])
                .map_err(|e| format!("the bundle is damaged or truncated: {e}"))?;
            at += n;
        }
        Ok(out)
    }

    fn skip_rest(&mut self) -> Result<(), ArchiveError> {
        let skip = self.left + self.padding;
        let copied = io::copy(&mut (&mut self.inner).take(skip), &mut io::sink())
            .map_err(|e| format!("the bundle is damaged or truncated: {e}"))?;
        if copied != skip {
            return Err("the bundle ends inside a member".into());
        }
        self.left = 0;
        self.padding = 0;
        Ok(())
    }

    fn read_exact(&mut self, block: &mut [u8]) -> Result<(), ArchiveError> {
        self.inner
            .read_exact(block)
            .map_err(|e| format!("the bundle is damaged or truncated: {e}"))
    }
}

/// The member a name stands for, if it is one a bundle may hold.
fn member_of(name: &str) -> Option<Member> {
    if name == SIGNATURE_MEMBER {
        return Some(Member::Signature);
    }
    if let Some(n) = name.strip_prefix(ENTRIES_PREFIX) {
        if n.len() == 5 && n.bytes().all(|b| b.is_ascii_digit()) {
            let n: usize = n.parse().ok()?;
            return (n < MAX_ENTRIES_MEMBERS).then_some(Member::Entries(n));
        }
        return None;
    }
    let hex = name.strip_prefix(ATTACHMENT_PREFIX)?;
    if !crate::attachment::is_sha256_hex(hex) {
        return None;
    }
    let mut hash = [0u8; 32];
    hex::decode_to_slice(hex, &mut hash).ok()?;
    Some(Member::Attachment(hash))
}

/// The largest member [`MemberStream::next_member`] accepts for the signature.
pub fn signature_limit() -> u64 {
    MAX_SIGNATURE_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_and_entries_split_at_the_chunk_size() {
        let mut members = Members::new(Vec::new());
        let entries = vec![7u8; ENTRIES_CHUNK + 10];
        members.write_all(&entries).expect("entries");
        let mut archive = members.archive().expect("archive");
        let photo = b"a photo".to_vec();
        let hash = hex::encode(Sha256::digest(&photo));
        let got = archive
            .attachment(&hash, photo.len() as u64, &mut &photo[..])
            .expect("attachment");
        assert_eq!(hex::encode(got), hash);
        let bytes = archive.finish(br#"{"signature":"00"}"#).expect("finish");

        let mut stream = MemberStream::new(&bytes[..]);
        let mut names = Vec::new();
        while let Some((member, size)) = stream.next_member(u64::MAX).expect("member") {
            names.push((member, size));
        }
        let mut expected_hash = [0u8; 32];
        hex::decode_to_slice(&hash, &mut expected_hash).expect("hex");
        assert_eq!(
            names,
            vec![
                (Member::Entries(0), ENTRIES_CHUNK as u64),
                (Member::Entries(1), 10),
                (Member::Attachment(expected_hash), 7),
                (Member::Signature, 18),
            ]
        );
    }

    #[test]
    fn an_attachment_of_another_size_is_refused() {
        let mut archive = Members::new(Vec::new()).archive().expect("archive");
        let data = b"12345".to_vec();
        assert!(archive
            .attachment(&"a".repeat(64), 6, &mut &data[..])
            .is_err());
        let mut archive = Members::new(Vec::new()).archive().expect("archive");
        assert!(archive
            .attachment(&"a".repeat(64), 4, &mut &data[..])
            .is_err());
    }

    #[test]
    fn names_outside_the_format_are_refused() {
        for name in [
            "../etc/passwd",
            "attachments/../../x",
            "attachments/ABCDEF",
            "entries.jsonl.zst.1",
            "/signature.json",
            "attachments/",
        ] {
            assert_eq!(member_of(name), None, "{name}");
        }
        assert_eq!(member_of("signature.json"), Some(Member::Signature));
        assert_eq!(
            member_of("entries.jsonl.zst.00042"),
            Some(Member::Entries(42))
        );
    }
}
