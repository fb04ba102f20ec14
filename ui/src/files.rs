//! Files the screens read or suggest: a mission profile file and a coordinator card (both
//! size-capped), the default folder to write exports to (the first removable medium), and the
//! desktop's file chooser.

use std::io::Read;
use std::path::{Path, PathBuf};

use truce_core::journal::JournalError;

/// The largest mission profile file read.
pub const PROFILE_MAX_BYTES: u64 = 1024 * 1024;

/// Reads a mission profile file, refusing anything larger than [`PROFILE_MAX_BYTES`].
pub(crate) fn read_profile(path: &Path) -> Result<String, JournalError> {
    let refused =
        |e: std::io::Error| JournalError::Refused(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(refused)?;
    let mut text = String::new();
    file.take(PROFILE_MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(refused)?;
    if text.len() as u64 > PROFILE_MAX_BYTES {
        return Err(JournalError::Refused(format!(
            "{} is larger than 1 MiB: it is not a mission profile",
            path.display()
        )));
    }
    Ok(text)
}

/// Checks that `dir`, where the Sync screen writes `what` (receipts, bundles for HQ, a signed
/// profile), is a folder: the stick's.
pub(crate) fn stick_folder(dir: &Path, what: &str) -> Result<(), JournalError> {
    if dir.is_dir() {
        return Ok(());
    }
    Err(JournalError::Refused(format!(
        "{} is not a folder: {what} go into the folder of the stick; create it or mount the stick",
        dir.display()
    )))
}

/// The largest coordinator card file read: a card is a few hundred bytes.
const CARD_MAX_BYTES: u64 = 64 * 1024;

/// Reads and parses a coordinator card file (`truce keys --card`).
pub(crate) fn read_card(path: &Path) -> Result<truce_sync::profile::CoordinatorCard, JournalError> {
    let refused =
        |e: std::io::Error| JournalError::Refused(format!("cannot read {}: {e}", path.display()));
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(refused)?
        .take(CARD_MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(refused)?;
    if text.len() as u64 > CARD_MAX_BYTES {
        return Err(JournalError::Refused(format!(
            "{} is larger than 64 KiB: it is not a coordinator card",
            path.display()
        )));
    }
    truce_sync::profile::CoordinatorCard::parse(&text).map_err(|e| {
        JournalError::Refused(format!(
            "{} is not a usable coordinator card ({e}); ask for the file `truce keys --card` wrote",
            path.display()
        ))
    })
}

/// The first removable-media folder (USB stick, SD card) under `/media/$USER`,
/// `/run/media/$USER` or `/media`, else the home folder.
pub(crate) fn default_export_dir() -> Option<PathBuf> {
    let user = std::env::var("USER").unwrap_or_default();
    let mut roots = Vec::new();
    if !user.is_empty() {
        roots.push(Path::new("/media").join(&user));
        roots.push(Path::new("/run/media").join(&user));
    }
    roots.push(PathBuf::from("/media"));
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            // /media itself holds the per-user folders searched above.
            .filter(|p| user.is_empty() || p.file_name() != Some(user.as_ref()))
            .collect();
        dirs.sort();
        if let Some(first) = dirs.into_iter().next() {
            return Some(first);
        }
    }
    std::env::var_os("HOME").map(PathBuf::from)
}

/// What a file chooser is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Choose {
    /// Evidence files to attach (several).
    Attachments,
    /// A folder to export bundles into.
    ExportFolder,
    /// A mission profile file.
    ProfileFile,
    /// A coordinator's card file.
    CardFile,
}

/// What the desktop's file chooser answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chosen {
    /// The files or folder picked.
    Paths(Vec<PathBuf>),
    /// The user closed the chooser without picking.
    Cancelled,
}

/// Asks the desktop's file chooser through the XDG desktop portal (the convention in Flatpak
/// and on Linux phones). Blocks until the user answers: call it on a thread of its own.
/// `Err` says why there is no portal here (no D-Bus session, no portal service), and the
/// caller falls back to the in-app picker.
#[cfg(target_os = "linux")]
pub(crate) fn choose_with_portal(what: Choose, title: &str) -> Result<Chosen, String> {
    use ashpd::desktop::file_chooser::SelectedFiles;
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && std::env::var_os("XDG_RUNTIME_DIR").is_none()
    {
        return Err("no D-Bus session".into());
    }
    let request = SelectedFiles::open_file()
        .title(title)
        .modal(true)
        .multiple(what == Choose::Attachments)
        .directory(what == Choose::ExportFolder);
    let answer = async_io::block_on(async move { request.send().await?.response() });
    match answer {
        Ok(files) => Ok(Chosen::Paths(
            files
                .uris()
                .iter()
                .filter_map(|uri| uri.to_file_path().ok())
                .collect(),
        )),
        Err(ashpd::Error::Response(ashpd::desktop::ResponseError::Cancelled)) => {
            Ok(Chosen::Cancelled)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// No portal outside Linux: the in-app picker.
#[cfg(not(target_os = "linux"))]
pub(crate) fn choose_with_portal(_what: Choose, _title: &str) -> Result<Chosen, String> {
    Err("no desktop portal on this platform".into())
}
