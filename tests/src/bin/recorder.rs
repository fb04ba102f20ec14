//! Test helper for the crash-durability test: opens a journal and records observations in a
//! loop, printing each id only after `record` returned (the save is durable), until killed.
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
    for n in 0u64.. {
        let observation = json!({"kind": "violation", "category": "shelling", "method": "heard",
                                 "event_count": n, "narrative": format!("crash test {n}")});
        let serde_json::Value::Object(map) = observation else {
            unreachable!("a JSON object literal")
        };
        let saved = journal.record(map)?;
        writeln!(out, "{}", saved.observation.id)?;
        out.flush()?;
    }
    Ok(())
}
