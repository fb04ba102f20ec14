//! The attachments table: which stored file holds the original of each SHA-256, and the
//! journal's attachment identity (the age key the files are encrypted to).

use rusqlite::{params, OptionalExtension};
use zeroize::Zeroizing;

use super::{Store, StoreError};

/// A stored attachment's row: its hash, the file under `attachments/` that holds it
/// (encrypted), its size and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    /// SHA-256 of the original bytes.
    pub sha256: [u8; 32],
    /// The file's name under `attachments/`.
    pub file: String,
    /// Size of the original.
    pub size: u64,
    /// Media type, from the content.
    pub media_type: String,
}

impl Store {
    /// The attachment identity's secret, if one was made.
    pub fn attachment_secret(&self) -> Result<Option<Zeroizing<String>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT secret FROM attachment_identity WHERE id = 1",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional()?
            .map(Zeroizing::new))
    }

    /// Keeps the attachment identity's secret; refuses to replace one (files are encrypted
    /// to it).
    pub fn set_attachment_secret(&self, secret: &str, created_at: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO attachment_identity (id, secret, created_at) VALUES (1, ?1, ?2)",
            params![secret, created_at],
        )?;
        Ok(())
    }

    /// The stored attachment with this hash, if held.
    pub fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<StoredAttachment>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT file, size, media_type FROM attachment WHERE sha256 = ?1",
                [&sha256[..]],
                |row| {
                    Ok(StoredAttachment {
                        sha256: *sha256,
                        file: row.get(0)?,
                        size: row.get::<_, i64>(1)?.try_into().unwrap_or(0),
                        media_type: row.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Every stored attachment, by hash.
    pub fn attachments(&self) -> Result<Vec<StoredAttachment>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT sha256, file, size, media_type FROM attachment ORDER BY sha256")?;
        let rows = stmt.query_map([], |row| {
            let hash: Vec<u8> = row.get(0)?;
            Ok((hash, row.get(1)?, row.get::<_, i64>(2)?, row.get(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (hash, file, size, media_type) = row?;
            let sha256: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::Damaged("an attachment hash is not 32 bytes".into()))?;
            out.push(StoredAttachment {
                sha256,
                file,
                size: size.try_into().unwrap_or(0),
                media_type,
            });
        }
        Ok(out)
    }
}

/// Records `stored` in the transaction that saves the revision naming them (a file already
/// held is left as it is).
pub(super) fn insert_attachments(
    tx: &rusqlite::Connection,
    stored: &[StoredAttachment],
    stored_at: &str,
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO attachment (sha256, file, size, media_type, stored_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for a in stored {
        let size = i64::try_from(a.size)
            .map_err(|_| StoreError::Damaged("an attachment larger than 2^63 bytes".into()))?;
        stmt.execute(params![
            &a.sha256[..],
            a.file,
            size,
            a.media_type,
            stored_at
        ])?;
    }
    Ok(())
}

/// What a coordinator keeps of an imported bundle for evidence packages (see migration 0014):
/// where its signed lines are, and what its signature was verified over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTextRow {
    /// The bundle's id.
    pub bundle_id: String,
    /// The device that signed it.
    pub device_id: String,
    /// The bundle's format version.
    pub version: u32,
    /// Its first and last entries.
    pub first_seq: u64,
    pub last_seq: u64,
    /// The file under `attachments/` holding the signed lines (zstd, then age).
    pub file: String,
    /// SHA-256 of the signed lines.
    pub lines_sha256: [u8; 32],
    /// The device's signature.
    pub signature: [u8; 64],
    /// Version 2: the attachments' hashes, in the bundle's order.
    pub attachment_hashes: Vec<[u8; 32]>,
}

fn signed_text_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<SignedTextRow> {
    let blob = |i: usize| row.get::<_, Vec<u8>>(i);
    let bad = |what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            format!("a kept signed text's {what} has the wrong length").into(),
        )
    };
    let hashes = blob(8)?;
    Ok(SignedTextRow {
        bundle_id: row.get(0)?,
        device_id: row.get(1)?,
        version: row.get(2)?,
        first_seq: row.get::<_, i64>(3)?.try_into().unwrap_or(0),
        last_seq: row.get::<_, i64>(4)?.try_into().unwrap_or(0),
        file: row.get(5)?,
        lines_sha256: blob(6)?.try_into().map_err(|_| bad("hash"))?,
        signature: blob(7)?.try_into().map_err(|_| bad("signature"))?,
        attachment_hashes: hashes
            .chunks_exact(32)
            .map(|c| c.try_into().map_err(|_| bad("attachment hashes")))
            .collect::<Result<_, _>>()?,
    })
}

const SIGNED_TEXT_COLUMNS: &str = "bundle_id, device_id, version, first_seq, last_seq, file, \
     lines_sha256, signature, attachment_hashes";

impl Store {
    /// The kept signed text that holds entry `seq` of `device_id`: the narrowest bundle whose
    /// range covers it, if any was kept.
    pub fn signed_text_covering(
        &self,
        device_id: &str,
        seq: u64,
    ) -> Result<Option<SignedTextRow>, StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {SIGNED_TEXT_COLUMNS} FROM bundle_signed_text
                     WHERE device_id = ?1 AND first_seq <= ?2 AND last_seq >= ?2
                     ORDER BY last_seq - first_seq, bundle_id LIMIT 1"
                ),
                params![device_id, seq],
                signed_text_of,
            )
            .optional()?)
    }

    /// Every kept signed text (for `truce check`).
    pub fn signed_texts(&self) -> Result<Vec<SignedTextRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SIGNED_TEXT_COLUMNS} FROM bundle_signed_text ORDER BY bundle_id"
        ))?;
        let rows = stmt.query_map([], signed_text_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The files of every kept signed text (named files, for the store's clean-up).
    pub fn signed_text_files(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT file FROM bundle_signed_text")?;
        let files = stmt.query_map([], |row| row.get(0))?;
        Ok(files.collect::<Result<_, _>>()?)
    }
}

/// Keeps a bundle's signed text in its import savepoint; `false` when that bundle's text is
/// kept already (the caller removes the new copy).
pub(super) fn insert_signed_text(
    tx: &rusqlite::Connection,
    row: &SignedTextRow,
    kept_at: &str,
) -> Result<bool, StoreError> {
    let seq = |n: u64| {
        i64::try_from(n).map_err(|_| StoreError::Damaged("a sequence number past 2^63".into()))
    };
    let hashes: Vec<u8> = row.attachment_hashes.concat();
    let inserted = tx.execute(
        &format!(
            "INSERT OR IGNORE INTO bundle_signed_text ({SIGNED_TEXT_COLUMNS}, kept_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            row.bundle_id,
            row.device_id,
            row.version,
            seq(row.first_seq)?,
            seq(row.last_seq)?,
            row.file,
            &row.lines_sha256[..],
            &row.signature[..],
            hashes,
            kept_at
        ],
    )?;
    Ok(inserted == 1)
}

/// What an evidence package says of the device that signed a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceDevice {
    /// The device's Ed25519 public key, 64 hex digits.
    pub device_key: String,
    /// The observer named in its first bundle.
    pub observer: String,
    /// When the coordinator accepted it, if it did.
    pub accepted_at: Option<String>,
}

