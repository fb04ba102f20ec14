//! What an attached file is, from its content: the media type from its magic bytes (never its
//! name), and the EXIF summary of a photo (camera time, GPS position, camera model).

use std::io::{BufReader, Read, Seek};

use chrono::{DateTime, FixedOffset};
use truce_sync::attachment::ExifSummary;

/// How many leading bytes [`media_type`] looks at.
pub const SNIFF_BYTES: usize = 8192;

/// The accepted media type the leading bytes `head` show, or `None` for any other content.
/// Names the types as records write them (`truce_sync::attachment::MEDIA_TYPES`).
pub fn media_type(head: &[u8]) -> Option<&'static str> {
    let kind = infer::get(head)?;
    Some(match kind.mime_type() {
        "image/jpeg" => "image/jpeg",
        "image/png" => "image/png",
        "image/webp" => "image/webp",
        "image/heif" | "image/heic" | "image/heif-sequence" | "image/heic-sequence" => "image/heic",
        "audio/ogg" | "audio/opus" => "audio/ogg",
        "audio/m4a" | "audio/mp4" | "audio/x-m4a" => "audio/mp4",
        "audio/mpeg" => "audio/mpeg",
        "audio/x-wav" | "audio/wav" => "audio/wav",
        "video/mp4" => "video/mp4",
        "application/pdf" => "application/pdf",
        _ => return None,
    })
}

/// The usual file name extension of an accepted media type (for copies handed to people).
pub fn extension(media_type: &str) -> &'static str {
    match media_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "audio/ogg" => "ogg",
        "audio/mp4" => "m4a",
        "audio/mpeg" => "mp3",
        "audio/wav" => "wav",
        "video/mp4" => "mp4",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

/// The length of a recording or a video in milliseconds, from its container (Ogg, WAV, MP4 or
/// M4A, MP3), read with `symphonia` without decoding any of it; `None` for other types or when
/// the container does not say.
pub fn duration_ms<R>(media_type: &str, reader: R) -> Option<u64>
where
    R: std::io::Read + std::io::Seek + Send + Sync + 'static,
{
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    let extension = match media_type {
        "audio/ogg" => "ogg",
        "audio/wav" => "wav",
        "audio/mp4" => "m4a",
        "video/mp4" => "mp4",
        "audio/mpeg" => "mp3",
        _ => return None,
    };
    let mut reader = reader;
    let len = reader.seek(std::io::SeekFrom::End(0)).ok()?;
    reader.seek(std::io::SeekFrom::Start(0)).ok()?;
    let source = MediaSourceStream::new(Box::new(SeekableSource(reader, len)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(extension);
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            source,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .ok()?;
    probed
        .format
        .tracks()
        .iter()
        .filter_map(|track| {
            let params = &track.codec_params;
            let frames = params.n_frames?;
            let time = params
                .time_base
                .or_else(|| {
                    params
                        .sample_rate
                        .map(|r| symphonia::core::units::TimeBase::new(1, r))
                })?
                .calc_time(frames);
            Some(time.seconds * 1000 + (time.frac * 1000.0).round() as u64)
        })
        .max()
}

/// A seekable reader of known length as symphonia's media source.
struct SeekableSource<R>(R, u64);

impl<R: std::io::Read> std::io::Read for SeekableSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: std::io::Seek> std::io::Seek for SeekableSource<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.0.seek(pos)
    }
}

impl<R: std::io::Read + std::io::Seek + Send + Sync> symphonia::core::io::MediaSource
    for SeekableSource<R>
{
    fn is_seekable(&self) -> bool {
        true
    }
    fn byte_len(&self) -> Option<u64> {
        Some(self.1)
    }
}

/// What a photo's EXIF data says: the summary shown beside it, and when it was taken when the
/// camera also wrote its UTC offset (`OffsetTimeOriginal`; without it the camera's clock names
/// no zone, and only the summary keeps its time).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhotoFacts {
    /// Camera time, GPS position, camera model.
    pub exif: Option<ExifSummary>,
    /// When the photo was taken, with the camera's offset.
    pub captured_at: Option<DateTime<FixedOffset>>,
}

