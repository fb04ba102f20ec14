//! Test helper for the crash-durability test: opens a journal and records observations in a
//! loop, printing each id only after `record` returned (the save is durable), until killed.
//! Every tenth observation comes with an attached photo (a new file each time), so kills also
//! land in the middle of an attachment's save.
//!
//! `recorder DATA_DIR` with the passphrase in TRUCE_PASSPHRASE.

use std::io::Write;

use age::secrecy::SecretString;
use anyhow::{Context, Result};
use serde_json::json;

fn main() -> Result<()> {
    let dir = std::env::args()
        .nth(1)
        .context("usage: recorder DATA_DIR")?;
    let passphrase = std::env::var("TRUCE_PASSPHRASE").context("TRUCE_PASSPHRASE is not set")?;
    let mut journal =
        truce_core::Journal::open(std::path::Path::new(&dir), &SecretString::from(passphrase))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let photos = tempfile::tempdir()?;
    for n in 0u64.. {
        let observation = json!({"kind": "violation", "category": "shelling", "method": "heard",
                                 "event_count": n, "narrative": format!("crash test {n}")});
        let serde_json::Value::Object(map) = observation else {
            unreachable!("a JSON object literal")
        };
        let saved = if n % 10 == 9 {
            let photo = photos.path().join(format!("IMG_{n}.JPG"));
            let mut bytes = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
            bytes.extend(n.to_le_bytes().iter().cycle().take(16 * 1024));
            std::fs::write(&photo, bytes)?;
            journal.record_with_attachments(map, &[photo])?
        } else {
            journal.record(map)?
        };
        writeln!(out, "{}", saved.observation.id)?;
        out.flush()?;
    }
    Ok(())
}