impl Store {
    /// The sequence number of the entry that carried `revision` of `observation_id` from
    /// `device_id`, if it was received in a bundle.
    pub fn received_seq(
        &self,
        device_id: &str,
        observation_id: &str,
        revision: u32,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq FROM received_entry
                 WHERE device_id = ?1 AND observation_id = ?2 AND revision = ?3",
                params![device_id, observation_id, revision],
                |row| row.get::<_, i64>(0),
            )
            .optional()?
            .and_then(|seq| u64::try_from(seq).ok()))
    }

    /// The device as this coordinator knows it, for an evidence package.
    pub fn evidence_device(&self, device_id: &str) -> Result<Option<EvidenceDevice>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT device_key, observer, accepted_at FROM known_device WHERE device_id = ?1",
                [device_id],
                |row| {
                    Ok(EvidenceDevice {
                        device_key: row.get(0)?,
                        observer: row.get(1)?,
                        accepted_at: row.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// When and from which file a bundle was imported (its first import).
    pub fn bundle_import_of(
        &self,
        bundle_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT file_name, imported_at FROM bundle_import
                 WHERE bundle_id = ?1 AND status = 'imported' ORDER BY id LIMIT 1",
                [bundle_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }
}

/// A kept preview (derived data, see migration 0014).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRow {
    /// The original's hash.
    pub sha256: [u8; 32],
    /// A photo's size in pixels.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// A recording's length.
    pub duration_ms: Option<u64>,
    /// The thumbnail, JPEG.
    pub thumbnail: Option<Vec<u8>>,
    /// Why there is no thumbnail.
    pub problem: Option<String>,
    /// When it was made.
    pub made_at: String,
}

impl Store {
    /// The kept preview of an attachment, if one was made.
    pub fn attachment_preview(&self, sha256: &[u8; 32]) -> Result<Option<PreviewRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT width, height, duration_ms, thumbnail, problem, made_at
                 FROM attachment_preview WHERE sha256 = ?1",
                [&sha256[..]],
                |row| {
                    Ok(PreviewRow {
                        sha256: *sha256,
                        width: row.get(0)?,
                        height: row.get(1)?,
                        duration_ms: row
                            .get::<_, Option<i64>>(2)?
                            .and_then(|d| u64::try_from(d).ok()),
                        thumbnail: row.get(3)?,
                        problem: row.get(4)?,
                        made_at: row.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Keeps (or replaces) an attachment's preview.
    pub fn keep_attachment_preview(&self, row: &PreviewRow) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO attachment_preview
             (sha256, width, height, duration_ms, thumbnail, problem, made_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                &row.sha256[..],
                row.width,
                row.height,
                row.duration_ms.and_then(|d| i64::try_from(d).ok()),
                row.thumbnail,
                row.problem,
                row.made_at
            ],
        )?;
        Ok(())
    }
}
