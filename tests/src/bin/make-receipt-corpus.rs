//! Writes the hostile-receipt corpus to tests/testdata/receipts: the device journal the
//! receipts are for (`device/`), one file per case, and expected.json with the outcome each
//! must have when the device imports them in order.
//!
//! `cargo run -p truce-tests --bin make-receipt-corpus` (run again only when the cases change:
//! it makes a new device, so every file changes).

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::json;
use truce_tests::receipt_corpus;

fn main() -> Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/receipts");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let device = receipt_corpus::make_device(&dir.join("device"))?;
    let mut expected = Vec::new();
    for case in receipt_corpus::cases(&device)? {
        std::fs::write(dir.join(&case.name), &case.bytes)?;
        let mut value = serde_json::to_value(&case.expect)?;
        value["file"] = json!(case.name);
        expected.push(value);
    }
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_string_pretty(&expected)? + "\n",
    )?;
    println!("wrote {} cases to {}", expected.len(), dir.display());
    Ok(())
}
