//! What the screens show of an attachment without opening it: a photo's thumbnail and size in
//! pixels, made with decode limits (an image bomb is refused, not decoded) and kept inside the
//! encrypted journal as derived data; and the pictures the full-screen viewer shows, made in
//! memory only.

use std::io::{BufRead, BufReader, Cursor, Read, Seek};

use image::{DynamicImage, ImageReader, Limits};

use super::files;
use crate::journal::{now, Journal, JournalError};
use crate::model::{AttachmentPreview, Picture};
use crate::store::PreviewRow;

/// The largest image Truce accepts, decodes or previews: 120 megapixels (a 108 MP phone
/// camera's photo fits; a 30,000 × 30,000 "image bomb" of a few kilobytes does not).
pub const MAX_IMAGE_PIXELS: u64 = 120_000_000;

/// The most memory one decode may take (RGBA of the largest image, and some).
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// What a file named by a record and not held yet says: a text-first export sent the record
/// ahead of it.
pub const PENDING: &str = "attachment pending: a later bundle from the device brings it";

/// A thumbnail's longer side, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;

/// How many leading bytes [`image_size_problem`] reads for an image's size.
pub const HEADER_BYTES: u64 = 256 * 1024;

/// Whether `media_type` is an image Truce can decode here (HEIC has no well-kept Rust decoder:
/// it gets a placeholder).
fn decodable(media_type: &str) -> bool {
    matches!(media_type, "image/jpeg" | "image/png" | "image/webp")
}

/// The image's size in pixels from its first bytes, when its header says it.
fn dimensions(head: &[u8]) -> Option<(u32, u32)> {
    let mut reader = ImageReader::new(Cursor::new(head))
        .with_guessed_format()
        .ok()?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.into_dimensions().ok()
}

/// Why an image whose first bytes are `head` is refused (more than [`MAX_IMAGE_PIXELS`]), or
/// `None`. The same rule on a device attaching it and on a coordinator importing it, so a
/// device never makes a bundle a coordinator refuses.
pub fn image_size_problem(media_type: &str, head: &[u8]) -> Option<String> {
    if !media_type.starts_with("image/") {
        return None;
    }
    let (w, h) = dimensions(head)?;
    let pixels = u64::from(w) * u64::from(h);
    (pixels > MAX_IMAGE_PIXELS).then(|| {
        format!(
            "it is an image of {w} × {h} pixels ({} megapixels), more than the {} megapixels Truce accepts (an \"image bomb\" is built this way); a real photo this large must be reduced by the one who took it",
            pixels / 1_000_000,
            MAX_IMAGE_PIXELS / 1_000_000
        )
    })
}

/// Decodes an image within the limits and scales it to fit `side` × `side`.
fn decode_fitting<R: BufRead + Seek>(
    input: R,
    side: u32,
) -> Result<((u32, u32), DynamicImage), String> {
    let mut reader = ImageReader::new(input)
        .with_guessed_format()
        .map_err(|e| format!("unreadable ({e})"))?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            "too large to decode here (over the decode limits)".to_owned()
        }
        other => format!("cannot be decoded ({other})"),
    })?;
    let size = (image.width(), image.height());
    if u64::from(size.0) * u64::from(size.1) > MAX_IMAGE_PIXELS {
        return Err("too large to decode here (over 120 megapixels)".into());
    }
    let fitted = if size.0 > side || size.1 > side {
        image.thumbnail(side, side)
    } else {
        image
    };
    Ok((size, fitted))
}

/// A thumbnail (at most [`THUMBNAIL_SIDE`]) of the image `input` holds, decoded within the
/// limits in memory; `None` when it cannot be decoded.
pub fn thumbnail_of<R: BufRead + Seek>(input: R) -> Option<Picture> {
    decode_fitting(input, THUMBNAIL_SIDE)
        .ok()
        .map(|(_, image)| picture_of(image))
}

fn picture_of(image: DynamicImage) -> Picture {
    let rgba = image.into_rgba8();
    Picture {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    }
}