/// The EXIF facts of a photo read from `file`: nothing for other media and for photos without
/// EXIF data.
pub fn photo_facts<R: Read + Seek>(media_type: &str, file: R) -> PhotoFacts {
    if !media_type.starts_with("image/") {
        return PhotoFacts::default();
    }
    let Ok(exif) = exif::Reader::new().read_from_container(&mut BufReader::new(file)) else {
        return PhotoFacts::default();
    };
    let summary = summary_of(&exif);
    let captured_at = summary.as_ref().and_then(|s| {
        let time = s.camera_time.as_deref()?;
        let offset = exif
            .get_field(exif::Tag::OffsetTimeOriginal, exif::In::PRIMARY)?
            .display_value()
            .to_string();
        let text = format!("{} {}", time, offset.trim_matches('"').trim());
        DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S %:z").ok()
    });
    PhotoFacts {
        exif: summary,
        captured_at,
    }
}

fn summary_of(exif: &exif::Exif) -> Option<ExifSummary> {
    let text = |tag: exif::Tag| {
        exif.get_field(tag, exif::In::PRIMARY).map(|f| {
            f.display_value()
                .to_string()
                .trim_matches('"')
                .trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
    };
    let degrees = |tag: exif::Tag, reference: exif::Tag, negative: &str| -> Option<f64> {
        let field = exif.get_field(tag, exif::In::PRIMARY)?;
        let exif::Value::Rational(parts) = &field.value else {
            return None;
        };
        let [d, m, s] = parts.get(..3)?.try_into().ok()?;
        let value = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let sign = if text(reference).is_some_and(|r| r.starts_with(negative)) {
            -1.0
        } else {
            1.0
        };
        value.is_finite().then_some(sign * value)
    };
    let camera = match (text(exif::Tag::Make), text(exif::Tag::Model)) {
        (Some(make), Some(model)) if model.starts_with(&make) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model),
    }
    .filter(|c| !c.is_empty());
    let lat = degrees(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, "S")
        .filter(|v| (-90.0..=90.0).contains(v));
    let lon = degrees(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, "W")
        .filter(|v| (-180.0..=180.0).contains(v));
    let summary = ExifSummary {
        camera_time: text(exif::Tag::DateTimeOriginal).filter(|t| !t.is_empty()),
        lat: lat.and(lon).and(lat),
        lon: lat.and(lon),
        camera,
    };
    (summary != ExifSummary::default()).then_some(summary)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Recordings and a video made by ffmpeg (tests/testdata/media/README.md): each one's
    /// container says how long it is, without decoding it.
    #[test]
    fn recordings_and_videos_say_their_length() {
        let media =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/testdata/media");
        for (file, expected_ms) in [
            ("voice.ogg", 3500),
            ("voice.wav", 3500),
            ("voice.m4a", 3500),
            ("voice.mp3", 3500),
            ("clip.mp4", 2500),
        ] {
            let bytes = std::fs::read(media.join(file)).expect("fixture");
            let kind = media_type(&bytes).expect("accepted type");
            let got = duration_ms(kind, std::io::Cursor::new(bytes))
                .unwrap_or_else(|| panic!("{file} ({kind}): no length"));
            assert!(
                got.abs_diff(expected_ms) <= 80,
                "{file}: {got} ms, expected about {expected_ms}"
            );
        }
        assert_eq!(
            duration_ms("application/pdf", std::io::Cursor::new(b"%PDF".to_vec())),
            None
        );
        assert_eq!(
            duration_ms("audio/ogg", std::io::Cursor::new(b"OggS garbage".to_vec())),
            None
        );
    }

    #[test]
    fn the_content_names_the_type_not_the_name() {
        assert_eq!(
            media_type(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"),
            Some("image/jpeg")
        );
        assert_eq!(
            media_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(media_type(b"%PDF-1.7\n%\xe2\xe3"), Some("application/pdf"));
        assert_eq!(media_type(b"OggS\0\x02\0\0\0\0\0\0\0\0"), Some("audio/ogg"));
        assert_eq!(media_type(b"MZ\x90\0\x03\0\0\0"), None, "a Windows program");
        assert_eq!(media_type(b"just some text"), None);
    }

    /// A JPEG whose EXIF segment (written by kamadak-exif) holds `fields`.
    fn jpeg_with_exif(fields: &[exif::Field]) -> Vec<u8> {
        jpeg_with_exif_and_thumbnail(fields, None)
    }

    /// A JPEG holding only an EXIF segment with `fields`, and `thumbnail` (a JPEG) in IFD1.
    pub(crate) fn jpeg_with_exif_and_thumbnail(
        fields: &[exif::Field],
        thumbnail: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut writer = exif::experimental::Writer::new();
        for f in fields {
            writer.push_field(f);
        }
        if let Some(thumbnail) = thumbnail {
            writer.set_jpeg(thumbnail, exif::In::THUMBNAIL);
        }
        let mut tiff = std::io::Cursor::new(Vec::new());
        writer.write(&mut tiff, false).expect("exif");
        let tiff = tiff.into_inner();
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
        jpeg.extend_from_slice(&u16::try_from(tiff.len() + 8).expect("short").to_be_bytes());
        jpeg.extend_from_slice(b"Exif\0\0");
        jpeg.extend_from_slice(&tiff);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        jpeg
    }

    fn ascii(tag: exif::Tag, text: &str) -> exif::Field {
        exif::Field {
            tag,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Ascii(vec![text.as_bytes().to_vec()]),
        }
    }

    fn degrees(tag: exif::Tag, d: u32, m: u32, s_100: u32) -> exif::Field {
        exif::Field {
            tag,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Rational(vec![
                exif::Rational::from((d, 1)),
                exif::Rational::from((m, 1)),
                exif::Rational::from((s_100, 100)),
            ]),
        }
    }

    #[test]
    fn a_photo_s_exif_gives_camera_time_position_and_model() {
        let jpeg = jpeg_with_exif(&[
            ascii(exif::Tag::Make, "Canon"),
            ascii(exif::Tag::Model, "Canon EOS R6"),
            ascii(exif::Tag::DateTimeOriginal, "2026:11:24 05:30:12"),
            ascii(exif::Tag::OffsetTimeOriginal, "+03:00"),
            degrees(exif::Tag::GPSLatitude, 48, 30, 3600),
            ascii(exif::Tag::GPSLatitudeRef, "N"),
            degrees(exif::Tag::GPSLongitude, 37, 45, 0),
            ascii(exif::Tag::GPSLongitudeRef, "W"),
        ]);
        assert_eq!(media_type(&jpeg), Some("image/jpeg"));
        let facts = photo_facts("image/jpeg", std::io::Cursor::new(&jpeg));
        let exif = facts.exif.expect("a summary");
        assert_eq!(exif.camera.as_deref(), Some("Canon EOS R6"));
        assert_eq!(exif.camera_time.as_deref(), Some("2026-11-24 05:30:12"));
        let (lat, lon) = (exif.lat.expect("lat"), exif.lon.expect("lon"));
        assert!((lat - 48.51).abs() < 1e-9, "{lat}");
        assert!((lon + 37.75).abs() < 1e-9, "west is negative: {lon}");
        assert_eq!(
            facts.captured_at.map(|t| t.to_rfc3339()),
            Some("2026-11-24T05:30:12+03:00".to_owned())
        );

        // Without an offset the camera's time names no zone: no `captured_at`.
        let jpeg = jpeg_with_exif(&[ascii(exif::Tag::DateTimeOriginal, "2026:11:24 05:30:12")]);
        let facts = photo_facts("image/jpeg", std::io::Cursor::new(&jpeg));
        assert_eq!(facts.captured_at, None);
        assert!(facts.exif.is_some());
        // Not a photo, or no EXIF: nothing.
        assert_eq!(
            photo_facts("application/pdf", std::io::Cursor::new(&jpeg)),
            PhotoFacts::default()
        );
        assert_eq!(
            photo_facts("image/jpeg", std::io::Cursor::new(b"\xFF\xD8\xFF\xD9")),
            PhotoFacts::default()
        );
    }
}
