//! "From camera card": the photos on a removable medium's `DCIM/` taken within ±30 minutes of an
//! observation (by the camera's EXIF time, else the file's time), with thumbnails made in memory
//! (the camera's own EXIF thumbnail when it wrote one, else a decode within limits) for a
//! monitor to tick. Nothing is read into the journal until the observation is saved.

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};

use super::{media, preview};
use crate::journal::{Journal, JournalError};
use crate::model::{CardPhoto, Picture};
use crate::period::MissionZone;

/// How far from the observation's time a photo may have been taken.
pub const WINDOW_MINUTES: i64 = 30;

/// Most photos listed (the nearest in time first).
pub const MAX_LISTED: usize = 60;

/// Most files looked at on one card.
const MAX_SCANNED: usize = 5_000;

/// Where removable media are mounted: `/media/USER/CARD`, `/run/media/USER/CARD` (udisks),
/// `/mnt/...`, and on Android `/storage/XXXX-XXXX`. Only those that exist.
pub fn default_media_roots() -> Vec<PathBuf> {
    ["/media", "/run/media", "/mnt", "/storage"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .collect()
}

/// The `DCIM` folders of the cards mounted under `roots` (at `ROOT/DCIM`, `ROOT/CARD/DCIM` or
/// `ROOT/USER/CARD/DCIM`), without following links.
pub fn camera_card_folders(roots: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
        let dcim = dir.join("DCIM");
        if dcim.is_dir() && !found.contains(&dcim) {
            found.push(dcim);
        }
        if depth == 0 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            // `file_type` does not follow links: a link to elsewhere is not walked.
            if entry.file_type().is_ok_and(|t| t.is_dir()) && entry.file_name() != "DCIM" {
                walk(&entry.path(), depth - 1, found);
            }
        }
    }
    let mut found = Vec::new();
    for root in roots {
        walk(root, 2, &mut found);
    }
    found.sort();
    found
}

/// The photo files in a `DCIM` folder and its camera folders (`100CANON/`), by content.
fn photo_files(dcim: &Path) -> Vec<(PathBuf, &'static str, u64, std::time::SystemTime)> {
    let mut files = Vec::new();
    let mut folders = vec![dcim.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dcim) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                folders.push(entry.path());
            }
        }
    }
    let mut scanned = 0;
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            if scanned >= MAX_SCANNED {
                return files;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() || entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            scanned += 1;
            let mut head = Vec::new();
            let read = std::fs::File::open(entry.path())
                .and_then(|f| f.take(media::SNIFF_BYTES as u64).read_to_end(&mut head));
            let Some(media_type) = read.ok().and_then(|_| media::media_type(&head)) else {
                continue;
            };
            if media_type.starts_with("image/") {
                let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                files.push((entry.path(), media_type, meta.len(), modified));
            }
        }
    }
    files
}

