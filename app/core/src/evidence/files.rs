//! The encrypted file store of attachments: each original as one age file under
//! `attachments/` in the data folder, encrypted to the journal's attachment identity, under a
//! random name. Written whole or not at all (temp file, fsync, rename, fsync of the folder);
//! nothing is ever written in the clear.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::fsutil::{self, AtomicFile};

/// The suffix of an attachment file.
const SUFFIX: &str = ".age";

/// A source file copied into the store: its hash, size and the stored file's name.
pub struct Copied {
    /// SHA-256 of the bytes read.
    pub sha256: [u8; 32],
    /// How many bytes were read.
    pub size: u64,
    /// The stored file's name in the attachments folder.
    pub file: String,
}

/// Why a copy into the store failed: reading the source, or writing the store.
pub enum CopyError {
    /// The source could not be read.
    Read(io::Error),
    /// The store could not be written.
    Write(io::Error),
    /// The source is larger than the limit.
    TooLarge,
}

/// Streams `source` into a new encrypted file under `folder`, hashing it on the way, and reads
/// at most `max_bytes` (more is [`CopyError::TooLarge`], and nothing is kept). The file is
/// complete and durable when this returns.
pub fn copy_in(
    folder: &Path,
    source: &Path,
    recipient: &age::x25519::Recipient,
    max_bytes: u64,
) -> Result<Copied, CopyError> {
    let input = File::open(source).map_err(CopyError::Read)?;
    copy_from(
        folder,
        &mut BufReader::with_capacity(256 * 1024, input),
        recipient,
        max_bytes,
    )
}

/// [`copy_in`] from a stream: the same store, the same guarantees.
pub fn copy_from(
    folder: &Path,
    input: &mut dyn Read,
    recipient: &age::x25519::Recipient,
    max_bytes: u64,
) -> Result<Copied, CopyError> {
    let mut hasher = Sha256::new();
    let (file, size) = copy_stream(folder, input, recipient, max_bytes, Some(&mut hasher))?;
    Ok(Copied {
        sha256: hasher.finalize().into(),
        size,
        file,
    })
}

/// [`copy_from`] for a stream that checks its own hash as it is read (an attachment arriving
/// in a bundle: the bundle reader fails the last read if the bytes differ), so it is not
/// hashed twice. Returns the stored file's name and the bytes read.
pub fn copy_verified(
    folder: &Path,
    input: &mut dyn Read,
    recipient: &age::x25519::Recipient,
    max_bytes: u64,
) -> Result<(String, u64), CopyError> {
    copy_stream(folder, input, recipient, max_bytes, None)
}

fn copy_stream(
    folder: &Path,
    input: &mut dyn Read,
    recipient: &age::x25519::Recipient,
    max_bytes: u64,
    mut hasher: Option<&mut Sha256>,
) -> Result<(String, u64), CopyError> {
    let mut input = input.take(max_bytes + 1);
    let sealed = SealedFile::create(folder, recipient).map_err(CopyError::Write)?;
    // Reading (and decrypting, when the source is a bundle) on this thread; encrypting,
    // writing and fsyncing on another, so the two overlap. A bounded channel keeps memory flat.
    // `None` ends the file; a channel closed without it (a read error) leaves nothing.
    let (to_writer, chunks) = std::sync::mpsc::sync_channel::<Option<Vec<u8>>>(4);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<String> {
            let mut sealed = sealed;
            for chunk in chunks {
                match chunk {
                    Some(chunk) => sealed.write_all(&chunk)?,
                    None => return sealed.commit(),
                }
            }
            Err(io::Error::other("the copy was abandoned"))
        });
        let mut size = 0u64;
        let read = (|| {
            loop {
                let mut buf = vec![0u8; 256 * 1024];
                let n = match input.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(CopyError::Read(e)),
                };
                size += n as u64;
                if size > max_bytes {
                    return Err(CopyError::TooLarge);
                }
                buf.truncate(n);
                if let Some(hasher) = hasher.as_mut() {
                    hasher.update(&buf);
                }
                if to_writer.send(Some(buf)).is_err() {
                    // The writer stopped: its error says why.
                    return Ok(());
                }
            }
        })();
        match read {
            Ok(()) => {
                let _ = to_writer.send(None);
                drop(to_writer);
                let file = writer
                    .join()
                    .map_err(|_| CopyError::Write(io::Error::other("the writing thread panicked")))?
                    .map_err(CopyError::Write)?;
                Ok((file, size))
            }
            Err(e) => {
                // Dropped uncommitted, the temp file goes.
                drop(to_writer);
                let _ = writer.join();
                Err(e)
            }
        }
    })
}

