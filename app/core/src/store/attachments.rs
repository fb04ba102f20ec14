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