/// When a photo was taken: the camera's EXIF time (with its offset when it wrote one, else
/// read in `camera_clock`), else the file's time. `true` when the time is the camera's.
fn taken_at(
    path: &Path,
    media_type: &str,
    modified: std::time::SystemTime,
    camera_clock: &dyn Fn(NaiveDateTime) -> Option<DateTime<Utc>>,
) -> (DateTime<Utc>, bool) {
    let facts = std::fs::File::open(path)
        .map(|f| media::photo_facts(media_type, f))
        .unwrap_or_default();
    if let Some(at) = facts.captured_at {
        return (at.with_timezone(&Utc), true);
    }
    let camera = facts
        .exif
        .and_then(|e| e.camera_time)
        .and_then(|t| NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S").ok())
        .and_then(camera_clock);
    match camera {
        Some(at) => (at, true),
        None => (DateTime::<Utc>::from(modified), false),
    }
}

/// A thumbnail of a photo on the card, made in memory: the camera's EXIF thumbnail, else the
/// photo decoded within the limits and scaled.
fn card_thumbnail(path: &Path, media_type: &str) -> Option<Picture> {
    let file = std::fs::File::open(path).ok()?;
    if let Some(picture) = exif_thumbnail(&file) {
        return Some(picture);
    }
    let mut reader = std::io::BufReader::new(file);
    let mut head = Vec::new();
    (&mut reader)
        .take(preview::HEADER_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    if preview::image_size_problem(media_type, &head).is_some() {
        return None;
    }
    reader.seek(std::io::SeekFrom::Start(0)).ok()?;
    preview::thumbnail_of(reader)
}

/// The JPEG thumbnail a camera wrote in the photo's EXIF (IFD1), decoded.
fn exif_thumbnail(file: &std::fs::File) -> Option<Picture> {
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::BufReader::new(file))
        .ok()?;
    let offset = exif
        .get_field(exif::Tag::JPEGInterchangeFormat, exif::In::THUMBNAIL)?
        .value
        .get_uint(0)? as usize;
    let length = exif
        .get_field(exif::Tag::JPEGInterchangeFormatLength, exif::In::THUMBNAIL)?
        .value
        .get_uint(0)? as usize;
    let jpeg = exif.buf().get(offset..offset.checked_add(length)?)?;
    preview::thumbnail_of(std::io::Cursor::new(jpeg))
}

/// The photos of the cards' `dcims` taken within [`WINDOW_MINUTES`] of `around`, nearest
/// first, each with a thumbnail when one can be made.
pub fn photos_near(
    dcims: &[PathBuf],
    around: DateTime<Utc>,
    camera_clock: &dyn Fn(NaiveDateTime) -> Option<DateTime<Utc>>,
) -> Vec<CardPhoto> {
    let window = chrono::Duration::minutes(WINDOW_MINUTES);
    let mut near: Vec<(chrono::Duration, CardPhoto, &'static str)> = Vec::new();
    for dcim in dcims {
        for (path, media_type, size, modified) in photo_files(dcim) {
            let (at, from_camera) = taken_at(&path, media_type, modified, camera_clock);
            let distance = (at - around).abs();
            if distance > window {
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            near.push((
                distance,
                CardPhoto {
                    path,
                    name,
                    media_type: media_type.to_owned(),
                    size,
                    taken_at: at,
                    time_from_camera: from_camera,
                    thumbnail: None,
                },
                media_type,
            ));
        }
    }
    near.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    near.into_iter()
        .take(MAX_LISTED)
        .map(|(_, mut photo, media_type)| {
            photo.thumbnail = card_thumbnail(&photo.path, media_type);
            photo
        })
        .collect()
}

impl Journal {
    /// "From camera card": the photos on the cards mounted under `roots` (see
    /// [`default_media_roots`]) taken within ±30 minutes of `around`. A camera's clock without
    /// an offset is read in the mission's time zone when the profile names one, else in this
    /// device's. Makes thumbnails: call it off the UI thread.
    pub fn camera_card_photos(
        &self,
        roots: &[PathBuf],
        around: DateTime<Utc>,
    ) -> Result<Vec<CardPhoto>, JournalError> {
        let zone = self.mission_zone();
        let clock = move |local: NaiveDateTime| match zone {
            MissionZone::Named(_) => Some(zone.moment(local)),
            MissionZone::Utc => Local
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.with_timezone(&Utc)),
        };
        Ok(photos_near(&camera_card_folders(roots), around, &clock))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 60])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("JPEG");
        out.into_inner()
    }

    /// A camera's JPEG: EXIF with its time (and offset, if given) and an embedded thumbnail.
    fn camera_jpeg(time: &str, offset: Option<&str>, thumbnail: &[u8]) -> Vec<u8> {
        let ascii = |tag: exif::Tag, text: &str| exif::Field {
            tag,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Ascii(vec![text.as_bytes().to_vec()]),
        };
        let mut fields = vec![ascii(exif::Tag::DateTimeOriginal, time)];
        if let Some(offset) = offset {
            fields.push(ascii(exif::Tag::OffsetTimeOriginal, offset));
        }
        crate::evidence::media::tests::jpeg_with_exif_and_thumbnail(&fields, Some(thumbnail))
    }

    /// A card mounted as `/media/USER/CARD`: the photos within ±30 minutes are listed nearest
    /// first, by the camera's time with its offset, by the camera's clock read in the given
    /// zone, or by the file's time; others and non-photos are not; each has a thumbnail.
    #[test]
    fn photos_near_the_observation_are_listed_nearest_first_with_thumbnails() {
        let root = tempfile::tempdir().expect("tempdir");
        let dcim = root.path().join("ana/CARD/DCIM");
        let folder = dcim.join("100CANON");
        std::fs::create_dir_all(&folder).expect("card");
        let thumb = jpeg(160, 120);
        // 05:40 +02:00: ten minutes after the observation (05:30 +02:00 = 03:30 UTC).
        std::fs::write(
            folder.join("IMG_0001.JPG"),
            camera_jpeg("2026:11:24 05:40:00", Some("+02:00"), &thumb),
        )
        .expect("photo");
        // No offset: the camera's clock, read here in UTC+2, says 05:05: 25 minutes before.
        std::fs::write(
            folder.join("IMG_0002.JPG"),
            camera_jpeg("2026:11:24 05:05:00", None, &thumb),
        )
        .expect("photo");
        // Two hours later by its camera: not listed.
        std::fs::write(
            folder.join("IMG_0003.JPG"),
            camera_jpeg("2026:11:24 07:40:00", Some("+02:00"), &thumb),
        )
        .expect("photo");
        // No EXIF: the file's time, 15 minutes after; thumbnail decoded from the photo.
        let plain = folder.join("IMG_0004.JPG");
        std::fs::write(&plain, jpeg(640, 480)).expect("photo");
        let around = DateTime::parse_from_rfc3339("2026-11-24T03:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let file_time: std::time::SystemTime = (around + chrono::Duration::minutes(15)).into();
        std::fs::File::options()
            .write(true)
            .open(&plain)
            .and_then(|f| f.set_modified(file_time))
            .expect("file time");
        std::fs::write(folder.join("notes.txt"), "not a photo").expect("text");

        let dcims = camera_card_folders(&[root.path().to_path_buf()]);
        assert_eq!(dcims, vec![dcim]);
        let plus_two = |local: NaiveDateTime| Some(local.and_utc() - chrono::Duration::hours(2));
        let found = photos_near(&dcims, around, &plus_two);
        let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["IMG_0001.JPG", "IMG_0004.JPG", "IMG_0002.JPG"]);
        assert!(found[0].time_from_camera && !found[1].time_from_camera);
        assert!(found[2].time_from_camera);
        let sizes: Vec<Option<(u32, u32)>> = found
            .iter()
            .map(|p| p.thumbnail.as_ref().map(|t| (t.width, t.height)))
            .collect();
        assert_eq!(
            sizes,
            [Some((160, 120)), Some((320, 240)), Some((160, 120))],
            "the camera's EXIF thumbnail, else the photo scaled"
        );
    }

    /// No card: nothing, and no error.
    #[test]
    fn no_card_lists_nothing() {
        let root = tempfile::tempdir().expect("tempdir");
        assert!(camera_card_folders(&[root.path().to_path_buf()]).is_empty());
        assert!(camera_card_folders(&[root.path().join("missing")]).is_empty());
    }
}
