//! Fuzz target: the inner layer of a bundle (JSON Lines after age and zstd) must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truce_sync::bundle::{BundleReader, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_plain_bytes: 1 << 20,
        ..Limits::default()
    };
    if let Ok(mut reader) = BundleReader::from_plaintext(data, limits) {
        while let Ok(Some(_)) = reader.next_entry() {}
    }
});
