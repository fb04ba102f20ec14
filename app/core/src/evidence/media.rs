//! What an attached file is, from its content: the media type from its magic bytes (never its
//! name), and the EXIF summary of a photo (camera time, GPS position, camera model).

use std::io::{BufReader, Read, Seek};

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

/// The EXIF summary of a photo read from `file`, if it carries EXIF data with any of the
/// fields shown; `None` for other media and for photos without them.
pub fn exif_summary<R: Read + Seek>(media_type: &str, file: R) -> Option<ExifSummary> {
    if !media_type.starts_with("image/") {
        return None;
    }
    let exif = exif::Reader::new()
        .read_from_container(&mut BufReader::new(file))
        .ok()?;
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
mod tests {
    use super::*;

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
}