impl Journal {
    /// The preview of the attachment `sha256` (hex): from the journal's cache, or made now
    /// (decoded within limits) and kept. Call it off the UI thread.
    pub fn attachment_preview(&self, sha256: &str) -> Result<AttachmentPreview, JournalError> {
        if !self.holds_attachment(sha256)? {
            return Ok(AttachmentPreview {
                sha256: sha256.to_owned(),
                media_type: String::new(),
                held: false,
                pixels: None,
                duration_ms: None,
                thumbnail: None,
                problem: Some(PENDING.into()),
            });
        }
        let stored = self.held_attachment(sha256)?;
        let row = match self.store.attachment_preview(&stored.sha256)? {
            Some(row) => row,
            None => {
                let row = self.make_preview(&stored)?;
                self.store.keep_attachment_preview(&row)?;
                row
            }
        };
        let thumbnail = match &row.thumbnail {
            Some(jpeg) => Some(picture_of(
                image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).map_err(
                    |e| JournalError::Damaged(format!("a kept thumbnail is unreadable: {e}")),
                )?,
            )),
            None => None,
        };
        Ok(AttachmentPreview {
            sha256: hex::encode(stored.sha256),
            media_type: stored.media_type,
            held: true,
            pixels: row.width.zip(row.height),
            duration_ms: row.duration_ms,
            thumbnail,
            problem: row.problem,
        })
    }

    /// The attachment `sha256` (a decodable photo) as a picture fitting `side` × `side`, for
    /// the full-screen viewer: made in memory, never kept.
    pub fn attachment_picture(&self, sha256: &str, side: u32) -> Result<Picture, JournalError> {
        let stored = self.held_attachment(sha256)?;
        if !decodable(&stored.media_type) {
            return Err(JournalError::Refused(format!(
                "{} files have no picture to show here; use Save a copy to open it elsewhere",
                stored.media_type
            )));
        }
        let reader = self.open_seekable_attachment(&stored)?;
        let (_, image) =
            decode_fitting(BufReader::new(reader), side).map_err(JournalError::Refused)?;
        Ok(picture_of(image))
    }

    fn open_seekable_attachment(
        &self,
        stored: &crate::store::StoredAttachment,
    ) -> Result<impl Read + Seek + Send + Sync + 'static + use<>, JournalError> {
        let identity = self.attachment_identity()?;
        files::open_seekable(&self.attachments_folder(), &stored.file, &identity.0)
            .map_err(|e| JournalError::io("read", &self.attachments_folder(), e))
    }

    fn make_preview(
        &self,
        stored: &crate::store::StoredAttachment,
    ) -> Result<PreviewRow, JournalError> {
        let mut row = PreviewRow {
            sha256: stored.sha256,
            width: None,
            height: None,
            duration_ms: None,
            thumbnail: None,
            problem: None,
            made_at: now().to_rfc3339(),
        };
        if stored.media_type == "image/heic" {
            row.problem = Some("HEIC photos have no preview here".into());
            return Ok(row);
        }
        if stored.media_type.starts_with("audio/") || stored.media_type.starts_with("video/") {
            let reader = self.open_seekable_attachment(stored)?;
            row.duration_ms = super::media::duration_ms(&stored.media_type, reader);
            if row.duration_ms.is_none() {
                row.problem = Some("its length is not in its header".into());
            }
            return Ok(row);
        }
        if !decodable(&stored.media_type) {
            return Ok(row);
        }
        let mut reader = self.open_seekable_attachment(stored)?;
        let mut head = Vec::new();
        reader
            .by_ref()
            .take(HEADER_BYTES)
            .read_to_end(&mut head)
            .map_err(|e| JournalError::io("read", &self.attachments_folder(), e))?;
        if let Some(problem) = image_size_problem(&stored.media_type, &head) {
            row.problem = Some(problem);
            return Ok(row);
        }
        reader
            .seek(std::io::SeekFrom::Start(0))
            .map_err(|e| JournalError::io("read", &self.attachments_folder(), e))?;
        match decode_fitting(BufReader::new(reader), THUMBNAIL_SIDE) {
            Ok(((w, h), thumb)) => {
                let mut jpeg = Vec::new();
                thumb
                    .into_rgb8()
                    .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
                    .map_err(|e| JournalError::Internal {
                        what: "make a thumbnail",
                        source: e.into(),
                    })?;
                row.width = Some(w);
                row.height = Some(h);
                row.thumbnail = Some(jpeg);
            }
            Err(problem) => row.problem = Some(problem),
        }
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KdfCost, Profile};
    use age::secrecy::SecretString;
    use truce_sync::Role;

    fn journal(dir: &std::path::Path) -> Journal {
        let profile = Profile {
            observer: "Ana".into(),
            team: None,
            role: Role::Monitor,
        };
        Journal::init(
            dir,
            &SecretString::from("correct horse".to_owned()),
            profile,
            KdfCost::WorkFactor(10),
        )
        .expect("init")
    }

    fn record_with(journal: &mut Journal, file: &std::path::Path) -> String {
        let input = truce_sync::parse_object(
            r#"{"kind":"violation","category":"shelling","method":"camera"}"#,
        )
        .expect("object");
        let saved = journal
            .record_with_attachments(input, &[file.to_path_buf()])
            .expect("record");
        saved.observation.attachments[0].sha256.clone()
    }

    /// A 12-megapixel photo gets a thumbnail of at most 320 px, kept (encrypted) in the journal
    /// and read back from there the second time; the full-screen picture is made to measure.
    #[test]
    fn a_photo_gets_a_kept_thumbnail_and_a_picture_to_measure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = journal(&dir.path().join("journal"));
        let photo = dir.path().join("crater.jpg");
        let image = image::RgbImage::from_fn(4000, 3000, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        image.save(&photo).expect("write JPEG");
        let sha = record_with(&mut journal, &photo);

        let preview = journal.attachment_preview(&sha).expect("preview");
        assert_eq!(preview.pixels, Some((4000, 3000)));
        assert_eq!(preview.problem, None);
        let thumb = preview.thumbnail.expect("a thumbnail");
        assert_eq!((thumb.width, thumb.height), (320, 240));
        assert_eq!(thumb.rgba.len(), 320 * 240 * 4);
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&sha, &mut hash).expect("hex");
        assert!(
            journal
                .store
                .attachment_preview(&hash)
                .expect("row")
                .is_some(),
            "kept"
        );
        let again = journal.attachment_preview(&sha).expect("preview");
        assert_eq!(
            again.thumbnail.map(|t| (t.width, t.height)),
            Some((320, 240))
        );

        let picture = journal.attachment_picture(&sha, 1600).expect("picture");
        assert_eq!((picture.width, picture.height), (1600, 1200));
    }

    /// An image bomb is refused when attached, before anything is saved; the same rule
    /// refuses it in a bundle (corpus case 47).
    #[test]
    fn an_image_bomb_is_refused_when_attached() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = journal(&dir.path().join("journal"));
        let bomb = dir.path().join("panorama.png");
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, 30_000, 30_000);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::One);
            let mut writer = encoder.write_header().expect("header");
            let mut stream = writer.stream_writer().expect("stream");
            let row = vec![0u8; 3750];
            for _ in 0..30_000 {
                std::io::Write::write_all(&mut stream, &row).expect("row");
            }
            stream.finish().expect("end");
        }
        std::fs::write(&bomb, &bytes).expect("write");
        let input = truce_sync::parse_object(
            r#"{"kind":"violation","category":"shelling","method":"camera"}"#,
        )
        .expect("object");
        let refused = journal
            .record_with_attachments(input, &[bomb])
            .expect_err("refused");
        assert!(
            refused.to_string().contains("30000 × 30000 pixels"),
            "{refused}"
        );
        assert_eq!(journal.count().expect("count"), 0);
        assert!(
            files::stored_files(&journal.paths.attachments)
                .expect("list")
                .is_empty(),
            "nothing stored"
        );
    }

    /// A voice note's tile says how long it is, read from the stored (encrypted) file.
    #[test]
    fn a_voice_note_gets_its_length() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = journal(&dir.path().join("journal"));
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/testdata/media/voice.ogg");
        let sha = record_with(&mut journal, &fixture);
        let preview = journal.attachment_preview(&sha).expect("preview");
        assert_eq!(preview.media_type, "audio/ogg");
        let ms = preview.duration_ms.expect("a length");
        assert!(ms.abs_diff(3500) <= 80, "{ms}");
        assert!(preview.thumbnail.is_none() && preview.problem.is_none());
    }

    /// A HEIC photo has no decoder here: a placeholder with the reason, no thumbnail.
    #[test]
    fn heic_gets_a_placeholder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = journal(&dir.path().join("journal"));
        let heic = dir.path().join("IMG_0001.HEIC");
        let mut bytes = vec![0, 0, 0, 0x18];
        bytes.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
        bytes.extend(std::iter::repeat_n(7u8, 5000));
        std::fs::write(&heic, &bytes).expect("write");
        let sha = record_with(&mut journal, &heic);
        let preview = journal.attachment_preview(&sha).expect("preview");
        assert_eq!(preview.media_type, "image/heic");
        assert!(preview.thumbnail.is_none());
        assert!(preview.problem.expect("a reason").contains("HEIC"));
    }
}
