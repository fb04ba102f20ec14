//! Writes the hostile-input bundle corpus to tests/testdata/bundles: a test coordinator key,
//! one file per case, and expected.json with the outcome each must have.
//!
//! `cargo run -p truce-tests --bin make-corpus` (run again only when the cases change).

use std::path::PathBuf;

use age::secrecy::ExposeSecret;
use anyhow::{Context, Result};
use serde_json::json;

fn main() -> Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/bundles");
    std::fs::create_dir_all(&dir)?;
    let key_path = dir.join("coordinator.key");
    // Reuse the committed test key, so regenerating only changes the cases that changed.
    let identity: age::x25519::Identity = match std::fs::read_to_string(&key_path) {
        Ok(text) => text
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .context("coordinator.key holds no identity")?
            .parse()
            .map_err(|e| anyhow::anyhow!("coordinator.key: {e}"))?,
        Err(_) => age::x25519::Identity::generate(),
    };
    std::fs::write(
        &key_path,
        format!(
            "# TEST ONLY: the coordinator identity the hostile corpus is encrypted to. Never use it for a mission.\n# public key: {}\n{}\n",
            identity.to_public(),
            identity.to_string().expose_secret()
        ),
    )?;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "age") {
            std::fs::remove_file(path)?;
        }
    }
    let mut expected = Vec::new();
    for case in truce_tests::corpus::cases(&identity.to_public().to_string()) {
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