/// A new file of the store being written: encrypted from its first byte, under a random
/// name, there only once [`SealedFile::commit`] made it complete and durable (dropped before,
/// it leaves nothing).
pub struct SealedFile {
    name: String,
    sealed: age::stream::StreamWriter<BufWriter<AtomicFile>>,
}

impl SealedFile {
    /// Starts a new file under `folder` (made private if missing), encrypted to `recipient`.
    pub fn create(folder: &Path, recipient: &age::x25519::Recipient) -> io::Result<SealedFile> {
        fsutil::create_private_dir(folder)?;
        let mut id = [0u8; 16];
        getrandom::getrandom(&mut id).map_err(io::Error::other)?;
        let name = format!("{}{SUFFIX}", hex::encode(id));
        let out = AtomicFile::create(&folder.join(&name))?;
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .map_err(io::Error::other)?;
        let sealed = encryptor.wrap_output(BufWriter::with_capacity(256 * 1024, out))?;
        Ok(SealedFile { name, sealed })
    }

    /// Ends the encryption, makes the file durable under its name, and returns the name.
    pub fn commit(self) -> io::Result<String> {
        let out = self
            .sealed
            .finish()?
            .into_inner()
            .map_err(|e| e.into_error())?;
        out.commit()?;
        Ok(self.name)
    }
}

impl Write for SealedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sealed.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sealed.flush()
    }
}

/// A signed text being kept (see `bundle_signed_text`): zstd inside a [`SealedFile`].
pub struct SealedText(zstd::Encoder<'static, SealedFile>);

impl SealedText {
    /// Starts a new compressed, encrypted file under `folder`.
    pub fn create(folder: &Path, recipient: &age::x25519::Recipient) -> io::Result<SealedText> {
        Ok(SealedText(zstd::Encoder::new(
            SealedFile::create(folder, recipient)?,
            3,
        )?))
    }

    /// Ends the compression and commits the file; returns its name.
    pub fn commit(self) -> io::Result<String> {
        self.0.finish()?.commit()
    }
}

impl Write for SealedText {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Opens a [`SealedText`] for reading its text.
pub fn open_text(
    folder: &Path,
    file: &str,
    identity: &age::x25519::Identity,
) -> io::Result<impl Read> {
    zstd::Decoder::new(open(folder, file, identity)?)
}

/// Opens the stored `file` for reading its original bytes.
pub fn open(folder: &Path, file: &str, identity: &age::x25519::Identity) -> io::Result<impl Read> {
    if file.contains(['/', '\\']) || !file.ends_with(SUFFIX) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "an attachment file name in the journal is not one Truce writes",
        ));
    }
    let input = BufReader::with_capacity(256 * 1024, File::open(folder.join(file))?);
    let decryptor = age::Decryptor::new(input).map_err(io::Error::other)?;
    decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(io::Error::other)
}

/// Opens the stored `file` for reading its original bytes in any order (an image decoder
/// seeks): age decrypts the chunk a position falls in.
pub fn open_seekable(
    folder: &Path,
    file: &str,
    identity: &age::x25519::Identity,
) -> io::Result<impl Read + io::Seek> {
    if file.contains(['/', '\\']) || !file.ends_with(SUFFIX) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "an attachment file name in the journal is not one Truce writes",
        ));
    }
    let input = BufReader::with_capacity(64 * 1024, File::open(folder.join(file))?);
    let decryptor = age::Decryptor::new(input).map_err(io::Error::other)?;
    decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(io::Error::other)
}

/// The SHA-256 and size of the original in the stored `file`.
pub fn hash_of(
    folder: &Path,
    file: &str,
    identity: &age::x25519::Identity,
) -> io::Result<([u8; 32], u64)> {
    let mut reader = open(folder, file, identity)?;
    let mut hasher = Sha256::new();
    let size = io::copy(&mut reader, &mut HashWriter(&mut hasher))?;
    Ok((hasher.finalize().into(), size))
}

/// A writer that only hashes what it is given.
pub struct HashWriter<'a>(pub &'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The attachment files under `folder` (not the temp files of interrupted writes).
pub fn stored_files(folder: &Path) -> io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(SUFFIX) && !name.starts_with('.') {
            files.push(name);
        }
    }
    Ok(files)
}
