//! Evidence attached to an observation: what a record says of each file (its SHA-256, size,
//! type, name, and what its EXIF tells), and the rules that description follows. The bytes
//! travel and rest elsewhere; the record, inside the signed hash chain, names them by hash.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// What is wrong with a record's attachments: the field at fault (`attachments[1].sha256`)
/// and what to do. Schema validation reports it as the field's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentError {
    /// The field at fault.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl AttachmentError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        AttachmentError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Largest attachment, in bytes, while the mission profile sets no limit (200 MiB).
pub const MAX_ATTACHMENT_BYTES: u64 = 200 * 1024 * 1024;
/// Most attachments one observation names.
pub const MAX_ATTACHMENTS: usize = 20;
/// Longest file name kept, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 255;

/// The media types Truce accepts, each as its content says (never as its name says): photos,
/// audio, video and PDF documents.
pub const MEDIA_TYPES: [&str; 10] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "audio/ogg",
    "audio/mp4",
    "audio/mpeg",
    "audio/wav",
    "video/mp4",
    "application/pdf",
];

/// One attached file as its record names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// SHA-256 of the original bytes, 64 lowercase hex digits. The bytes are kept unmodified,
    /// so this hash, inside the signed chain, vouches for them.
    pub sha256: String,
    /// Size of the original in bytes.
    pub size: u64,
    /// One of [`MEDIA_TYPES`], from the file's content.
    pub media_type: String,
    /// The file's name when it was attached (a plain name, no folders).
    pub name: String,
    /// When the photo or recording was made, as the camera or the file says, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<DateTime<FixedOffset>>,
    /// What the file's EXIF data says, for photos that carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exif: Option<ExifSummary>,
}

/// The EXIF fields shown beside a photo: camera time, GPS position, camera model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExifSummary {
    /// `DateTimeOriginal`, the camera's clock when the photo was taken (`2026-11-24
    /// 05:30:12`, no zone: `captured_at` has one when the camera wrote its offset too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_time: Option<String>,
    /// GPS latitude, WGS84 degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// GPS longitude, WGS84 degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Camera make and model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
}

/// Whether `text` is a SHA-256 as records write it: 64 lowercase hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks the attachments of one record: at most [`MAX_ATTACHMENTS`], each hash well formed
/// and named once, sizes within [`MAX_ATTACHMENT_BYTES`], accepted media types, and names that
/// are plain one-line file names (no folder, nothing a terminal or a path would act on).
pub fn validate(attachments: &[Attachment]) -> Result<(), AttachmentError> {
    let field = |i: usize, part: &str| format!("attachments[{i}].{part}");
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(AttachmentError::invalid(
            "attachments",
            format!(
                "names {} files; at most {MAX_ATTACHMENTS} per observation",
                attachments.len()
            ),
        ));
    }
    for (i, a) in attachments.iter().enumerate() {
        if !is_sha256_hex(&a.sha256) {
            return Err(AttachmentError::invalid(
                &field(i, "sha256"),
                "must be the file's SHA-256 as 64 lowercase hex digits",
            ));
        }
        if attachments[..i].iter().any(|b| b.sha256 == a.sha256) {
            return Err(AttachmentError::invalid(
                &field(i, "sha256"),
                "names a file this observation already names; attach each file once",
            ));
        }
        if a.size == 0 || a.size > MAX_ATTACHMENT_BYTES {
            return Err(AttachmentError::invalid(
                &field(i, "size"),
                format!(
                    "{} bytes; an attachment holds 1 byte to {} MiB",
                    a.size,
                    MAX_ATTACHMENT_BYTES / (1024 * 1024)
                ),
            ));
        }
        if !MEDIA_TYPES.contains(&a.media_type.as_str()) {
            return Err(AttachmentError::invalid(
                &field(i, "media_type"),
                format!(
                    "`{}` is not accepted; Truce takes {}",
                    a.media_type,
                    MEDIA_TYPES.join(", ")
                ),
            ));
        }
        check_name(&a.name).map_err(|why| AttachmentError::invalid(&field(i, "name"), why))?;
        if let Some(exif) = &a.exif {
            let bad_position = exif.lat.is_some_and(|v| !(-90.0..=90.0).contains(&v))
                || exif.lon.is_some_and(|v| !(-180.0..=180.0).contains(&v));
            if bad_position {
                return Err(AttachmentError::invalid(
                    &field(i, "exif"),
                    "holds a GPS position outside -90..90, -180..180 degrees",
                ));
            }
            for text in [&exif.camera_time, &exif.camera].into_iter().flatten() {
                if text.chars().count() > 200 || crate::text::line_control(text).is_some() {
                    return Err(AttachmentError::invalid(
                        &field(i, "exif"),
                        "holds a camera text longer than 200 characters or with control characters",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Why `name` is not a plain file name, if it is not.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(format!("must be 1 to {MAX_NAME_BYTES} bytes"));
    }
    if name == "." || name == ".." || name.contains(['/', '\\']) {
        return Err(format!(
            "`{name}` is not a plain file name; give the name without any folder"
        ));
    }
    if let Some(c) = crate::text::line_control(name) {
        return Err(crate::text::line_control_message(c));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(sha: char) -> Attachment {
        Attachment {
            sha256: sha.to_string().repeat(64),
            size: 5_000_000,
            media_type: "image/jpeg".into(),
            name: "IMG_0412.JPG".into(),
            captured_at: None,
            exif: None,
        }
    }

    #[test]
    fn a_plain_list_of_files_is_valid() {
        assert_eq!(validate(&[photo('a'), photo('b')]), Ok(()));
        assert_eq!(validate(&[]), Ok(()));
    }

    #[test]
    fn each_rule_names_the_field_at_fault() {
        let cases: Vec<(Vec<Attachment>, &str)> = vec![
            (vec![photo('a'), photo('a')], "attachments[1].sha256"),
            (
                vec![Attachment {
                    sha256: "A".repeat(64),
                    ..photo('a')
                }],
                "attachments[0].sha256",
            ),
            (
                vec![Attachment {
                    size: MAX_ATTACHMENT_BYTES + 1,
                    ..photo('a')
                }],
                "attachments[0].size",
            ),
            (
                vec![Attachment {
                    media_type: "application/x-msdownload".into(),
                    ..photo('a')
                }],
                "attachments[0].media_type",
            ),
            (
                vec![Attachment {
                    name: "../../.ssh/authorized_keys".into(),
                    ..photo('a')
                }],
                "attachments[0].name",
            ),
            (
                vec![Attachment {
                    name: "photo\u{1b}[2J.jpg".into(),
                    ..photo('a')
                }],
                "attachments[0].name",
            ),
            (
                vec![Attachment {
                    exif: Some(ExifSummary {
                        lat: Some(91.0),
                        ..ExifSummary::default()
                    }),
                    ..photo('a')
                }],
                "attachments[0].exif",
            ),
            (
                (0..=MAX_ATTACHMENTS as u8)
                    .map(|i| Attachment {
                        sha256: format!("{:064x}", i),
                        ..photo('a')
                    })
                    .collect(),
                "attachments",
            ),
        ];
        for (list, field) in cases {
            let err = validate(&list).expect_err(field);
            assert_eq!(err.field, field, "{}", err.message);
        }
    }
}
